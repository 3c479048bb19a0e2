import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { CloseTicket } from '../../../application/commands/close-ticket.js';
import type { ConversationCommandResult } from '../../../application/commands/conversation-decision.js';
import { ReassignTicket, ReleaseTicket } from '../../../application/commands/handoff.js';
import { Reply } from '../../../application/commands/reply.js';
import { TakeOver } from '../../../application/commands/take-over.js';
import { InboxQueries } from '../../../application/queries/inbox.queries.js';
import { ProjectionsService } from '../../../application/projections/projections.service.js';
import { commandConversationView } from '../../../application/views.js';
import type { Actor } from '../../../domain/conversation.js';
import { Audience, CurrentPrincipal } from '../auth/auth.guard.js';
import type { EmployeePrincipal } from '../auth/principal.js';
import { commandId, now } from '../command-context.js';
import { MessageBody, ReassignBody } from '../dto/bodies.js';
import { ListConversationsQuery, MessagesQuery, ReadQuery, toPosition } from '../dto/queries.js';

const uuid = new ParseUUIDPipe({ version: undefined });

const actor = (me: EmployeePrincipal): Actor => ({ id: me.id, name: me.name, role: me.role });

/** A command's answer: the conversation with badge and actions for the caller (role included). */
export function conversationAnswer(result: ConversationCommandResult, viewer: EmployeePrincipal) {
  return { conversation: commandConversationView(result.conversation, viewer), position: result.position?.toString() ?? null };
}

@Controller('v1/conversations')
@Audience('employee')
export class ConversationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly inbox: InboxQueries,
    private readonly projections: ProjectionsService,
  ) {}

  @Get()
  async list(@CurrentPrincipal() me: EmployeePrincipal, @Query() q: ListConversationsQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.inbox.list(me.propertyId, me, q.status ?? 'all', q.limit ?? 25, q.cursor ? Number(q.cursor) : null, q.guestName);
  }

  @Get(':id')
  async get(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Query() q: ReadQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.inbox.forEmployee(me.propertyId, me, id);
  }

  /** Older messages than the view carries (`?before=` its `messagesNextBefore`), oldest first. */
  @Get(':id/messages')
  async messages(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Query() q: MessagesQuery) {
    await this.projections.waitFor(toPosition(q.minPosition));
    return this.inbox.messagesForEmployee(me.propertyId, id, toPosition(q.before), q.limit);
  }

  @Post(':id/take-over')
  @HttpCode(200)
  async takeOver(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Req() req: FastifyRequest) {
    const result = await this.commands.execute(new TakeOver(id, me.propertyId, actor(me), commandId(req, me, `take-over:${id}`), now()));
    return conversationAnswer(result, me);
  }

  /** On an OPEN ticket the reply takes it over first (one decision, same race as take-over). */
  @Post(':id/messages')
  async reply(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Body() body: MessageBody, @Req() req: FastifyRequest) {
    const result = await this.commands.execute(new Reply(id, me.propertyId, actor(me), body.text, commandId(req, me, `reply:${id}`), now()));
    const replied = result.events.find((e) => e.type === 'EmployeeReplied');
    return {
      ...conversationAnswer(result, me),
      message: replied?.type === 'EmployeeReplied' ? { id: replied.data.messageId, text: replied.data.text, at: replied.data.at } : null,
    };
  }

  @Post(':id/close')
  @HttpCode(200)
  async close(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Req() req: FastifyRequest) {
    const result = await this.commands.execute(new CloseTicket(id, me.propertyId, actor(me), commandId(req, me, `close:${id}`), now()));
    return {
      ...conversationAnswer(result, me),
      closureMessageSent: result.events.some((e) => e.type === 'ClosureMessageSent'),
      aiRepliesResumed: result.events.some((e) => e.type === 'AiRepliesResumed'),
    };
  }

  @Post(':id/release')
  @HttpCode(200)
  async release(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Req() req: FastifyRequest) {
    const result = await this.commands.execute(new ReleaseTicket(id, me.propertyId, actor(me), commandId(req, me, `release:${id}`), now()));
    return conversationAnswer(result, me);
  }

  @Post(':id/reassign')
  @HttpCode(200)
  async reassign(@CurrentPrincipal() me: EmployeePrincipal, @Param('id', uuid) id: string, @Body() body: ReassignBody, @Req() req: FastifyRequest) {
    const to = { id: body.employeeId, ...(body.employeeName !== undefined ? { name: body.employeeName } : {}) };
    const result = await this.commands.execute(new ReassignTicket(id, me.propertyId, actor(me), to, commandId(req, me, `reassign:${id}`), now()));
    return conversationAnswer(result, me);
  }
}
