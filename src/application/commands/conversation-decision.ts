/** Shared by the conversation commands: property isolation plus the decision loop. */
import {
  type Conversation,
  type ConversationEvent,
  type ConversationState,
  conversationStream,
  evolve,
} from '../../domain/conversation.js';
import { DomainError } from '../../domain/errors.js';
import type { EventMetadata, EventStore, Position, Revision } from '../ports/event-store.js';
import { runDecision } from './run-decision.js';

export interface ConversationCommandResult {
  conversation: Conversation;
  events: ConversationEvent[];
  position: Position | null;
  /** The revision of the command's last event (of the stream's last when nothing was appended). */
  revision: Revision | null;
}

/** Metadata of an employee's command on a conversation. */
export const byEmployee = (cmd: { propertyId: string; commandId: string; employee: { id: string } }): EventMetadata => ({
  propertyId: cmd.propertyId,
  commandId: cmd.commandId,
  actor: { kind: 'employee', id: cmd.employee.id },
});

/** Another property's conversation is indistinguishable from a missing one (404, SPEC §3). */
export function visibleTo(state: ConversationState, propertyId: string): ConversationState {
  return state !== null && state.propertyId === propertyId ? state : null;
}

export async function decideOnConversation(
  store: EventStore,
  conversationId: string,
  metadata: EventMetadata,
  decide: (state: ConversationState) => ConversationEvent[],
): Promise<ConversationCommandResult> {
  const result = await runDecision<ConversationState, ConversationEvent>(store, {
    streamId: conversationStream(conversationId),
    initial: null,
    evolve,
    decide: (state) => decide(visibleTo(state, metadata.propertyId)),
    metadata,
  });
  const conversation = visibleTo(result.state, metadata.propertyId);
  if (conversation === null) throw new DomainError('not_found', 'conversation_not_found', 'Conversation not found');
  return { conversation, events: result.events, position: result.position, revision: result.revision };
}
