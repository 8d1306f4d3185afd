// Is a restart script one that pcheck can run? Checked at load (and reload), so that a script
// that cannot work is refused at its pfile line, not found out at the first restart at 3 a.m.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoCode, q } from './words';

/** Throws the ConfigError of the pfile line that names the script. */
type Fail = (problem: string) => never;

/** Shells read a carriage return as part of the last word of a line (`cd /opt/app\r`). */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'mksh', 'zsh', 'busybox']);
/** Scripts are small; a longer file is checked in its first part. */
const READ_LIMIT = 256 * 1024;

/** Checks restart scripts for one load of a pfile: a script named by many entries (1,000 entries
 *  often share one) is looked at once. Throws through `bad` at each line that names a bad one. */
export function restartScriptChecker(): (file: string, bad: Fail) => void {
  const seen = new Map<string, string | null>();
  return (file, bad) => {
    let problem = seen.get(file);
    if (problem === undefined) seen.set(file, (problem = restartScriptProblem(file)));
    if (problem !== null) bad(problem);
  };
}

/** The restart script must be a regular file this process may execute (as pcheck will), with
 *  Unix line endings where they matter. What is wrong with it, or null. */
export function restartScriptProblem(file: string): string | null {
  const what = `restart script ${q(file)}`;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ENOTDIR') return `${what} does not exist; create it or correct the path`;
    return `${what} cannot be checked (${code ?? String(e)}); fix the permissions of its directories or correct the path`;
  }
  if (st.isDirectory()) return `${what} is a directory; give the path of the script inside it`;
  if (!st.isFile()) return `${what} is not a regular file; give the path of an executable script`;
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return `${what} is not executable (or is on a noexec mount); run chmod +x ${file}`;
  }
  const problem = lineEndingProblem(readHead(file, Math.min(st.size, READ_LIMIT)));
  return problem === null ? null : `${what} ${problem}; convert it with: dos2unix ${file}`;
}

/** A program (a FailSafe group's start/stop script, a custom monitor's command) saved with
 *  Windows line endings where they matter: what is wrong, with the fix, or null. */
export function programLineEndingProblem(file: string, size: number): string | null {
  const problem = lineEndingProblem(readHead(file, Math.min(size, READ_LIMIT)));
  return problem === null ? null : `${problem}; convert it with: dos2unix ${file}`;
}

/**
 * A script saved with Windows (CRLF) line endings. Its `#!` line ending in CR is what the kernel
 * cannot run (it looks for the interpreter `/bin/sh\r`: "bad interpreter"). A shell script (or
 * one without `#!`, which is run by /bin/sh) fails on a CR at the end of any line, so any CRLF
 * line is refused; other interpreters (python, perl) read CRLF lines, so only their `#!` line
 * matters. Binaries are not looked at. Null when the line endings are fine.
 */
export function lineEndingProblem(head: Buffer | null): string | null {
  if (head === null || head.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) return null;
  const text = head.toString('latin1');
  const firstEnd = text.indexOf('\n');
  const first = firstEnd < 0 ? text : text.slice(0, firstEnd);
  if (first.startsWith('#!') && first.endsWith('\r')) {
    const interpreter = first.slice(2).trim().split(/\s+/)[0] ?? '';
    return `has Windows (CRLF) line endings: its #! line ends in a carriage return, so the kernel looks for the interpreter ${q(`${interpreter}\r`)} ("bad interpreter") and the script never runs`;
  }
  if (first.startsWith('#!') && !SHELLS.has(interpreterName(first))) return null;
  const crlf = text.indexOf('\r\n');
  if (crlf < 0) return null;
  const line = text.slice(0, crlf).split('\n').length;
  return `has Windows (CRLF) line endings (line ${line} is the first): the shell reads each carriage return as part of the command (e.g. cd /opt/app\\r: no such directory)`;
}

/** `#!/bin/bash -e` → bash; `#!/usr/bin/env -S bash -e` → bash. */
function interpreterName(shebang: string): string {
  const words = shebang.slice(2).trim().split(/\s+/);
  let name = path.basename(words[0] ?? '');
  if (name === 'env') name = path.basename(words.slice(1).find((w) => !w.startsWith('-') && !w.includes('=')) ?? '');
  return name;
}

/** The first `size` bytes of the file, or null if it cannot be read (then exec decides). */
function readHead(file: string, size: number): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(size);
    const n = size === 0 ? 0 : fs.readSync(fd, buf, 0, size, 0);
    return buf.subarray(0, n);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
