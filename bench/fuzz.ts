// Fuzz benchmark: feeds N generated inputs (default 100,000) to each parser that reads
// untrusted text (the pfile parser, the ini loader, the control-socket request parser) and
// prints a markdown table. Exit 1 if any input crashed a parser (an exception other than its
// own error type, or an error that is not located in the file), so CI can run it.
//   npm run fuzz -- --runs 100000 --seed 42
import { excerpt, runTarget, SLOW_MS, TARGETS, type Stats } from '../test/fuzz/gen';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) {
    process.stderr.write(`${name} needs a positive whole number, got ${JSON.stringify(process.argv[i + 1] ?? '')}\n`);
    process.exit(2);
  }
  return v;
}

function main(): void {
  const runs = flag('--runs', 100_000);
  const seed = flag('--seed', 20_240_601);
  const all: Stats[] = [];
  for (const t of TARGETS) {
    process.stderr.write(`fuzzing ${t.name}: ${runs} inputs, seed ${seed}…\n`);
    all.push(runTarget(t, runs, seed));
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  const out = [
    `Fuzz run: ${fmt(runs)} inputs per target, seed ${seed}, node ${process.version}`,
    '',
    `| target | inputs | accepted | rejected | crashes | slowest ms | > ${SLOW_MS} ms | inputs/s |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...all.map(
      (s) =>
        `| ${s.target} | ${fmt(s.inputs)} | ${fmt(s.accepted)} | ${fmt(s.rejected)} | ${s.crashes.length} | ${s.slowestMs.toFixed(1)} | ${s.slowCount} | ${fmt(Math.round(s.inputs / (s.elapsedMs / 1000)))} |`,
    ),
  ];
  for (const s of all) {
    for (const c of s.crashes.slice(0, 5)) out.push('', `CRASH in ${s.target}: ${c.message}`, `  input: ${excerpt(c.input, 400)}`);
    for (const w of s.slow) out.push('', `SLOW (${w.ms.toFixed(1)} ms) in ${s.target}: input ${excerpt(w.input)}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  process.exit(all.some((s) => s.crashes.length > 0) ? 1 : 0);
}

main();
