/** Release (owner or admin) and reassign (admin): moving a ticket between the queue and employees. */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../domain/conversation.js';
import { reassign, release } from '../../domain/handoff.js';
import type { EventStore } from '../ports/event-store.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { EVENT_STORE, READ_MODELS } from '../ports/tokens.js';
import { EMPLOYEE_NAMES, type EmployeeNameDoc, employeeNameId } from '../projections/employee-names.projection.js';
import { ProjectionsService } from '../projections/projections.service.js';
import { type ConversationCommandResult, byEmployee, decideOnConversation } from './conversation-decision.js';

export class ReleaseTicket extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly employee: Actor,
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

export class ReassignTicket extends Command<ConversationCommandResult> {
  constructor(
    readonly conversationId: string,
    readonly propertyId: string,
    readonly employee: Actor,
    /** The new owner; without a name, the one last seen for this id in the property's events, else the id. */
    readonly to: { id: string; name?: string },
    readonly commandId: string,
    readonly at: string,
  ) {
    super();
  }
}

@CommandHandler(ReleaseTicket)
export class ReleaseTicketHandler implements ICommandHandler<ReleaseTicket> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  execute(cmd: ReleaseTicket) {
    return decideOnConversation(this.store, cmd.conversationId, byEmployee(cmd), (state) =>
      release(state, { employee: cmd.employee, at: cmd.at }),
    );
  }
}

@CommandHandler(ReassignTicket)
export class ReassignTicketHandler implements ICommandHandler<ReassignTicket> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODELS) private readonly readModels: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  async execute(cmd: ReassignTicket) {
    // A display name only: a read model that trails the log a little is good enough here.
    const name =
      cmd.to.name ??
      (
        await this.readModels.get<EmployeeNameDoc>(
          this.projections.collection('employeeNames', EMPLOYEE_NAMES),
          employeeNameId(cmd.propertyId, cmd.to.id),
        )
      )?.name ??
      cmd.to.id;
    return decideOnConversation(this.store, cmd.conversationId, byEmployee(cmd), (state) =>
      reassign(state, { employee: cmd.employee, to: { id: cmd.to.id, name }, at: cmd.at }),
    );
  }
}
