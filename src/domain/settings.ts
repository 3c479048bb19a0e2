/**
 * Property settings (Live Chat, the Push Notifications switch, escalation) and personal settings,
 * each an event-sourced stream so history shows who changed what and when.
 */
import { DomainError } from './errors.js';

export type ChatMode = 'ai_only' | 'hybrid' | 'off';
export const CHAT_MODES: readonly ChatMode[] = ['ai_only', 'hybrid', 'off'];

export interface LiveChatSettings {
  requestSupportChat: boolean;
  chatMode: ChatMode;
}
export interface PropertySettings extends LiveChatSettings {
  pushNotificationsEnabled: boolean;
}
export const DEFAULT_PROPERTY_SETTINGS: PropertySettings = {
  requestSupportChat: false,
  chatMode: 'ai_only',
  pushNotificationsEnabled: false,
};

export interface ClosureMessage {
  enabled: boolean;
  text: string;
}
export interface PersonalSettings {
  incomingSupportRequests: boolean;
  assignedChatActivity: boolean;
  closureMessage: ClosureMessage;
}
export const DEFAULT_PERSONAL_SETTINGS: PersonalSettings = {
  incomingSupportRequests: false,
  assignedChatActivity: false,
  closureMessage: { enabled: false, text: '' },
};

/** Escalation of unattended tickets (domain/escalation.ts): off (null) by default, else 1..1440 minutes. */
export interface EscalationSettings {
  escalateAfterMinutes: number | null;
}
export const DEFAULT_ESCALATION_SETTINGS: EscalationSettings = { escalateAfterMinutes: null };
export const MAX_ESCALATE_AFTER_MINUTES = 1440;

export type PropertySettingsEvent =
  | { type: 'LiveChatSettingsChanged'; data: LiveChatSettings & { changedBy: string; at: string } }
  | { type: 'PushNotificationsSwitched'; data: { enabled: boolean; changedBy: string; at: string } }
  | { type: 'EscalationSettingsChanged'; data: EscalationSettings & { changedBy: string; at: string } };

export type EmployeeRole = 'agent' | 'admin';

export type EmployeeEvent =
  /** `role`: the saver's role then (absent in events recorded before roles were); the alerts projection learns admins from it. */
  | { type: 'PersonalSettingsChanged'; data: PersonalSettings & { employeeId: string; role?: EmployeeRole; at: string } }
  | { type: 'AlertMarkedRead'; data: { alertId: string; employeeId: string; at: string } };

export const propertySettingsStream = (propertyId: string) => `propertySettings-${propertyId}`;
export const employeeStream = (propertyId: string, employeeId: string) =>
  `employee-${propertyId}:${employeeId}`;

export function evolvePropertySettings(state: PropertySettings, event: PropertySettingsEvent): PropertySettings {
  switch (event.type) {
    case 'LiveChatSettingsChanged':
      return { ...state, requestSupportChat: event.data.requestSupportChat, chatMode: event.data.chatMode };
    case 'PushNotificationsSwitched':
      return { ...state, pushNotificationsEnabled: event.data.enabled };
    case 'EscalationSettingsChanged':
      return state;
  }
}

/** The escalation setting, folded from the same property settings stream. */
export function evolveEscalationSettings(state: EscalationSettings, event: PropertySettingsEvent): EscalationSettings {
  return event.type === 'EscalationSettingsChanged' ? { escalateAfterMinutes: event.data.escalateAfterMinutes } : state;
}

export function evolvePersonalSettings(state: PersonalSettings, event: EmployeeEvent): PersonalSettings {
  switch (event.type) {
    case 'PersonalSettingsChanged':
      return {
        incomingSupportRequests: event.data.incomingSupportRequests,
        assignedChatActivity: event.data.assignedChatActivity,
        closureMessage: event.data.closureMessage,
      };
    case 'AlertMarkedRead':
      return state;
    default:
      // The same stream carries the employee's push subscriptions (push-subscriptions.ts).
      return state;
  }
}

/** A partial change merges with the current settings; an unchanged PUT appends nothing: history records changes, not clicks. */
export function decideLiveChatSettings(
  state: PropertySettings,
  change: Partial<LiveChatSettings>,
  changedBy: string,
  at: string,
): PropertySettingsEvent[] {
  const next: LiveChatSettings = {
    requestSupportChat: change.requestSupportChat ?? state.requestSupportChat,
    chatMode: change.chatMode ?? state.chatMode,
  };
  if (state.requestSupportChat === next.requestSupportChat && state.chatMode === next.chatMode) return [];
  return [{ type: 'LiveChatSettingsChanged', data: { ...next, changedBy, at } }];
}

export function decidePushSwitch(
  state: PropertySettings,
  enabled: boolean,
  changedBy: string,
  at: string,
): PropertySettingsEvent[] {
  if (state.pushNotificationsEnabled === enabled) return [];
  return [{ type: 'PushNotificationsSwitched', data: { enabled, changedBy, at } }];
}

/**
 * With `role` (the saver's role now and the one their last change recorded), a save that
 * changes no setting but records a new role is a change too: that is how an admin who saved
 * before roles were recorded becomes known as one.
 */
export function decidePersonalSettings(
  state: PersonalSettings,
  next: PersonalSettings,
  employeeId: string,
  at: string,
  role?: { current: EmployeeRole; recorded: EmployeeRole | null },
): EmployeeEvent[] {
  // SPEC §2: the text is 1–1000 chars when the message is on; off, an empty text is the default.
  if (next.closureMessage.enabled && next.closureMessage.text.trim().length === 0) {
    throw new DomainError('invalid', 'closure_message_text_required', 'Validation failed', [
      { field: 'closureMessage.text', messages: ['closureMessage.text is required when the closure message is enabled'] },
    ]);
  }
  const same =
    state.incomingSupportRequests === next.incomingSupportRequests &&
    state.assignedChatActivity === next.assignedChatActivity &&
    state.closureMessage.enabled === next.closureMessage.enabled &&
    state.closureMessage.text === next.closureMessage.text;
  if (same && (role === undefined || role.current === role.recorded)) return [];
  return [{ type: 'PersonalSettingsChanged', data: role ? { ...next, employeeId, role: role.current, at } : { ...next, employeeId, at } }];
}

/** null switches escalation off; otherwise a whole number of minutes, 1..1440. An unchanged value appends nothing. */
export function decideEscalationSettings(
  state: EscalationSettings,
  escalateAfterMinutes: number | null,
  changedBy: string,
  at: string,
): PropertySettingsEvent[] {
  if (
    escalateAfterMinutes !== null &&
    !(Number.isInteger(escalateAfterMinutes) && escalateAfterMinutes >= 1 && escalateAfterMinutes <= MAX_ESCALATE_AFTER_MINUTES)
  ) {
    throw new DomainError('invalid', 'escalate_after_minutes_out_of_range', 'Validation failed', [
      { field: 'escalateAfterMinutes', messages: [`escalateAfterMinutes must be null or an integer from 1 to ${MAX_ESCALATE_AFTER_MINUTES}`] },
    ]);
  }
  if (state.escalateAfterMinutes === escalateAfterMinutes) return [];
  return [{ type: 'EscalationSettingsChanged', data: { escalateAfterMinutes, changedBy, at } }];
}
