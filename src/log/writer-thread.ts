// The last resort for writing to a descriptor that may block (stdout a socket without the
// native addon's MSG_DONTWAIT, or a pipe that cannot be reopened non-blocking): a worker thread
// writes, blocking if it must, while pcheck's loop goes on. Setting O_NONBLOCK on the descriptor
// instead would change the file description pcheck shares with its parent (the shell after
// pcheck would get EAGAIN). At most IN_FLIGHT_BYTES are handed over at a time; the rest waits
// in the WriteQueue, bounded.
import { Worker } from 'node:worker_threads';
import type { WriteResult } from './write-queue';

const IN_FLIGHT_BYTES = 64 * 1024;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
parentPort.on('message', (buf) => {
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(workerData.fd, buf, off);
    parentPort.postMessage({ written: buf.length });
  } catch (e) {
    parentPort.postMessage({ written: off, error: e.code || String(e) });
  }
});
`;

export interface WriterThread {
  tryWrite(b: Buffer): WriteResult;
  /** resolves once everything handed over is written, or after `ms` */
  drained(ms: number): Promise<void>;
  /** called when the thread has written something (the queue may go on) */
  onProgress: () => void;
}

export function startWriterThread(fd: number): WriterThread {
  const worker = new Worker(WORKER, { eval: true, workerData: { fd } });
  worker.unref();
  let inFlight = 0;
  let gone = false;
  const waiters: (() => void)[] = [];
  const t: WriterThread = {
    tryWrite(b) {
      if (gone) return 'gone';
      if (inFlight > IN_FLIGHT_BYTES) return 'full';
      inFlight += b.length;
      worker.postMessage(b);
      return b.length;
    },
    drained(ms) {
      if (inFlight === 0 || gone) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    onProgress: () => undefined,
  };
  worker.on('message', (m: { written: number; error?: string }) => {
    inFlight -= m.written;
    if (m.error !== undefined) {
      gone = true; // EPIPE: nobody will read again
      inFlight = 0;
    }
    if (inFlight <= 0 || gone) {
      inFlight = Math.max(inFlight, 0);
      for (const w of waiters.splice(0)) w();
    }
    t.onProgress();
  });
  worker.on('error', () => {
    gone = true;
    for (const w of waiters.splice(0)) w();
  });
  return t;
}
