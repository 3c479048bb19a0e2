/** SPEC §2: when many employees take over at once, exactly one wins and the rest learn who. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { client } from '../support/http.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

describe('50 employees take over the same open ticket at once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('has exactly one winner, 49 conflicts naming it, and one take-over event', async () => {
    const api = client(t.url);
    const admin = await t.employee('admin', 'hotel-a', 'admin');
    await api.put('/v1/settings/live-chat', admin, { requestSupportChat: true, chatMode: 'hybrid' });
    const guest = (await api.post('/v1/guest/conversations', undefined, { propertyId: 'hotel-a', guestName: 'Race' })).body;
    const request = await api.post(`/v1/guest/conversations/${guest.conversationId}/support-requests`, guest.guestToken);
    expect(request.body.ticketOpened).toBe(true);

    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => t.employee(`agent-${i}`)));
    const answers = await Promise.all(tokens.map((token) => api.post(`/v1/conversations/${guest.conversationId}/take-over`, token)));

    const winners = answers.filter((a) => a.status === 200);
    const losers = answers.filter((a) => a.status === 409);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    const winnerId = winners[0]!.body.conversation.ticket.ownerId as string;
    for (const loser of losers) {
      expect(loser.body).toMatchObject({ code: 'already_assigned', details: { ticketStatus: 'assigned', owner: { id: winnerId } } });
      expect(loser.body.message).toContain(`Employee ${winnerId}`);
    }
    const history = await api.get(`/v1/ops/conversations/${guest.conversationId}/history`, admin);
    expect(history.body.events.filter((e: { type: string }) => e.type === 'TicketTakenOver')).toHaveLength(1);
  });
});
