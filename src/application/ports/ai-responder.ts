/** What AVA says to a guest message: an answer, or the recognition that the guest wants a person. */
export type AiResponse = { kind: 'reply'; text: string } | { kind: 'support_request' };

export interface AiResponder {
  respond(input: { conversationId: string; guestName: string; text: string }): Promise<AiResponse>;
}
