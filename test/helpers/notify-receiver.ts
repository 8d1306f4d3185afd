// A real sd_notify receiver for tests: python3 bound to a unix datagram socket ('/path' or
// '@abstract'), printing each datagram with its CLOCK_MONOTONIC arrival time and the sender's
// pid from its credentials (SO_PASSCRED, as systemd reads them for NotifyAccess=main). (python3 is on
// every machine that builds the native addon: node-gyp needs it.)
import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Datagram {
  /** CLOCK_MONOTONIC ms at which the receiver got it */
  mono: number;
  text: string;
  /** the first line: READY=1, STATUS=..., WATCHDOG=1, STOPPING=1 (after the MAINPID= that
   *  systemd-notify puts first) */
  head: string;
  /** the pid in the datagram's credentials: the process systemd takes as the sender */
  pid: number;
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
      'import socket, json, time, struct',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
      's.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)',
      `s.bind(${bindTo})`,
      'print("ready", flush=True)',
      'while True:',
      '    d, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))',
      '    pid = next((struct.unpack("i", c[:4])[0] for l, t, c in anc if l == socket.SOL_SOCKET and t == socket.SCM_CREDENTIALS), 0)',
      '    print(json.dumps([time.monotonic_ns(), d.decode("utf-8", "replace"), pid]), flush=True)',
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
            const [ns, text, pid] = JSON.parse(p) as [number, string, number];
            r.got.push({ mono: ns / 1e6, text, head: text.split('\n').filter((l) => !l.startsWith('MAINPID='))[0] ?? '', pid });
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
