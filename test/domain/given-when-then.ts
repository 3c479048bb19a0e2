/**
 * Given / when / then for the pure deciders (Emmett style):
 *
 *   given(events).when((state) => takeOver(state, cmd)).then(expectedEvents)
 *   given(events).when((state) => takeOver(state, cmd)).thenThrows('conflict', 'already_assigned', { owner })
 *   given(events).when((state) => postAiReply(state, cmd)).thenNothing()
 *
 * `given` folds the events with the conversation's `evolve`, starting from "no conversation";
 * `deciderSpec(evolve, initial)` builds the same thing for any other stream (settings).
 */
import { expect } from '@jest/globals';
import { DomainError, type DomainErrorKind } from '../../src/domain/errors.js';
import { evolve, type ConversationEvent, type ConversationState } from '../../src/domain/conversation.js';

export interface Then<E> {
  /** The decision appends exactly these events, in this order. */
  then(expected: readonly E[]): void;
  /** The decision appends nothing (and does not throw). */
  thenNothing(): void;
  /** The decision is refused with this DomainError; `details`, if given, must be contained in the error's details. */
  thenThrows(kind: DomainErrorKind, code: string, details?: Record<string, unknown>): void;
}

export interface When<S, E> {
  when(decide: (state: S) => E[]): Then<E>;
  /** The state the given events fold to, for assertions on evolve itself. */
  readonly state: S;
}

export function deciderSpec<S, E>(evolveFn: (state: S, event: E) => S, initial: () => S) {
  return function given(events: readonly E[] = []): When<S, E> {
    const fold = () => events.reduce<S>(evolveFn, initial());
    return {
      get state() {
        return fold();
      },
      when(decide) {
        const run = () => decide(fold());
        return {
          then(expected) {
            expect(run()).toEqual(expected);
          },
          thenNothing() {
            expect(run()).toEqual([]);
          },
          thenThrows(kind, code, details) {
            let thrown: unknown;
            let produced: E[] | undefined;
            try {
              produced = run();
            } catch (error) {
              thrown = error;
            }
            if (thrown === undefined) {
              throw new Error(`expected DomainError ${kind}/${code}, but the decision produced ${JSON.stringify(produced)}`);
            }
            expect(thrown).toBeInstanceOf(DomainError);
            const error = thrown as DomainError;
            expect({ kind: error.kind, code: error.code }).toEqual({ kind, code });
            if (details !== undefined) expect(error.details).toMatchObject(details);
          },
        };
      },
    };
  };
}

/** Conversation streams: start from "no conversation yet". */
export const given = deciderSpec<ConversationState, ConversationEvent>(evolve, () => null);
