// Fuzzing the control-socket request parser: arbitrary JSON, request-shaped objects with
// prototype keys, deep nesting, huge lines and arbitrary strings are either a ControlRequest
// or a ControlRequestError with a numbered code and a short message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ControlErrorCode, ControlRequestError, parseRequest } from '../../src/control/protocol';
import { checkRequest, contractProperty, TARGETS, TEST_RUNS, VALID_REQUESTS } from './gen';

const target = TARGETS[2];

function codeOf(line: string): number {
  try {
    parseRequest(line);
  } catch (e) {
    if (e instanceof ControlRequestError) return e.code;
    throw e;
  }
  return assert.fail(`accepted ${line.slice(0, 100)}`);
}

describe('control request parser under fuzzing', () => {
  it('accepts every seed request', () => {
    for (const line of VALID_REQUESTS) assert.equal(checkRequest(line), 'accepted', line);
  });

  it('returns a ControlRequest or throws a coded ControlRequestError for 2,000 generated lines (seed 3)', () => {
    fc.assert(contractProperty(target), { numRuns: TEST_RUNS, seed: 3 });
  });

  it('answers BAD_REQUEST to prototype keys, deep nesting, huge and non-JSON lines', () => {
    const bad = [
      '{"__proto__":{"command":"status"}}',
      '{"command":"status","constructor":1}',
      '{"command":{"toString":"status"}}',
      '{"command":"status","args":[]}',
      '{"command":"status","args":null}',
      '{"command":"a\\u0000b"}',
      '[{"command":"status"}]',
      '['.repeat(30_000) + ']'.repeat(30_000),
      `{"command":"status","args":{"pad":"${'a'.repeat(70_000)}"}}`,
      `{"command":"${'x'.repeat(257)}"}`,
      '\uFEFF{"command":"status"}',
      'null',
      '',
    ];
    for (const line of bad) assert.equal(codeOf(line), ControlErrorCode.BAD_REQUEST, line.slice(0, 100));
  });

  it('keeps a __proto__ key inside args as plain data, without touching Object.prototype', () => {
    const req = parseRequest('{"command":"status","args":{"__proto__":{"polluted":true}}}');
    assert.equal(req.command, 'status');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
