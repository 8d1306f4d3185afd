// The rules of the Prometheus text exposition format 0.0.4 that a lenient parser lets pass
// (parse-prometheus-text-format accepts any metric name and any value text): checked line by
// line here, so a test fails on output that Prometheus itself would refuse to scrape.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Go's strconv.ParseFloat syntax as Prometheus writes and reads it, plus its special values. */
const FLOAT = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

export interface StrictSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface StrictFamily {
  name: string;
  type: string;
  help: string | null;
  samples: StrictSample[];
}

function parseValue(s: string, line: number): number {
  if (!FLOAT.test(s)) throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  return s.endsWith('Inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
}

function unescape(s: string, allowed: string, line: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    const c = s[++i];
    if (c === undefined || !allowed.includes(c)) throw new Error(`line ${line}: bad escape \\${c ?? ''}`);
    out += c === 'n' ? '\n' : c;
  }
  return out;
}

/** Parses a sample line strictly: `name{a="b",...} value [timestamp]`. */
function parseSample(text: string, line: number): StrictSample {
  const m = /^([^\s{]+)(\{.*\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$/.exec(text);
  if (!m) throw new Error(`line ${line}: not a sample: ${text}`);
  const [, name, rawLabels, value] = m;
  if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
  const labels: Record<string, string> = {};
  if (rawLabels !== undefined) {
    let rest = rawLabels.slice(1, -1);
    while (rest.length > 0) {
      const lm = /^([^=\s]+)="((?:[^"\\]|\\.)*)"(,?)/.exec(rest);
      if (!lm) throw new Error(`line ${line}: bad labels ${rawLabels}`);
      const [all, lname, lvalue, comma] = lm;
      if (!LABEL_NAME.test(lname) || lname.startsWith('__')) throw new Error(`line ${line}: bad label name ${lname}`);
      if (Object.hasOwn(labels, lname)) throw new Error(`line ${line}: label ${lname} twice`);
      labels[lname] = unescape(lvalue, '\\"n', line);
      rest = rest.slice(all.length);
      if (comma === '' && rest.length > 0) throw new Error(`line ${line}: missing comma in ${rawLabels}`);
    }
  }
  return { name, labels, value: parseValue(value, line) };
}

function familyOf(sample: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === 'histogram' || (t === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return sample;
}

/** Throws on the first line that breaks the format; returns the families in order. */
export function strictParse(text: string): StrictFamily[] {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a line feed');
  const families: StrictFamily[] = [];
  const byName = new Map<string, StrictFamily>();
  const types = new Map<string, string>();
  const series = new Set<string>();
  let current: StrictFamily | null = null;
  const enter = (name: string, n: number): StrictFamily => {
    let f = byName.get(name);
    if (f && f !== current) throw new Error(`line ${n}: family ${name} is not contiguous`);
    if (!f) {
      f = { name, type: 'untyped', help: null, samples: [] };
      byName.set(name, f);
      families.push(f);
    }
    current = f;
    return f;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((l, i) => {
      const n = i + 1;
      if (l.trim() === '') return;
      const meta = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(l);
      if (meta) {
        const [, kind, name, rest = ''] = meta;
        if (!METRIC_NAME.test(name)) throw new Error(`line ${n}: bad metric name ${name}`);
        const f = enter(name, n);
        if (kind === 'HELP') {
          if (f.help !== null) throw new Error(`line ${n}: second HELP for ${name}`);
          f.help = unescape(rest, '\\n', n);
        } else {
          if (types.has(name)) throw new Error(`line ${n}: second TYPE for ${name}`);
          if (f.samples.length > 0) throw new Error(`line ${n}: TYPE for ${name} after its samples`);
          if (!TYPES.includes(rest)) throw new Error(`line ${n}: unknown type ${rest}`);
          types.set(name, rest);
          f.type = rest;
        }
        return;
      }
      if (l.startsWith('#')) return; // a comment
      const s = parseSample(l, n);
      const f = enter(familyOf(s.name, types), n);
      const key = s.name + JSON.stringify(Object.entries(s.labels).sort());
      if (series.has(key)) throw new Error(`line ${n}: series ${key} twice`);
      series.add(key);
      f.samples.push(s);
    });
  for (const f of families) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Each series set of a histogram (one per label set, `le` aside) is cumulative and ends with +Inf = _count. */
function checkHistogram(f: StrictFamily): void {
  if (f.samples.some((s) => s.name === f.name)) throw new Error(`histogram ${f.name} has a bare sample`);
  const sets = new Map<string, StrictSample[]>();
  for (const s of f.samples) {
    const key = JSON.stringify(Object.entries(s.labels).filter(([k]) => k !== 'le').sort());
    sets.set(key, [...(sets.get(key) ?? []), s]);
  }
  for (const [labels, samples] of sets) {
    const what = `histogram ${f.name}${labels}`;
    const buckets = samples.filter((s) => s.name === `${f.name}_bucket`);
    const count = samples.find((s) => s.name === `${f.name}_count`);
    const sum = samples.find((s) => s.name === `${f.name}_sum`);
    if (!count || !sum) throw new Error(`${what} lacks _count or _sum`);
    let prevLe = -Infinity;
    let prevCount = 0;
    for (const b of buckets) {
      const le = b.labels.le;
      if (le === undefined) throw new Error(`${what}: a bucket without le`);
      const bound = parseValue(le, 0);
      if (!(bound > prevLe)) throw new Error(`${what}: le ${le} not increasing`);
      if (b.value < prevCount) throw new Error(`${what}: bucket ${le} not cumulative`);
      prevLe = bound;
      prevCount = b.value;
    }
    if (prevLe !== Infinity) throw new Error(`${what}: no +Inf bucket`);
    if (prevCount !== count.value) throw new Error(`${what}: +Inf bucket ${prevCount} ≠ count ${count.value}`);
  }
}
