// A real SMTP server on loopback for tests (the smtp-server package): no TLS, no auth.
import * as net from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server: no TLS, no auth, keeps every message it receives. */
export async function startSmtp(port = 0): Promise<{ port: number; mails: Received[]; close: () => Promise<void> }> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const env = session.envelope;
        mails.push({
          from: env.mailFrom === false ? '' : env.mailFrom.address,
          to: env.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  const s = await new Promise<net.Server>((resolve, reject) => {
    server.once('error', reject);
    const srv = server.listen(port, '127.0.0.1', () => resolve(srv));
  });
  return {
    port: (s.address() as net.AddressInfo).port,
    mails,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
