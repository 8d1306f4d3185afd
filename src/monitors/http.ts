// `http` monitor: one GET; the status must be expect_status and, when expect_body is set,
// the body must contain it. Redirects are not followed (a 3xx is just a status), and
// https verifies the certificate against the system CAs like any client would.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Probe, ProbeResult } from './types';
import { deadline, errText, notInTime, since } from './util';

/** Body searched for expect_body: a health page is small; a huge one is not read to the end. */
const MAX_BODY_CHARS = 1024 * 1024;

/** The URL for a detail line, without user:password. */
function shown(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

export function createHttpProbe(urlText: string, expectStatus: number, expectBody: string | null): Probe {
  const requests = new Set<http.ClientRequest>();

  async function check(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    let url: URL;
    try {
      url = new URL(urlText);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported scheme ${url.protocol}`);
    } catch (err) {
      return { ok: false, detail: `bad url ${JSON.stringify(urlText)}: ${errText(err)}` };
    }
    const where = shown(url);
    const dl = deadline(signal, timeoutMs);
    const started = performance.now();
    let phase = `waiting for ${where}`;
    let req: http.ClientRequest | null = null;
    try {
      return await new Promise<ProbeResult>((resolve) => {
        // The deadline ends the check itself: a response cut mid-body does not always
        // emit 'error', so the check does not wait for the request's events.
        if (dl.signal.aborted) return resolve({ ok: false, detail: notInTime(dl.why(), timeoutMs, phase) });
        dl.signal.addEventListener('abort', () => resolve({ ok: false, detail: notInTime(dl.why(), timeoutMs, phase) }), { once: true });
        const get = url.protocol === 'https:' ? https.get : http.get;
        // agent:false: a fresh connection each time, none kept open between checks;
        // the signal aborts DNS, connect and body alike.
        req = get(url, { agent: false, signal: dl.signal, headers: { 'user-agent': 'procsafe', accept: '*/*' } }, (res) => {
          const status = res.statusCode ?? 0;
          const ms = since(started);
          if (status !== expectStatus) {
            res.destroy();
            return resolve({ ok: false, detail: `HTTP ${status} (expected ${expectStatus}) from ${where} in ${ms} ms` });
          }
          if (expectBody === null) {
            res.destroy();
            return resolve({ ok: true, detail: `HTTP ${status} from ${where} in ${ms} ms` });
          }
          phase = `reading the body of ${where}`;
          res.setEncoding('utf8'); // decodes characters split between chunks
          let tail = ''; // the end of what was read, in case a match spans two chunks
          let read = 0;
          res.on('data', (chunk: string) => {
            read += chunk.length;
            const hay = tail + chunk;
            if (hay.includes(expectBody)) {
              res.destroy();
              resolve({ ok: true, detail: `HTTP ${status} from ${where} in ${since(started)} ms, body has ${JSON.stringify(expectBody)}` });
            } else if (read > MAX_BODY_CHARS) {
              res.destroy();
              resolve({ ok: false, detail: `HTTP ${status} from ${where}: ${JSON.stringify(expectBody)} not in the first ${MAX_BODY_CHARS} characters of the body` });
            } else {
              tail = hay.slice(hay.length - (expectBody.length - 1));
            }
          });
          res.on('end', () =>
            resolve({ ok: false, detail: `HTTP ${status} from ${where} in ${since(started)} ms, but the body lacks ${JSON.stringify(expectBody)}` }),
          );
          res.on('error', (err) => resolve(failure(err)));
        });
        requests.add(req);
        const failure = (err: unknown): ProbeResult =>
          dl.why() !== null
            ? { ok: false, detail: notInTime(dl.why(), timeoutMs, phase) }
            : { ok: false, detail: `GET ${where} failed: ${errText(err)} after ${since(started)} ms` };
        req.on('error', (err) => resolve(failure(err)));
      });
    } finally {
      dl.dispose();
      if (req !== null) {
        (req as http.ClientRequest).destroy();
        requests.delete(req);
      }
    }
  }

  return {
    check,
    close: () => {
      for (const r of requests) r.destroy();
      requests.clear();
    },
  };
}
