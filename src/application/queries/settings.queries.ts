import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_ESCALATION_SETTINGS, DEFAULT_PERSONAL_SETTINGS, DEFAULT_PROPERTY_SETTINGS } from '../../domain/settings.js';
import type { ReadModelStore } from '../ports/read-models.js';
import { READ_MODELS } from '../ports/tokens.js';
import { ProjectionsService } from '../projections/projections.service.js';
import {
  PERSONAL_SETTINGS,
  PROPERTY_SETTINGS,
  type PersonalSettingsDoc,
  type PropertySettingsDoc,
  personalSettingsId,
} from '../projections/settings.projection.js';

@Injectable()
export class SettingsQueries {
  constructor(
    @Inject(READ_MODELS) private readonly store: ReadModelStore,
    private readonly projections: ProjectionsService,
  ) {}

  async property(propertyId: string) {
    const doc = await this.store.get<PropertySettingsDoc>(this.projections.collection('settings', PROPERTY_SETTINGS), propertyId);
    return {
      requestSupportChat: doc?.requestSupportChat ?? DEFAULT_PROPERTY_SETTINGS.requestSupportChat,
      chatMode: doc?.chatMode ?? DEFAULT_PROPERTY_SETTINGS.chatMode,
      pushNotificationsEnabled: doc?.pushNotificationsEnabled ?? DEFAULT_PROPERTY_SETTINGS.pushNotificationsEnabled,
      escalateAfterMinutes: doc?.escalateAfterMinutes ?? DEFAULT_ESCALATION_SETTINGS.escalateAfterMinutes,
      updatedAt: doc?.updatedAt ?? null,
      updatedBy: doc?.updatedBy ?? null,
      position: doc?._pos.toString() ?? null,
    };
  }

  async personal(propertyId: string, employeeId: string) {
    const doc = await this.store.get<PersonalSettingsDoc>(
      this.projections.collection('settings', PERSONAL_SETTINGS),
      personalSettingsId(propertyId, employeeId),
    );
    return {
      incomingSupportRequests: doc?.incomingSupportRequests ?? DEFAULT_PERSONAL_SETTINGS.incomingSupportRequests,
      assignedChatActivity: doc?.assignedChatActivity ?? DEFAULT_PERSONAL_SETTINGS.assignedChatActivity,
      closureMessage: doc?.closureMessage ?? DEFAULT_PERSONAL_SETTINGS.closureMessage,
      updatedAt: doc?.updatedAt ?? null,
      position: doc?._pos.toString() ?? null,
    };
  }
}
