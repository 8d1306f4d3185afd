// dnsmasq (Debian's dnsmasq-base) as a small DNS server on a loopback port: started as its
// manual says, it forks twice, writes its pid file and drops privileges; a private
// configuration answers one name, and --log-queries writes each query to its log file.
import { createSocket } from 'node:dgram';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fieldScenario } from '../helpers/field-daemon';
import { freePort } from '../helpers/field';
import { sleep } from '../helpers/harness';

const DNSMASQ = '/usr/sbin/dnsmasq';
const NAME = 'field.test';
const ANSWER = [127, 0, 0, 9];

/** An A query for NAME over UDP; true when the answer carries ANSWER. */
function resolves(port: number): Promise<boolean> {
  const labels = NAME.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  const query = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: boolean) => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 1000);
    s.on('error', () => done(false));
    s.on('message', (m) => done(m.readUInt16BE(6) > 0 && m.subarray(m.length - 4).equals(Buffer.from(ANSWER))));
    s.send(query, port, '127.0.0.1');
  });
}

fieldScenario('dnsmasq', async (sb) => {
  const port = await freePort(21880);
  const log = join(sb.dir, 'dnsmasq.log');
  const args = [
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--address=/${NAME}/${ANSWER.join('.')}`,
    `--pid-file=${join(sb.dir, 'dnsmasq.pid')}`,
    `--log-facility=${log}`,
    '--log-queries',
  ];
  const script = sb.script('dnsmasq-start.sh', `${DNSMASQ} ${args.join(' ')}`);
  const size = () => {
    try {
      return statSync(log).size;
    } catch {
      return 0;
    }
  };
  return {
    pname: DNSMASQ,
    script,
    options: `include_strings=--port=${port}`,
    isMine: (p) => p.exe === DNSMASQ && p.cmdline.includes(`--port=${port}`),
    port,
    serves: () => resolves(port),
    writesLog: async () => {
      const before = size();
      if (!(await resolves(port))) return false;
      for (let i = 0; i < 20 && size() <= before; i++) await sleep(50);
      return size() > before;
    },
  };
});
