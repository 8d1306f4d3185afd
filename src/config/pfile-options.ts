// The options field of a PENT line (`include_strings=a&b,user=tomcat,script_timeout=60,
// hang_timeout=30`): each item checked, with what to write instead when it is wrong.
import type { Pent } from '../core/model';
import { resolveUid } from './users';
import { seconds, unknownWord, type Fail } from './pfile-values';
import { q } from './words';

export const PENT_OPTION_KEYS = ['include_strings', 'exclude_strings', 'user', 'script_timeout', 'hang_timeout'] as const;
type OptionKey = (typeof PENT_OPTION_KEYS)[number];

type PentOptions = Pick<Pent, 'includeStrings' | 'excludeStrings' | 'user' | 'uid' | 'scriptTimeout' | 'hangTimeout'>;

export function parseOptions(text: string, bad: Fail): PentOptions {
  const out: PentOptions = { includeStrings: [], excludeStrings: [], user: null, uid: null, scriptTimeout: null, hangTimeout: null };
  if (text === '') return out;
  const seen = new Set<OptionKey>();
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') bad(`options ${q(text)} have an empty item (two commas in a row, or a comma at either end); remove the extra comma`);
    const { key, value } = splitOption(item, bad);
    if (seen.has(key)) bad(`option ${key} is given twice; keep one (several strings go in one item: ${key}=a&b)`);
    seen.add(key);
    applyOption(key, value, out, bad);
  }
  return out;
}

function splitOption(item: string, bad: Fail): { key: OptionKey; value: string } {
  const eq = item.indexOf('=');
  if (eq < 0) {
    const known = isOptionKey(item);
    bad(`option ${q(item)} has no "="; write key=value, e.g. ${known ? `${item}=VALUE` : `include_strings=${item}`}`);
  }
  const key = item.slice(0, eq).trim();
  const value = item.slice(eq + 1);
  if (key === '') bad(`option ${q(item)} has no key before "="; write e.g. include_strings${item}`);
  if (!isOptionKey(key)) bad(unknownWord('option', key, PENT_OPTION_KEYS, 'the options are'));
  if (value.trim() === '') bad(`option ${key} has an empty value; give a value (e.g. ${optionExample(key)}) or remove it`);
  return { key, value };
}

function isOptionKey(word: string): word is OptionKey {
  return (PENT_OPTION_KEYS as readonly string[]).includes(word);
}

function optionExample(key: OptionKey): string {
  const examples: Record<OptionKey, string> = {
    include_strings: 'include_strings=apache&tomcat',
    exclude_strings: 'exclude_strings=grep',
    user: 'user=tomcat',
    script_timeout: 'script_timeout=60',
    hang_timeout: 'hang_timeout=30',
  };
  return examples[key];
}

function applyOption(key: OptionKey, value: string, out: PentOptions, bad: Fail): void {
  switch (key) {
    case 'include_strings':
      out.includeStrings = ampersandList(key, value, bad);
      return;
    case 'exclude_strings':
      out.excludeStrings = ampersandList(key, value, bad);
      return;
    case 'user':
      out.user = value.trim();
      out.uid = resolveUid(out.user);
      if (out.uid === null) bad(`user ${q(out.user)} does not exist on this host; create it, correct the name or give a numeric uid`);
      return;
    case 'script_timeout':
      out.scriptTimeout = seconds(key, value.trim(), optionExample(key), false, bad);
      return;
    case 'hang_timeout':
      out.hangTimeout = seconds(key, value.trim(), optionExample(key), false, bad);
      return;
  }
}

/** `a&b` → ['a', 'b']; items are kept as written (spaces may matter in a command line). */
function ampersandList(key: string, value: string, bad: Fail): string[] {
  const items = value.split('&');
  if (items.some((s) => s.trim() === '')) {
    bad(`${key} ${q(value)} has an empty item ("&&", or "&" at either end); remove the extra "&"`);
  }
  return items;
}
