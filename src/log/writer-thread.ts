// The last resort for writing to a descriptor that may block (stdout a socket without the
// native addon's MSG_DONTWAIT, or a pipe that cannot be reopened non-blocking): a worker thread
// writes, blocking if it must, while pcheck's loop goes on. Setting O_NONBLOCK on the descriptor
// instead would change the file description pcheck shares with its parent (the shell after
// pcheck would get EAGAIN). At most IN_FLIGHT_BYTES are handed over at a time; the rest waits
// in the WriteQueue, bounded.
import { Worker } from 'node:worker_threads';
import type { WriteResult } from './write-queue';

const IN_FLIGHT_BYTES = 64 * 1024;

// EAGAIN: the descriptor is non-blocking after all (Node makes fd 1 so once anything touches
// process.stdout on a socket): wait a little, on this thread only, and go on.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const pause = new Int32Array(new SharedArrayBuffer(4));
parentPort.on('message', (buf) => {
  let off = 0;
  try {
    while (off < buf.length) {
      try {
        off += writeSync(workerData.fd, buf, off);
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 10);
      }
    }
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
  // stdout/stderr: true: the worker's own are not piped to the main thread's process.stdout,
  // whose creation would set O_NONBLOCK on fd 1 (the description pcheck shares with its parent)
  const worker = new Worker(WORKER, { eval: true, workerData: { fd }, stdout: true, stderr: true });
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
