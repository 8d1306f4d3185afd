// Secrets out of configuration files before they go into a log bundle. Only ini files are
// masked: a pfile's IPCKEY is an id, not a key, and pfiles hold no secrets.

/** Keys whose values are secrets: smtp_password, token, secret, api_key … */
export const DEFAULT_MASK_KEYS = /pass|secret|token|key/i;
export const MASK = '********';

/** Keys that match but are no secret: a location (token_file holds the path, not the token), and
 *  ProcessSaver's IPCKEY, an id (pfiles are never masked anyway; this is for safety). */
const NOT_SECRET = /_(file|path|dir)$|^ipckey$/i;
/** URLs (webhook_url) often carry their secret in user info, path or query: only scheme and host stay. */
const URL_KEY = /url$/i;

const LINE = /^(\s*)([A-Za-z0-9_.-]+)(\s*=\s*)(.*?)(\s*)$/;

function unquote(v: string): { q: string; inner: string } {
  const m = /^(["'])(.*)\1$/.exec(v);
  return m === null ? { q: '', inner: v } : { q: m[1], inner: m[2] };
}

/** `https://user:pw@hooks.example.com/services/T0/B0/XYZ?x=1` → `https://hooks.example.com/********`. */
export function maskUrl(value: string): string {
  const { q, inner } = unquote(value);
  let u: URL;
  try {
    u = new URL(inner);
  } catch {
    return value;
  }
  const secretPart = u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '';
  return secretPart ? `${q}${u.protocol}//${u.host}/${MASK}${q}` : value;
}

/**
 * Masks the values of secret keys in ini text, line by line (comments, order and layout
 * stay). Returns the text and the masked keys as `[section] key`.
 */
export function maskIni(text: string, maskKeys: RegExp = DEFAULT_MASK_KEYS): { text: string; masked: string[] } {
  const secret = new RegExp(maskKeys.source, maskKeys.flags.replace(/[gy]/g, ''));
  const masked: string[] = [];
  let section = '';
  const out = text.split('\n').map((line) => {
    const sec = /^\s*\[([^\]]*)\]/.exec(line);
    if (sec !== null) {
      section = sec[1].trim();
      return line;
    }
    const m = LINE.exec(line);
    if (m === null) return line;
    const [, lead, key, eq, value, trail] = m;
    if (value === '') return line;
    let next = value;
    if (secret.test(key) && !NOT_SECRET.test(key)) next = MASK;
    else if (URL_KEY.test(key)) next = maskUrl(value);
    if (next === value) return line;
    masked.push(`${section ? `[${section}] ` : ''}${key}`);
    return `${lead}${key}${eq}${next}${trail}`;
  });
  return { text: out.join('\n'), masked };
}

/** Files never put in a bundle: they are secrets themselves (the web token file, TLS keys). */
export function looksLikeSecretFile(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return /token|secret|passw|\.key$|\.pem$|\.p12$|\.pfx$|^id_(rsa|ecdsa|ed25519)/i.test(base);
}
