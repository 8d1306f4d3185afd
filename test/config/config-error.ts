// The ConfigError that `load` throws (a test fails if it throws nothing or something else).
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors';

export function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  return assert.fail('expected a ConfigError, but it was accepted');
}
