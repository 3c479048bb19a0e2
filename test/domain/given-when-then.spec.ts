/** The helper itself must fail when the rule is not met, or the other specs prove nothing. */
import { describe, it, expect } from '@jest/globals';
import { takeOver } from '../../src/domain/conversation.js';
import { given } from './given-when-then.js';
import { alice, assignedTo, at, bob, openTicket } from './fixtures.js';

describe('given/when/then helper', () => {
  const bobTakesOver = given(assignedTo(alice)).when((state) => takeOver(state, { employee: bob, at: at(10) }));
  const aliceTakesOverOpen = given(openTicket()).when((state) => takeOver(state, { employee: alice, at: at(10) }));

  it('then fails when the decision throws or produces other events', () => {
    expect(() => bobTakesOver.then([])).toThrow();
    expect(() => aliceTakesOverOpen.then([])).toThrow();
    expect(() => aliceTakesOverOpen.thenNothing()).toThrow();
  });

  it('thenThrows fails when nothing is thrown', () => {
    expect(() => aliceTakesOverOpen.thenThrows('conflict', 'already_assigned')).toThrow(/expected DomainError/);
  });

  it('thenThrows fails on another kind, code or details', () => {
    expect(() => bobTakesOver.thenThrows('forbidden', 'already_assigned')).toThrow();
    expect(() => bobTakesOver.thenThrows('conflict', 'already_assigned_to_you')).toThrow();
    expect(() => bobTakesOver.thenThrows('conflict', 'already_assigned', { owner: { id: bob.id } })).toThrow();
  });

  it('thenThrows fails on an error that is not a DomainError', () => {
    const boom = given(openTicket()).when(() => {
      throw new Error('boom');
    });
    expect(() => boom.thenThrows('conflict', 'anything')).toThrow();
  });

  it('passes when the rule holds', () => {
    bobTakesOver.thenThrows('conflict', 'already_assigned', { owner: { id: alice.id, name: alice.name } });
  });
});
