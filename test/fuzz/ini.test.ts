// Fuzzing the FailSafe ini loader: mutated valid ini files and arbitrary text are either a
// FailsafeConfig or a ConfigError located in the file; nothing else escapes, nothing hangs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkIni, contractProperty, TARGETS, TEST_RUNS, VALID_INIS } from './gen';

const target = TARGETS[1];

describe('ini loader under fuzzing', () => {
  it('accepts every seed document, so mutations start from valid ini files', () => {
    for (const doc of VALID_INIS) assert.equal(checkIni(doc), 'accepted', doc.slice(0, 200));
  });

  it('returns a FailsafeConfig or throws a located ConfigError for 2,000 mutated and arbitrary ini files (seed 2)', () => {
    fc.assert(contractProperty(target), { numRuns: TEST_RUNS, seed: 2 });
  });

  it('rejects prototype keys, empty sections and broken quoting with a located ConfigError', () => {
    const base = VALID_INIS[0];
    const nasty = [
      '',
      '[]\n',
      '[group:]\n',
      '[group:web]\n__proto__ = 1\n',
      '[group:web]\nconstructor = 1\n',
      '[group:web]\ntoString = x\n',
      '[__proto__]\n',
      '[group:__proto__]\nstart = /bin/true\n[group:__proto__]\n',
      '[group:web]\nstart = "/bin/true\n',
      '[group:web]\nstart = "\\u0000"\n',
      `${base}interval = NaN\n`,
      `${base}interval = -1\n`,
      `${base}interval = 1e309\n`,
      `${base}retries = 99999999999999999999\n`,
      `${base}\0\n`,
    ];
    for (const text of nasty) assert.equal(checkIni(text), 'rejected', JSON.stringify(text.slice(0, 120)));
  });
});
