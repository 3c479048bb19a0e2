/**
 * Property settings (Live Chat + the Push Notifications switch) and personal settings,
 * each an event-sourced stream so history shows who changed what and when.
 */
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

export type PropertySettingsEvent =
  | { type: 'LiveChatSettingsChanged'; data: LiveChatSettings & { changedBy: string; at: string } }
  | { type: 'PushNotificationsSwitched'; data: { enabled: boolean; changedBy: string; at: string } };

export type EmployeeEvent =
  | { type: 'PersonalSettingsChanged'; data: PersonalSettings & { employeeId: string; at: string } }
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
  }
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

/** An unchanged PUT appends nothing: history records changes, not clicks. */
export function decideLiveChatSettings(
  state: PropertySettings,
  next: LiveChatSettings,
  changedBy: string,
  at: string,
): PropertySettingsEvent[] {
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

export function decidePersonalSettings(
  state: PersonalSettings,
  next: PersonalSettings,
  employeeId: string,
  at: string,
): EmployeeEvent[] {
  const same =
    state.incomingSupportRequests === next.incomingSupportRequests &&
    state.assignedChatActivity === next.assignedChatActivity &&
    state.closureMessage.enabled === next.closureMessage.enabled &&
    state.closureMessage.text === next.closureMessage.text;
  if (same) return [];
  return [{ type: 'PersonalSettingsChanged', data: { ...next, employeeId, at } }];
}
