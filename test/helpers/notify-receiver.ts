// A real sd_notify receiver for tests: python3 bound to a unix datagram socket ('/path' or
// '@abstract'), printing each datagram with its CLOCK_MONOTONIC arrival time. (python3 is on
// every machine that builds the native addon: node-gyp needs it.)
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Datagram {
  /** CLOCK_MONOTONIC ms at which the receiver got it */
  mono: number;
  text: string;
  /** the first line: READY=1, STATUS=..., WATCHDOG=1, STOPPING=1 */
  head: string;
}

export class Receiver {
  readonly got: Datagram[] = [];
  private constructor(
    readonly address: string,
    private readonly proc: ChildProcess,
  ) {}

  static start(address: string): Promise<Receiver> {
    const bindTo = address.startsWith('@') ? `'\\0' + ${JSON.stringify(address.slice(1))}` : JSON.stringify(address);
    const py = [
      'import socket, json, time',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      `s.bind(${bindTo})`,
      'print("ready", flush=True)',
      'while True:',
      '    d = s.recv(65536)',
      '    print(json.dumps([time.monotonic_ns(), d.decode("utf-8", "replace")]), flush=True)',
    ].join('\n');
    const proc = spawn('python3', ['-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
    const r = new Receiver(address, proc);
    return new Promise((resolve, reject) => {
      let buf = '';
      proc.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        const parts = buf.split('\n');
        buf = parts.pop() ?? '';
        for (const p of parts) {
          if (p === 'ready') resolve(r);
          else {
            const [ns, text] = JSON.parse(p) as [number, string];
            r.got.push({ mono: ns / 1e6, text, head: text.split('\n')[0] });
          }
        }
      });
      proc.once('exit', (code) => reject(new Error(`python3 receiver exited (${code})`)));
    });
  }

  texts(): string[] {
    return this.got.map((d) => d.text);
  }

  async waitCount(n: number, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.got.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.got.length} datagrams, not ${n}: ${JSON.stringify(this.texts())}`);
      await sleep(5);
    }
  }

  beats(from = 0, to = Infinity): Datagram[] {
    return this.got.filter((d) => d.head === 'WATCHDOG=1' && d.mono > from && d.mono < to);
  }

  statuses(): string[] {
    return this.got.flatMap((d) => d.text.split('\n').filter((l) => l.startsWith('STATUS=')).map((l) => l.slice('STATUS='.length)));
  }

  async waitFor(pred: (d: Datagram) => boolean, what: string, timeoutMs = 10_000, from = 0): Promise<Datagram> {
    return waitFor(() => this.got.slice(from).find(pred), timeoutMs, `${what}; got ${JSON.stringify(this.got.map((d) => d.text))}`);
  }

  stop(): Promise<void> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null || !p.pid) return Promise.resolve();
    const done = new Promise<void>((res) => p.once('exit', () => res()));
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    return done;
  }
}
