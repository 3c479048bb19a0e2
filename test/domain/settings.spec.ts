/**
 * SPEC §2 Settings:
 * - Live Chat Settings (per property): requestSupportChat default false, chatMode default ai_only.
 * - Push Notifications (per property): pushNotificationsEnabled default false.
 * - Personal Settings (per employee): incomingSupportRequests and assignedChatActivity default
 *   false, closureMessage default disabled.
 * - "Every settings change is an event, so history shows who changed what and when."
 */
import { describe, it, expect } from '@jest/globals';
import {
  DEFAULT_PERSONAL_SETTINGS,
  DEFAULT_PROPERTY_SETTINGS,
  decideLiveChatSettings,
  decidePersonalSettings,
  decidePushSwitch,
  evolvePersonalSettings,
  evolvePropertySettings,
  type EmployeeEvent,
  type PersonalSettings,
  type PropertySettings,
  type PropertySettingsEvent,
} from '../../src/domain/settings.js';
import { deciderSpec } from './given-when-then.js';
import { alice, at } from './fixtures.js';

const givenProperty = deciderSpec<PropertySettings, PropertySettingsEvent>(evolvePropertySettings, () => ({
  ...DEFAULT_PROPERTY_SETTINGS,
}));
const givenEmployee = deciderSpec<PersonalSettings, EmployeeEvent>(evolvePersonalSettings, () => ({
  ...DEFAULT_PERSONAL_SETTINGS,
  closureMessage: { ...DEFAULT_PERSONAL_SETTINGS.closureMessage },
}));

const admin = 'emp-admin';

const liveChatChanged = (
  requestSupportChat: boolean,
  chatMode: PropertySettings['chatMode'],
  minute = 1,
): PropertySettingsEvent => ({
  type: 'LiveChatSettingsChanged',
  data: { requestSupportChat, chatMode, changedBy: admin, at: at(minute) },
});

const pushSwitched = (enabled: boolean, minute = 1): PropertySettingsEvent => ({
  type: 'PushNotificationsSwitched',
  data: { enabled, changedBy: admin, at: at(minute) },
});

const aliceOptsIn: PersonalSettings = {
  incomingSupportRequests: true,
  assignedChatActivity: true,
  closureMessage: { enabled: true, text: 'Thanks, have a lovely stay!' },
};

const personalChanged = (settings: PersonalSettings, minute = 1): EmployeeEvent => ({
  type: 'PersonalSettingsChanged',
  data: { ...settings, employeeId: alice.id, at: at(minute) },
});

describe('defaults (no settings event yet)', () => {
  it('a property has Request Support Chat off, chat mode ai_only, push notifications off', () => {
    expect(givenProperty([]).state).toEqual({
      requestSupportChat: false,
      chatMode: 'ai_only',
      pushNotificationsEnabled: false,
    });
  });

  it('an employee has both alert toggles off and the closure message disabled', () => {
    expect(givenEmployee([]).state).toEqual({
      incomingSupportRequests: false,
      assignedChatActivity: false,
      closureMessage: { enabled: false, text: '' },
    });
  });
});

describe('Live Chat Settings', () => {
  it('a change is recorded with who changed it and when', () => {
    givenProperty([])
      .when((state) => decideLiveChatSettings(state, { requestSupportChat: true, chatMode: 'hybrid' }, admin, at(10)))
      .then([liveChatChanged(true, 'hybrid', 10)]);
  });

  it('changing only the chat mode is a change', () => {
    givenProperty([liveChatChanged(true, 'hybrid')])
      .when((state) => decideLiveChatSettings(state, { requestSupportChat: true, chatMode: 'off' }, admin, at(10)))
      .then([liveChatChanged(true, 'off', 10)]);
  });

  it('saving the defaults unchanged appends nothing', () => {
    givenProperty([])
      .when((state) => decideLiveChatSettings(state, { requestSupportChat: false, chatMode: 'ai_only' }, admin, at(10)))
      .thenNothing();
  });

  it('saving the current values again appends nothing', () => {
    givenProperty([liveChatChanged(true, 'hybrid')])
      .when((state) => decideLiveChatSettings(state, { requestSupportChat: true, chatMode: 'hybrid' }, 'emp-other-admin', at(10)))
      .thenNothing();
  });

  it('evolve takes the latest values and leaves the push switch alone', () => {
    expect(givenProperty([pushSwitched(true), liveChatChanged(true, 'hybrid', 2), liveChatChanged(false, 'off', 3)]).state).toEqual({
      requestSupportChat: false,
      chatMode: 'off',
      pushNotificationsEnabled: true,
    });
  });
});

describe('Push Notifications switch', () => {
  it('switching on is recorded with who and when', () => {
    givenProperty([])
      .when((state) => decidePushSwitch(state, true, admin, at(10)))
      .then([pushSwitched(true, 10)]);
  });

  it('switching off again is recorded', () => {
    givenProperty([pushSwitched(true)])
      .when((state) => decidePushSwitch(state, false, admin, at(10)))
      .then([pushSwitched(false, 10)]);
  });

  it('saving the current value appends nothing', () => {
    givenProperty([])
      .when((state) => decidePushSwitch(state, false, admin, at(10)))
      .thenNothing();
    givenProperty([pushSwitched(true)])
      .when((state) => decidePushSwitch(state, true, admin, at(10)))
      .thenNothing();
  });

  it('evolve leaves the live chat settings alone', () => {
    expect(givenProperty([liveChatChanged(true, 'hybrid'), pushSwitched(true, 2)]).state).toEqual({
      requestSupportChat: true,
      chatMode: 'hybrid',
      pushNotificationsEnabled: true,
    });
  });
});

describe('Personal Settings', () => {
  it('a change is recorded with which employee changed it and when', () => {
    givenEmployee([])
      .when((state) => decidePersonalSettings(state, aliceOptsIn, alice.id, at(10)))
      .then([personalChanged(aliceOptsIn, 10)]);
  });

  it('saving the defaults unchanged appends nothing', () => {
    givenEmployee([])
      .when((state) =>
        decidePersonalSettings(
          state,
          { incomingSupportRequests: false, assignedChatActivity: false, closureMessage: { enabled: false, text: '' } },
          alice.id,
          at(10),
        ),
      )
      .thenNothing();
  });

  it('saving the current values again (an equal copy) appends nothing', () => {
    givenEmployee([personalChanged(aliceOptsIn)])
      .when((state) =>
        decidePersonalSettings(state, { ...aliceOptsIn, closureMessage: { ...aliceOptsIn.closureMessage } }, alice.id, at(10)),
      )
      .thenNothing();
  });

  it.each<[string, PersonalSettings]>([
    ['incomingSupportRequests', { ...aliceOptsIn, incomingSupportRequests: false }],
    ['assignedChatActivity', { ...aliceOptsIn, assignedChatActivity: false }],
    ['closureMessage.enabled', { ...aliceOptsIn, closureMessage: { ...aliceOptsIn.closureMessage, enabled: false } }],
    ['closureMessage.text', { ...aliceOptsIn, closureMessage: { enabled: true, text: 'See you soon!' } }],
  ])('changing only %s is a change', (_field, next) => {
    givenEmployee([personalChanged(aliceOptsIn)])
      .when((state) => decidePersonalSettings(state, next, alice.id, at(10)))
      .then([personalChanged(next, 10)]);
  });

  it('evolve takes the latest values; marking an alert read changes no setting', () => {
    const next: PersonalSettings = { ...aliceOptsIn, assignedChatActivity: false };
    expect(
      givenEmployee([
        personalChanged(aliceOptsIn),
        { type: 'AlertMarkedRead', data: { alertId: 'alert-1', employeeId: alice.id, at: at(2) } },
        personalChanged(next, 3),
      ]).state,
    ).toEqual(next);
  });
});

describe('Personal Settings: an enabled closure message needs a text (SPEC §2: text 1–1000 chars)', () => {
  const closure = (enabled: boolean, text: string): PersonalSettings => ({ ...DEFAULT_PERSONAL_SETTINGS, closureMessage: { enabled, text } });

  it.each([
    ['an empty', ''],
    ['a blank', '   \n\t'],
  ])('enabling it with %s text is refused, naming the field', (_what, text) => {
    givenEmployee([])
      .when((state) => decidePersonalSettings(state, closure(true, text), alice.id, at(10)))
      .thenThrows('invalid', 'closure_message_text_required', { 0: { field: 'closureMessage.text' } });
  });

  it('disabled with an empty text (the default, exactly as read back) is fine and appends nothing', () => {
    givenEmployee([])
      .when((state) => decidePersonalSettings(state, closure(false, ''), alice.id, at(10)))
      .thenNothing();
  });

  it('disabling it and clearing the text is a change', () => {
    givenEmployee([personalChanged(aliceOptsIn)])
      .when((state) => decidePersonalSettings(state, { ...aliceOptsIn, closureMessage: { enabled: false, text: '' } }, alice.id, at(10)))
      .then([personalChanged({ ...aliceOptsIn, closureMessage: { enabled: false, text: '' } }, 10)]);
  });
});

describe('Live Chat Settings: a partial change merges with the current settings', () => {
  it('only the chat mode: Request Support Chat keeps its value', () => {
    givenProperty([liveChatChanged(true, 'ai_only')])
      .when((state) => decideLiveChatSettings(state, { chatMode: 'hybrid' }, admin, at(10)))
      .then([liveChatChanged(true, 'hybrid', 10)]);
  });

  it('only Request Support Chat: the chat mode keeps its value', () => {
    givenProperty([liveChatChanged(false, 'hybrid')])
      .when((state) => decideLiveChatSettings(state, { requestSupportChat: true }, admin, at(10)))
      .then([liveChatChanged(true, 'hybrid', 10)]);
  });

  it('a partial change that changes nothing appends nothing', () => {
    givenProperty([liveChatChanged(true, 'hybrid')])
      .when((state) => decideLiveChatSettings(state, { chatMode: 'hybrid' }, admin, at(10)))
      .thenNothing();
    givenProperty([])
      .when((state) => decideLiveChatSettings(state, {}, admin, at(10)))
      .thenNothing();
  });
});
