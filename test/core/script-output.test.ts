import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptOutput, type OutputLine } from '../../src/core/script-output';

const out = (text: string, stream: OutputLine['stream'] = 'stdout'): OutputLine => ({ stream, text });

function feed(o: ScriptOutput, lines: OutputLine[]): { now: string[]; end: string[] } {
  const now = lines.flatMap((l) => {
    const r = o.add(l);
    return r ? [r.text] : [];
  });
  return { now, end: o.end().map((l) => l.text) };
}

describe('restart script output: head and tail', () => {
  const limits = { headLines: 3, headBytes: 1000, tailLines: 2 };

  it('a short output is logged as it comes, nothing at the end', () => {
    assert.deepEqual(feed(new ScriptOutput(limits), [out('a'), out('b', 'stderr')]), { now: ['a', 'b'], end: [] });
  });

  it('a long output: the first lines as they come, then how much was left out, then the last lines', () => {
    const lines = Array.from({ length: 10 }, (_, i) => out(`l${i}`));
    assert.deepEqual(feed(new ScriptOutput(limits), lines), {
      now: ['l0', 'l1', 'l2'],
      end: ['... 5 lines (15 bytes) of output not logged; the last 2:', 'l8', 'l9'],
    });
  });

  it('a few lines more than the head: all logged, in order, none left out', () => {
    const lines = Array.from({ length: 5 }, (_, i) => out(`l${i}`));
    assert.deepEqual(feed(new ScriptOutput(limits), lines), { now: ['l0', 'l1', 'l2'], end: ['l3', 'l4'] });
  });

  it('the byte budget ends the head too, and a short line after it does not jump the queue', () => {
    const o = new ScriptOutput({ headLines: 100, headBytes: 10, tailLines: 5 });
    assert.deepEqual(feed(o, [out('123456'), out('1234567'), out('x')]), { now: ['123456'], end: ['1234567', 'x'] });
  });

  it('keeps the stream of each line (stderr lines are logged as warnings)', () => {
    const o = new ScriptOutput({ headLines: 0, headBytes: 0, tailLines: 1 });
    o.add(out('a'));
    o.add(out('why it failed', 'stderr'));
    assert.deepEqual(o.end().at(-1), out('why it failed', 'stderr'));
  });

  it('the last lines of each stream are logged, even when many lines of the other came after them', () => {
    const o = new ScriptOutput({ headLines: 1, headBytes: 1000, tailLines: 8 });
    const lines = [out('h'), out('e1', 'stderr'), out('why it failed', 'stderr'), ...Array.from({ length: 20 }, (_, i) => out(`s${i}`))];
    assert.deepEqual(feed(o, lines), {
      now: ['h'],
      // two lines of each stream kept (a quarter of the tail), the rest the latest lines
      end: ['... 14 lines (46 bytes) of output not logged; the last 8:', 'e1', 'why it failed', 's14', 's15', 's16', 's17', 's18', 's19'],
    });
  });

  it('a million lines: memory stays the tail (no line kept beyond it)', () => {
    const o = new ScriptOutput();
    for (let i = 0; i < 1_000_000; i++) o.add(out(`line ${i}`));
    const end = o.end();
    assert.equal(end.length, 1 + 20);
    assert.match(end[0].text, /^\.\.\. 999900 lines \(\d+ bytes\) of output not logged; the last 20:$/);
    assert.equal(end.at(-1)!.text, 'line 999999');
  });
});
