import type { OnListenerError } from '../../src/lib/typed-emitter.ts';

/** For emitters under test: a listener that throws fails the test at the emit, loudly. */
export const rethrow: OnListenerError = (_event, error) => {
  throw error;
};
