// Renders bench results as markdown: the tables, and the targets of the issue "Heal in
// milliseconds at any scale" with the measured figure and met / MISSED for each.
import { fmtMs, type Summary } from './stats';
import type { HealRow, IdleRow, MassRow, Results } from './types';

const ms = (v: number | null | undefined) => fmtMs(v);
const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v < 0.1 ? v.toFixed(3) : v.toFixed(2));
const mb = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(1));

export function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n';
}

function healLabel(r: HealRow): string {
  let l = r.label;
  if (r.background > 0) l += `, + ${r.background} other processes`;
  if (!r.subreaper) l += ', **bench not a subreaper**';
  if (r.method === 'staggered') l += ` (${r.kills} kills)`;
  return l;
}

function spread(s: Summary): string[] {
  return [ms(s.min), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
}

export function renderReport(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`# procsafe heal benchmark — ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC\n`);
  out.push(
    `\`${r.command}\` — ${r.durationS > 0 ? `${(r.durationS / 60).toFixed(1)} min, ` : ''}seed ${r.options.seed}, ` +
      `${r.options.kills} kills per heal row, idle windows ${r.options.idleSeconds} s, ${r.options.background} background processes.  \n` +
      `${m.nproc} × ${m.cpu}; ${m.memory.replace(/\s+/g, ' ')}; ${m.kernel}; ${m.os}; node ${m.node}; ${m.monit}; supervisord ${m.supervisord}.  \n` +
      `procsafe ${m.procsafe} (run from a copy of the build taken at the start).  \n` +
      `${r.subreaper.note}. Load average at start ${r.load.start}, at end ${r.load.end}; ` +
      `"host busy" columns are the whole machine's CPU use (% of all ${m.nproc} cores, the bench and anyone else included) during the row.\n`,
  );

  // heal
  out.push('## Heal latency: SIGKILL → a new process with the same command line in /proc (polled every 1 ms), ms\n');
  out.push(
    table(
      ['supervisor', 'N', 'kills', 'min', 'p50', 'p90', 'p99', 'max', 'not healed', 'killed pid reaped after (p50 / max)', 'host busy %'],
      r.heal.map((h) => [
        healLabel(h),
        String(h.n),
        String(h.kills),
        ...spread(h.healS),
        String(h.failed),
        `${ms(h.zombieS.p50)} / ${ms(h.zombieS.max)}`,
        pct(h.machineBusyPct),
      ]),
    ),
  );
  if (r.script) {
    const s = r.script;
    out.push(
      `Restart script alone (${s.runs} runs, spawned as pcheck does): spawn → exit p50 ${ms(s.spawnToExit.p50)} ms ` +
        `(min ${ms(s.spawnToExit.min)}, max ${ms(s.spawnToExit.max)}); spawn → its process in /proc p50 ${ms(s.spawnToProcess.p50)} ms ` +
        `(min ${ms(s.spawnToProcess.min)}, max ${ms(s.spawnToProcess.max)}); \`bash -c true\` spawn → exit p50 ${ms(s.bashTrue.p50)} ms.\n`,
    );
  }
  const staggered = r.heal.find((h) => h.method === 'staggered');
  if (staggered) out.push(`monit at \`set daemon 30\`: ${staggered.note} (not 40 sequential kills, which would take 20+ minutes).\n`);

  // detection
  const det = r.heal.filter((h) => h.downS);
  if (det.length > 0) {
    out.push('## Detection latency: SIGKILL → `Down` line read from pcheck\'s stdout, ms\n');
    out.push(
      table(
        ['supervisor', 'N', 'kills', 'min', 'p50', 'p90', 'p99', 'max', '`Up` logged p50', '`Up` logged p99'],
        det.map((h) => [healLabel(h), String(h.n), String(h.downS?.n ?? 0), ...spread(h.downS as Summary), ms(h.upS?.p50), ms(h.upS?.p99)]),
      ),
    );
  }

  // mass
  if (r.mass.length > 0) {
    const n = r.mass[0].n;
    out.push(`## ${n.toLocaleString('en')} simultaneous kills (all killed in one loop), ms\n`);
    out.push(
      table(
        ['supervisor', 'killed within', 'detected (`Down`)', 'Down p50', 'Down p99', 'Down max', 'first / last Down after 1st kill', 'Down written (pcheck clock) p50 / p99', 'back in /proc', 'heal p50', 'heal p99', 'heal max', '`Up` logged', 'Up p99', 'supervisor CPU s (over s)', 'host busy %'],
        r.mass.map((x: MassRow) => [
          x.label + (x.note ? ` (${x.note})` : ''),
          ms(x.killSpanMs),
          x.detected === null ? '–' : `${x.detected}/${x.n}`,
          ms(x.downS?.p50),
          ms(x.downS?.p99),
          ms(x.downS?.max),
          x.firstDownMs === null ? '–' : `${ms(x.firstDownMs)} / ${ms(x.lastDownMs)}`,
          x.downStampS ? `${ms(x.downStampS.p50)} / ${ms(x.downStampS.p99)}` : '–',
          `${x.healed}/${x.n}`,
          ms(x.healS.p50),
          ms(x.healS.p99),
          ms(x.healS.max),
          x.upLogged === null ? '–' : `${x.upLogged}/${x.n}`,
          ms(x.upS?.p99),
          `${x.supervisorCpuS.toFixed(2)} (${x.spanS.toFixed(1)})`,
          pct(x.machineBusyPct),
        ]),
      ),
    );
  }

  // idle
  if (r.idle.length > 0) {
    out.push(`## Idle cost: CPU % of one core (utime+stime of the supervisor's process tree over ${r.options.idleSeconds} s) and RSS (sum of VmRSS; watched services left out)\n`);
    const keys = [...new Set(r.idle.map((i) => `${i.sut}\t${i.n}`))];
    const find = (sut: string, n: number, bg: boolean): IdleRow | undefined => r.idle.find((i) => i.sut === sut && i.n === n && (i.background > 0) === bg);
    out.push(
      table(
        ['supervisor', 'N', 'CPU %', `CPU % with ${r.options.background} bg`, 'RSS MB', `RSS MB with ${r.options.background} bg`, 'host busy % (no bg / bg)'],
        keys
          .map((k) => k.split('\t'))
          .sort((a, b) => Number(a[1]) - Number(b[1]))
          .map(([sut, nn]) => {
            const n = Number(nn);
            const a = find(sut, n, false);
            const b = find(sut, n, true);
            return [(a ?? b)?.label ?? sut, nn, pct(a?.cpuPct), pct(b?.cpuPct), mb(a?.rssMb), mb(b?.rssMb), `${pct(a?.machineBusyPct)} / ${pct(b?.machineBusyPct)}`];
          }),
      ),
    );
  }

  // start-up
  if (r.startup.length > 0) {
    out.push('## Start-up: supervisor started → it has seen all N running services, s\n');
    const ns = [...new Set(r.startup.map((x) => x.n))].sort((a, b) => a - b);
    const suts = [...new Set(r.startup.map((x) => x.sut))];
    out.push(
      table(
        ['supervisor', ...ns.map((n) => `N=${n}`)],
        suts.map((sut) => [
          sut.endsWith('-nosubreaper') ? `${r.startup.find((x) => x.sut === sut)?.label ?? sut}, bench not a subreaper` : (r.startup.find((x) => x.sut === sut)?.label ?? sut),
          ...ns.map((n) => {
            const x = r.startup.find((y) => y.sut === sut && y.n === n);
            return x ? (x.ms / 1000).toFixed(1) : '–';
          }),
        ]),
      ),
    );
  }

  // padmin
  if (r.padmin) {
    const p = r.padmin;
    out.push(`## \`padmin -f PFILE -c 'show pent'\` against ${p.n} entries, spawn → exit, ms\n`);
    out.push(
      table(
        ['runs', 'correct output', 'min', 'p50', 'max', '`node -e 0` p50 (min)'],
        [[String(p.runs), `${p.ok}/${p.runs}`, ms(p.s.min), ms(p.s.p50), ms(p.s.max), `${ms(p.nodeStart.p50)} (${ms(p.nodeStart.min)})`]],
      ),
    );
  }

  const warm = r.heal.filter((h) => h.rssAfterMb !== null);
  if (warm.length > 0) {
    out.push('RSS of the supervisor after the heal rows among other processes (the warm-up): ' + warm.map((h) => `${h.label} ${mb(h.rssAfterMb)} MB`).join(', ') + '.\n');
  }

  out.push('## Targets of issue 14 (lighter and faster at scale)\n');
  out.push(table(['target', 'measured', 'verdict'], scaleTargets(r)));
  out.push('## Targets of the first bench (heal in milliseconds at any scale)\n');
  out.push(table(['target', 'measured', 'verdict'], targets(r)));
  if (r.errors.length > 0) out.push(`## Errors\n\n${r.errors.map((e) => `- ${e}`).join('\n')}\n`);
  return out.join('\n');
}

function verdict(ok: boolean | null): string {
  return ok === null ? 'not measured' : ok ? 'met' : '**MISSED**';
}

/** The table of issue 14: 1,000 entries among 2,000 other processes. */
function scaleTargets(r: Results): string[][] {
  const rows: string[][] = [];
  const among = (sut: string) => r.heal.find((h) => h.sut === sut && h.background > 0 && h.subreaper);
  const pidfd = among('procsafe-pidfd');
  const poll = among('procsafe-poll');
  const idle = (sut: string, bg: boolean) => r.idle.find((i) => i.sut === sut && i.n === pidfd?.n && (i.background > 0) === bg);
  if (pidfd) {
    rows.push([`RSS of pcheck after warm-up (${pidfd.kills} heals), N=${pidfd.n} + ${pidfd.background} other processes ≤ 64 MB`, `${mb(pidfd.rssAfterMb)} MB (poll: ${mb(poll?.rssAfterMb)} MB)`, verdict(pidfd.rssAfterMb === null ? null : pidfd.rssAfterMb <= 64)]);
    rows.push([`heal p50 ≤ 20 ms / p99 ≤ 50 ms, N=${pidfd.n} + ${pidfd.background} (pidfd)`, `${ms(pidfd.healS.p50)} / ${ms(pidfd.healS.p99)} ms (host busy ${pct(pidfd.machineBusyPct)} %)`, verdict(pidfd.failed === 0 && pidfd.healS.p50 <= 20 && pidfd.healS.p99 <= 50)]);
  }
  for (const x of r.mass.filter((m) => m.sut === 'procsafe-pidfd' && m.stateFile)) {
    const downOk = x.detected === x.n && (x.downS?.p99 ?? Infinity) <= 100;
    rows.push([`${x.n} simultaneous kills: all \`Down\` logged, p99 ≤ 100 ms`, `${x.detected}/${x.n}, p99 ${ms(x.downS?.p99)} ms`, verdict(downOk)]);
    rows.push([`${x.n} simultaneous kills: all healed within 3 s`, `${x.healed}/${x.n}, p50 ${ms(x.healS.p50)} ms, last ${ms(x.healS.max)} ms`, verdict(x.healed === x.n && x.healS.max <= 3000)]);
  }
  const pollIdle = r.idle.find((i) => i.sut === 'procsafe-poll' && i.n === poll?.n && i.background > 0);
  if (poll && pollIdle) {
    rows.push([`poll fallback, N=${poll.n}: idle CPU ≤ 1.5 % (with ${pollIdle.background} other processes)`, `${pct(pollIdle.cpuPct)} %`, verdict(pollIdle.cpuPct <= 1.5)]);
    rows.push([`poll fallback, N=${poll.n} + ${poll.background}: heal p50 ≤ 60 ms`, `${ms(poll.healS.p50)} ms (p99 ${ms(poll.healS.p99)})`, verdict(poll.failed === 0 && poll.healS.p50 <= 60)]);
  }
  if (r.padmin) rows.push([`\`padmin -f … -c 'show pent'\`, ${r.padmin.n} entries, p50 ≤ 80 ms`, `${ms(r.padmin.s.p50)} ms (\`node -e 0\`: ${ms(r.padmin.nodeStart.p50)} ms)`, verdict(r.padmin.ok === r.padmin.runs && r.padmin.s.p50 <= 80)]);
  const i = idle('procsafe-pidfd', true);
  if (i) rows.push([`idle CPU ≤ 0.5 %, pidfd, N=${i.n} + ${i.background}`, `${pct(i.cpuPct)} %`, verdict(i.cpuPct <= 0.5)]);
  return rows;
}

function targets(r: Results): string[][] {
  const rows: string[][] = [];
  const script = r.script?.spawnToExit.p50 ?? NaN;
  const heal = (sut: string, n: number) => r.heal.find((h) => h.sut === sut && h.n === n && h.subreaper && h.method === 'sequential');
  for (const sut of ['procsafe-pidfd', 'procsafe-poll']) {
    for (const n of [10, 100]) {
      const h = heal(sut, n);
      if (!h) continue;
      const limit = 30 + script;
      rows.push([
        `${sut} N=${n}: heal p50 ≤ 30 ms + script (${ms(script)}) = ${ms(limit)} ms`,
        `p50 ${ms(h.healS.p50)} ms`,
        verdict(h.healS.p50 <= limit),
      ]);
      rows.push([`${sut} N=${n}: heal p99 ≤ 100 ms`, `p99 ${ms(h.healS.p99)} ms (max ${ms(h.healS.max)})`, verdict(h.healS.p99 <= 100 && h.failed === 0)]);
      const monit = heal('monit-1s', n);
      if (monit) {
        const ratio = monit.healS.p50 / h.healS.p50;
        rows.push([`${sut} N=${n}: ≥ 10× faster than monit at \`set daemon 1\` (p50)`, `${ms(monit.healS.p50)} / ${ms(h.healS.p50)} ms = ${ratio.toFixed(1)}×`, verdict(ratio >= 10)]);
      }
    }
  }
  const idle = (sut: string, n: number, bg: boolean) => r.idle.find((i) => i.sut === sut && i.n === n && (i.background > 0) === bg);
  const nMax = Math.max(0, ...r.idle.map((i) => i.n));
  for (const sut of ['procsafe-pidfd', 'procsafe-poll']) {
    const i = idle(sut, nMax, true);
    if (i) rows.push([`${sut}: idle CPU ≤ 1 % of a core, N=${nMax} + ${r.options.background} bg`, `${pct(i.cpuPct)} %`, verdict(i.cpuPct <= 1)]);
    const ns = [...new Set(r.idle.filter((x) => x.sut === sut).map((x) => x.n))].sort((a, b) => a - b);
    for (const n of ns) {
      for (const bg of [false, true]) {
        const p = idle(sut, n, bg);
        const mo = idle('monit-1s', n, bg);
        if (p && mo) {
          rows.push([
            `${sut}: idle CPU ≤ monit \`set daemon 1\`, N=${n}${bg ? ` + ${r.options.background} bg` : ''}`,
            `${pct(p.cpuPct)} % vs ${pct(mo.cpuPct)} %`,
            verdict(p.cpuPct <= mo.cpuPct),
          ]);
        }
      }
    }
    const rss = [idle(sut, nMax, false), idle(sut, nMax, true)].filter((x): x is IdleRow => x !== undefined);
    if (rss.length > 0) {
      const worst = Math.max(...rss.map((x) => x.rssMb));
      rows.push([`${sut}: RSS ≤ 80 MB with N=${nMax}`, `${mb(worst)} MB`, verdict(worst <= 80)]);
    }
  }
  for (const x of r.mass.filter((m) => m.sut.startsWith('procsafe') && m.stateFile)) {
    const all = x.detected === x.n;
    rows.push([
      `${x.sut}: ${x.n} simultaneous kills all detected, p99 ≤ 250 ms`,
      `${x.detected}/${x.n} detected, p99 ${ms(x.downS?.p99)} ms; all back in /proc after ${ms(x.healS.max)} ms`,
      verdict(all && (x.downS?.p99 ?? Infinity) <= 250),
    ]);
  }
  if (r.padmin) rows.push([`padmin show pent, ${r.padmin.n} entries < 150 ms`, `p50 ${ms(r.padmin.s.p50)} ms, max ${ms(r.padmin.s.max)} ms`, verdict(r.padmin.ok === r.padmin.runs && r.padmin.s.p50 < 150)]);
  return rows;
}
