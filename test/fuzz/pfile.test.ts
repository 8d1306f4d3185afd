// Fuzzing the pfile parser: mutated valid pfiles and arbitrary text are either a Pfile or a
// ConfigError located in the file; nothing else escapes, nothing hangs. The benchmark
// (npm run fuzz) runs the same property on 100,000 inputs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkPfile, contractProperty, mutate, TARGETS, TEST_RUNS, VALID_PFILES } from './gen';

const target = TARGETS[0];

describe('pfile parser under fuzzing', () => {
  it('accepts every seed document, so mutations start from valid pfiles', () => {
    for (const doc of VALID_PFILES) assert.equal(checkPfile(doc), 'accepted', doc);
  });

  it('returns a Pfile or throws a located ConfigError for 2,000 mutated and arbitrary pfiles (seed 1)', () => {
    fc.assert(contractProperty(target), { numRuns: TEST_RUNS, seed: 1 });
  });

  it('rejects hand-picked nasty pfiles with a located ConfigError', () => {
    const base = VALID_PFILES[0];
    const nasty = [
      '',
      '\uFEFF',
      '\0',
      '##### PARAM #####\nIPCKEY 0x1234\0\n##### PENT #####\n/a:/b:0:0:exit\n',
      '##### PARAM #####\nIPCKEY NaN\n##### PENT #####\n/a:/b:0:0:exit\n',
      '##### PARAM #####\nIPCKEY 0x1234\nMONITOR_INTERVAL 1e309\n##### PENT #####\n/a:/b:0:0:exit\n',
      '##### PARAM #####\nIPCKEY 0x1234\n##### PENT #####\n/a:/b:99999999999999999999:-1:exit\n',
      '##### PARAM #####\nIPCKEY 0x1234\n##### PENT #####\n/a:/b:0:0:exit:__proto__=x,constructor=y\n',
      '##### PARAM #####\nIPCKEY 0x1234\n##### PENT #####\n/a:/b:0:0:__proto__\n',
      '##### PARAM #####\n__proto__ 1\n##### PENT #####\n/a:/b:0:0:exit\n',
      mutate(base, [{ op: 'long', at: 1, n: 100_000, text: 'é' }]),
      base.replace(/\n/g, '\r'),
    ];
    for (const text of nasty) assert.equal(checkPfile(text), 'rejected', JSON.stringify(text.slice(0, 120)));
  });
});
