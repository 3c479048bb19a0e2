import { Body, Controller, ForbiddenException, Get, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PostGuestMessage } from '../../../application/commands/post-guest-message.js';
import { RequestSupport } from '../../../application/commands/request-support.js';
import { StartConversation } from '../../../application/commands/start-conversation.js';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { GuestMessageQueries } from '../../../application/queries/guest-message.queries.js';
import { InboxQueries } from '../../../application/queries/inbox.queries.js';
import { Audience, CurrentPrincipal, Public, StreamRoute } from '../auth/auth.guard.js';
import type { GuestPrincipal } from '../auth/principal.js';
import { TokenService } from '../auth/token.service.js';
import { commandId, now } from '../command-context.js';
import { SecretsInAnswer } from '../idempotency.interceptor.js';
import { MessageBody, StartConversationBody } from '../dto/bodies.js';
import { MessagesQuery, ReadQuery, StreamQuery, toPosition } from '../dto/queries.js';
import { SseService } from '../sse/sse.service.js';

const uuid = new ParseUUIDPipe({ version: undefined });

function ownConversation(guest: GuestPrincipal, id: string) {
  if (guest.conversationId !== id) throw new ForbiddenException('This guest token belongs to another conversation');
}

@Controller('v1/guest/conversations')
@Audience('guest')
export class GuestController {
  constructor(
    private readonly commands: CommandBus,
    private readonly inbox: InboxQueries,
    private readonly projections: ProjectionsService,
    private readonly tokens: TokenService,
    private readonly sse: SseService,
    private readonly guestMessages: GuestMessageQueries,
  ) {}

  @Post()
  @Public()
  // The guest token is never kept with the answer: a replay (same caller, key and body) gets a fresh one.
  @SecretsInAnswer('guestToken')
  async start(@Body() body: StartConversationBody, @Req() req: FastifyRequest) {
    const result = await this.commands.execute(
      new StartConversation(body.propertyId, body.guestName, commandId(req, { kind: 'anonymous' }, `start:${body.propertyId}`), now()),
    );
    const c = result.conversation;
    const guestToken = await this.tokens.guestToken({ conversationId: c.id, propertyId: c.propertyId, name: c.guestName });
    return { conversationId: c.id, guestToken, position: result.position?.toString() ?? null };
  }

  @Post(':id/messages')
  async message(@CurrentPrincipal() guest: GuestPrincipal, @Param('id', uuid) id: string, @Body() body: MessageBody, @Req() req: FastifyRequest) {
    ownConversation(guest, id);
    const result = await this.commands.execute(new PostGuestMessage(id, guest.propertyId, body.text, commandId(req, guest, `message:${id}`), now()));
    const posted = result.events.find((e) => e.type === 'GuestMessagePosted');
    const message = posted?.type === 'GuestMessagePosted' ? { id: posted.data.messageId, text: posted.data.text, at: posted.data.at } : null;
    // The conversation after the message: waits (bounded) for AVA's outcome, see GuestMessageQueries.
    const after = await this.guestMessages.afterMessage(guest.propertyId, message?.id ?? '', result);
    return { message, position: result.position?.toString() ?? null, ...after };
  }

  @Post(':id/support-requests')
  async requestSupport(@CurrentPrincipal() guest: GuestPrincipal, @Param('id', uuid) id: string, @Req() req: FastifyRequest) {
    ownConversation(guest, id);
    const result = await this.commands.execute(new RequestSupport(id, guest.propertyId, 'guest', commandId(req, guest, `support:${id}`), now()));
    const declined = result.events.find((e) => e.type === 'SupportRequestDeclined');
    return {
      ticketOpened: result.events.some((e) => e.type === 'TicketOpened'),
      declinedReasons: declined?.type === 'SupportRequestDeclined' ? declined.data.reasons : [],
      support: result.conversation.ticket?.status === 'assigned' ? 'agent_joined' : result.conversation.ticket?.status === 'open' ? 'waiting_for_agent' : 'none',
      position: result.position?.toString() ?? null,
    };
  }

  @Get(':id')
  async get(@CurrentPrincipal() guest: GuestPrincipal, @Param('id', uuid) id: string, @Query() q: ReadQuery) {
    ownConversation(guest, id);
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.inbox.forGuest(guest.propertyId, id);
  }

  /** Older messages than the view carries (`?before=` its `messagesNextBefore`), oldest first; no employee ids. */
  @Get(':id/messages')
  async messages(@CurrentPrincipal() guest: GuestPrincipal, @Param('id', uuid) id: string, @Query() q: MessagesQuery) {
    ownConversation(guest, id);
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.inbox.messagesForGuest(guest.propertyId, id, toPosition(q.before), q.limit);
  }

  @Get(':id/stream')
  @StreamRoute()
  async stream(
    @CurrentPrincipal() guest: GuestPrincipal,
    @Param('id', uuid) id: string,
    @Query() q: StreamQuery,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    ownConversation(guest, id);
    await this.sse.open(req, reply, { kind: 'guest', propertyId: guest.propertyId, conversationId: id }, q.lastEventId);
  }
}
