/**
 * AVA through an external AI service: POST {conversationId, guestName, text} to
 * AI_RESPONDER_URL, expecting {reply: string} or {supportRequest: true}. A slow or failing
 * service yields a polite fallback instead of silence.
 */
import type { AiResponder, AiResponse } from '../../application/ports/ai-responder.js';

export const FALLBACK_TEXT = "Thanks for your message — I'm having trouble answering right now. Ask for a person if you need help straight away.";

export class HttpAiResponder implements AiResponder {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5000,
  ) {}

  async respond(input: { conversationId: string; guestName: string; text: string }): Promise<AiResponse> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!res.ok) return { kind: 'reply', text: FALLBACK_TEXT };
      const body = (await res.json()) as { reply?: unknown; supportRequest?: unknown };
      if (body.supportRequest === true) return { kind: 'support_request' };
      return typeof body.reply === 'string' && body.reply.length > 0 ? { kind: 'reply', text: body.reply } : { kind: 'reply', text: FALLBACK_TEXT };
    } catch {
      return { kind: 'reply', text: FALLBACK_TEXT };
    }
  }
}
