import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ControlErrorCode,
  ControlRequestError,
  defaultRunDir,
  ipckeyOfSocketName,
  MAX_REQUEST_BYTES,
  parseRequest,
  parseResponse,
  socketPath,
} from '../../src/control/protocol';
import { UsageError } from '../../src/errors';

function badRequest(line: string, pattern: RegExp): void {
  assert.throws(
    () => parseRequest(line),
    (e: unknown) => e instanceof ControlRequestError && e.code === ControlErrorCode.BAD_REQUEST && pattern.test(e.message),
  );
}

describe('parseRequest', () => {
  it('accepts a command alone and a command with an args object', () => {
    assert.deepEqual(parseRequest('{"command":"show pent"}'), { command: 'show pent' });
    assert.deepEqual(parseRequest('{"command":"stop pent","args":{"id":2}}'), { command: 'stop pent', args: { id: 2 } });
  });

  it('rejects text that is not JSON, quoting it', () => {
    badRequest('show pent', /not JSON.*"show pent"/);
  });

  it('rejects JSON that is not an object', () => {
    badRequest('["show pent"]', /must be a JSON object/);
    badRequest('null', /must be a JSON object/);
    badRequest('"show pent"', /must be a JSON object/);
  });

  it('rejects a missing, empty or non-string command', () => {
    badRequest('{}', /"command" must be a non-empty string/);
    badRequest('{"command":""}', /"command" must be a non-empty string/);
    badRequest('{"command":7}', /"command" must be a non-empty string/);
  });

  it('rejects fields other than command and args', () => {
    badRequest('{"command":"list","verbose":true}', /unexpected field "verbose"/);
  });

  it('rejects args that are not an object', () => {
    badRequest('{"command":"list","args":[1]}', /"args" must be a JSON object/);
    badRequest('{"command":"list","args":null}', /"args" must be a JSON object/);
  });

  it('rejects control characters in the command', () => {
    badRequest('{"command":"show\\u001bpent"}', /control characters/);
  });

  it('rejects a line over the size limit before parsing it', () => {
    const line = JSON.stringify({ command: 'x', args: { pad: 'a'.repeat(MAX_REQUEST_BYTES) } });
    badRequest(line, /bytes; the limit is 65536/);
  });
});

describe('parseResponse', () => {
  it('reads success and error answers', () => {
    assert.deepEqual(parseResponse('{"ok":true,"text":"hi","data":{"a":1}}'), { ok: true, text: 'hi', data: { a: 1 } });
    assert.deepEqual(parseResponse('{"ok":false,"code":11,"error":"no"}'), { ok: false, code: 11, error: 'no' });
  });

  it('rejects answers of the wrong shape', () => {
    assert.throws(() => parseResponse('hello'), /not JSON/);
    assert.throws(() => parseResponse('{"text":"x"}'), /not a control response/);
    assert.throws(() => parseResponse('{"ok":false,"error":"x"}'), /integer "code"/);
  });
});

describe('socket naming', () => {
  it('names the socket after the IPCKEY in 8 lowercase hex digits', () => {
    assert.equal(socketPath('/run/procsafe', 0x1a2b3c4d), '/run/procsafe/pcheck-0x1a2b3c4d.sock');
    assert.equal(socketPath('/tmp/r', 255), '/tmp/r/pcheck-0x000000ff.sock');
  });

  it('reads the IPCKEY back from a socket name and ignores other names', () => {
    assert.equal(ipckeyOfSocketName('pcheck-0x1a2b3c4d.sock'), 0x1a2b3c4d);
    assert.equal(ipckeyOfSocketName('pcheck-0x1A2B3C4D.sock'), null);
    assert.equal(ipckeyOfSocketName('rehearse.log'), null);
  });

  it('refuses an IPCKEY outside 32 bits', () => {
    assert.throws(() => socketPath('/r', 2 ** 32), UsageError);
    assert.throws(() => socketPath('/r', -1), UsageError);
    assert.throws(() => socketPath('/r', 1.5), UsageError);
  });

  it('takes the run directory from PROCSAFE_RUN_DIR, else /run/procsafe', () => {
    const saved = process.env.PROCSAFE_RUN_DIR;
    try {
      process.env.PROCSAFE_RUN_DIR = '/tmp/elsewhere';
      assert.equal(defaultRunDir(), '/tmp/elsewhere');
      delete process.env.PROCSAFE_RUN_DIR;
      assert.equal(defaultRunDir(), '/run/procsafe');
    } finally {
      if (saved === undefined) delete process.env.PROCSAFE_RUN_DIR;
      else process.env.PROCSAFE_RUN_DIR = saved;
    }
  });
});
