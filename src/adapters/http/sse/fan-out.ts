/**
 * The live side of SSE: ONE change-feed subscription for all open streams of this process (held
 * while any is open), the streams indexed by property (guests also by conversation), and each
 * entry rendered and encoded once per viewer kind (frames.ts `viewKeyOf`), not once per stream:
 * ten thousand streams of one property cost one JSON.stringify per kind and a write each.
 */
import { type ChangeEntry, type ChangeFeed, parseChangeId } from '../../../application/ports/change-feed.js';
import { type Audience, frameFor, viewKeyOf, visibleTo } from './frames.js';
import { EncodedFrame } from './sse-stream.js';

/** A change id, parsed once per entry (not once per stream). */
export type ChangePosition = readonly [bigint, bigint];

export interface LiveStream {
  readonly audience: Audience;
  /** A visible entry, in feed order; `frame` is null when this viewer gets nothing of it (the id still counts as seen). */
  receive(position: ChangePosition, frame: EncodedFrame | null): void;
}

interface PropertyStreams {
  employees: Set<LiveStream>;
  guestsByConversation: Map<string, Set<LiveStream>>;
}

export class FanOut {
  private readonly byProperty = new Map<string, PropertyStreams>();
  private size = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly feed: ChangeFeed) {}

  /** Live entries for `stream` from now on; returns what stops them (idempotent). */
  add(stream: LiveStream): () => void {
    this.unsubscribe ??= this.feed.subscribe((entry) => this.deliver(entry));
    const { audience } = stream;
    let property = this.byProperty.get(audience.propertyId);
    if (!property) this.byProperty.set(audience.propertyId, (property = { employees: new Set(), guestsByConversation: new Map() }));
    const set = audience.kind === 'employee' ? property.employees : this.guestSet(property, audience.conversationId);
    set.add(stream);
    this.size++;
    return () => {
      if (!set.delete(stream)) return;
      if (audience.kind === 'guest' && set.size === 0) property.guestsByConversation.delete(audience.conversationId);
      if (property.employees.size === 0 && property.guestsByConversation.size === 0) this.byProperty.delete(audience.propertyId);
      if (--this.size === 0) this.stop();
    };
  }

  private guestSet(property: PropertyStreams, conversationId: string): Set<LiveStream> {
    let set = property.guestsByConversation.get(conversationId);
    if (!set) property.guestsByConversation.set(conversationId, (set = new Set()));
    return set;
  }

  private stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private deliver(entry: ChangeEntry): void {
    const property = this.byProperty.get(entry.propertyId);
    const position = parseChangeId(entry.id);
    if (!property || !position) return;
    const frames = new Map<string, EncodedFrame | null>();
    const offer = (stream: LiveStream) => {
      if (!visibleTo(entry, stream.audience)) return;
      const key = viewKeyOf(entry, stream.audience);
      let frame = frames.get(key);
      if (frame === undefined) {
        const text = frameFor(entry, stream.audience);
        frames.set(key, (frame = text === null ? null : new EncodedFrame(text)));
      }
      stream.receive(position, frame);
    };
    property.guestsByConversation.get(entry.conversationId)?.forEach(offer);
    property.employees.forEach(offer);
  }
}
