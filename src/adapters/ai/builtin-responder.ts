/**
 * The embedded default's AVA: polite canned answers, and recognition of "I want a person".
 * Production points AI_RESPONDER_URL at a real service (HttpAiResponder).
 */
import type { AiResponder, AiResponse } from '../../application/ports/ai-responder.js';

const ASKS_FOR_A_PERSON = [
  /\bhuman\b/i,
  /\b(live |real )?agent\b/i,
  /\breal person\b/i,
  /\b(a|an actual) person\b/i,
  /\bspeak (to|with) (someone|somebody|a person|staff)\b/i,
  /\btalk (to|with) (someone|somebody|a person|staff)\b/i,
  /\b(reception|front desk|staff member)\b/i,
];

export function asksForAPerson(text: string): boolean {
  return ASKS_FOR_A_PERSON.some((re) => re.test(text));
}

export class BuiltinAiResponder implements AiResponder {
  async respond(input: { guestName: string; text: string }): Promise<AiResponse> {
    if (asksForAPerson(input.text)) return { kind: 'support_request' };
    return {
      kind: 'reply',
      text: `Thank you, ${input.guestName}! I'm AVA, the hotel's assistant. I've noted your message and I'm happy to help — ask me anything about your stay, or ask for a person at any time.`,
    };
  }
}
