/** Property settings and personal settings as documents, for fast reads and the diagnostics view. */
import {
  DEFAULT_PERSONAL_SETTINGS,
  DEFAULT_PROPERTY_SETTINGS,
  type EmployeeEvent,
  type PersonalSettings,
  type PropertySettings,
  type PropertySettingsEvent,
} from '../../domain/settings.js';
import type { StoredEvent } from '../ports/event-store.js';
import type { Doc } from '../ports/read-models.js';
import type { Projection, ProjectionContext } from './projection.js';

export interface PropertySettingsDoc extends Doc, PropertySettings {
  /** Absent on documents of properties that never changed it (null: off). */
  escalateAfterMinutes?: number | null;
  updatedAt: string | null;
  updatedBy: string | null;
}
export interface PersonalSettingsDoc extends Doc, PersonalSettings {
  propertyId: string;
  employeeId: string;
  updatedAt: string | null;
}

export const PROPERTY_SETTINGS = 'propertySettings';
export const PERSONAL_SETTINGS = 'personalSettings';
export const personalSettingsId = (propertyId: string, employeeId: string) => `${propertyId}:${employeeId}`;

export const settingsProjection: Projection = {
  name: 'settings',
  version: 2,
  collections: [PROPERTY_SETTINGS, PERSONAL_SETTINGS],
  indexes: [{ collection: PERSONAL_SETTINGS, fields: { propertyId: 1 } }],
  handles: new Set(['LiveChatSettingsChanged', 'PushNotificationsSwitched', 'EscalationSettingsChanged', 'PersonalSettingsChanged']),
  async apply(stored: StoredEvent, ctx: ProjectionContext) {
    const propertyId = stored.metadata.propertyId;
    if (stored.type === 'PersonalSettingsChanged') {
      const e = { type: stored.type, data: stored.data } as Extract<EmployeeEvent, { type: 'PersonalSettingsChanged' }>;
      const id = personalSettingsId(propertyId, e.data.employeeId);
      await ctx.update<PersonalSettingsDoc>(PERSONAL_SETTINGS, id, () => ({
        _id: id,
        propertyId,
        employeeId: e.data.employeeId,
        ...DEFAULT_PERSONAL_SETTINGS,
        incomingSupportRequests: e.data.incomingSupportRequests,
        assignedChatActivity: e.data.assignedChatActivity,
        closureMessage: e.data.closureMessage,
        updatedAt: e.data.at,
      }));
      return;
    }
    const e = { type: stored.type, data: stored.data } as PropertySettingsEvent;
    await ctx.update<PropertySettingsDoc>(PROPERTY_SETTINGS, propertyId, (doc) => {
      const base = doc ?? { _id: propertyId, ...DEFAULT_PROPERTY_SETTINGS, updatedAt: null, updatedBy: null };
      const next: Omit<PropertySettingsDoc, '_pos'> = { ...base, updatedAt: e.data.at, updatedBy: e.data.changedBy };
      if (e.type === 'LiveChatSettingsChanged') {
        next.requestSupportChat = e.data.requestSupportChat;
        next.chatMode = e.data.chatMode;
      } else if (e.type === 'PushNotificationsSwitched') {
        next.pushNotificationsEnabled = e.data.enabled;
      } else {
        next.escalateAfterMinutes = e.data.escalateAfterMinutes;
      }
      return next;
    });
  },
};
