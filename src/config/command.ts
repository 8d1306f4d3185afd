// Commands from the FailSafe ini file (start, stop, custom monitor command) are run WITHOUT a
// shell (execFile-style), so that a value from a config file can never turn into shell code
// and so that the pid procsafe waits for and kills is the program itself, not a sh wrapper.
// splitCommand gives the familiar quoting of sh (words, '…', "…", backslash) and refuses the
// rest of sh's syntax instead of passing it on literally, which would fail in confusing ways.
import * as path from 'node:path';

const NO_SHELL = 'commands run without a shell; put pipelines in a script and name the script here';

/** Characters that only a shell gives a meaning to, outside quotes. `$` is handled apart. */
const SHELL_SYNTAX: ReadonlyMap<string, string> = new Map([
  ['|', 'a pipe'],
  [';', 'a command separator'],
  ['&', 'a background or "&&" operator'],
  ['>', 'a redirection'],
  ['<', 'a redirection'],
  ['`', 'a command substitution'],
  ['(', 'a subshell'],
  [')', 'a subshell'],
]);

/** Inside double quotes a backslash escapes only these (as in sh); before anything else it stays. */
const DQ_ESCAPABLE = new Set(['"', '\\', '$', '`']);

/**
 * Splits a command into argv like sh would split a simple command, without expanding anything:
 * blanks separate words, '…' is literal, "…" allows \" \\ \$ \`, a backslash outside quotes
 * takes the next character as is. Throws an Error (the caller adds section and key) for an
 * unterminated quote, shell syntax outside quotes, an empty command, or a first word that is
 * not an absolute path.
 */
export function splitCommand(text: string): string[] {
  const words = splitWords(text);
  if (words.length === 0) throw new Error('the command is empty; give the absolute path of a program, e.g. /opt/app/bin/start.sh');
  checkProgram(words[0]);
  return words;
}

interface Scan {
  words: string[];
  word: string;
  /** true once the current word has started, so that "" yields an empty argument. */
  inWord: boolean;
}

function splitWords(text: string): string[] {
  const s: Scan = { words: [], word: '', inWord: false };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      endWord(s);
      i++;
    } else if (c === "'") {
      i = singleQuoted(text, i, s);
    } else if (c === '"') {
      i = doubleQuoted(text, i, s);
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new Error('the command ends with a backslash; remove it, or write \\\\ for a literal backslash');
      add(s, text[i + 1]);
      i += 2;
    } else {
      checkUnquoted(text, i);
      add(s, c);
      i++;
    }
  }
  endWord(s);
  return s.words;
}

function add(s: Scan, chars: string): void {
  s.word += chars;
  s.inWord = true;
}

function endWord(s: Scan): void {
  if (s.inWord) s.words.push(s.word);
  s.word = '';
  s.inWord = false;
}

/** Reads '…' starting at `open`; returns the index after the closing quote. */
function singleQuoted(text: string, open: number, s: Scan): number {
  const close = text.indexOf("'", open + 1);
  if (close < 0) throw unterminated("'", text, open);
  add(s, text.slice(open + 1, close));
  return close + 1;
}

/** Reads "…" starting at `open`; returns the index after the closing quote. */
function doubleQuoted(text: string, open: number, s: Scan): number {
  let chars = '';
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      add(s, chars);
      return i + 1;
    }
    if (c === '\\' && i + 1 < text.length && DQ_ESCAPABLE.has(text[i + 1])) {
      chars += text[++i];
    } else {
      chars += c;
    }
  }
  throw unterminated('"', text, open);
}

function unterminated(quote: string, text: string, at: number): Error {
  const other = quote === '"' ? "'" : '"';
  return new Error(
    `the ${quote} opened at character ${at + 1} is never closed (in ${JSON.stringify(text)}); close it, ` +
      `or write a literal ${quote} as \\${quote} (or inside ${other}…${other})`,
  );
}

/** Refuses shell syntax outside quotes: without a shell it would reach the program as plain text. */
function checkUnquoted(text: string, i: number): void {
  const c = text[i];
  const meaning = SHELL_SYNTAX.get(c);
  if (meaning !== undefined) {
    const op = c === '&' && text[i + 1] === '&' ? '&&' : c;
    throw new Error(`${JSON.stringify(op)} is shell syntax (${meaning}), but ${NO_SHELL}`);
  }
  if (c === '$' && text[i + 1] === '(') throw new Error(`"$(" is shell syntax (a command substitution), but ${NO_SHELL}`);
  if (c === '$' && /[A-Za-z_{]/.test(text[i + 1] ?? '')) {
    const name = /^\$(\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i))?.[0] ?? '$';
    throw new Error(
      `${JSON.stringify(name)} would not be expanded: commands run without a shell; write the value itself, ` +
        `quote it ('${name}') to pass it literally, or use a script`,
    );
  }
}

function checkProgram(program: string): void {
  if (path.isAbsolute(program)) return;
  if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(program)) {
    throw new Error(
      `${JSON.stringify(program)} is an environment assignment, which needs a shell; use /usr/bin/env ${program} /path/to/program, or a script`,
    );
  }
  const hint = program.includes('/') ? '' : ` (see: command -v ${program})`;
  throw new Error(`the program ${JSON.stringify(program)} is not an absolute path; write its full path${hint}, e.g. /usr/sbin/nginx`);
}
