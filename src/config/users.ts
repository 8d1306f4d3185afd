// User name → uid, for the `user=` option of a PENT line. Resolved once, at load time.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Highest uid Linux accepts; (uid_t)-1 means "no user". */
const MAX_UID = 0xfffffffe;

/** The uid of `name` (a user name, or a number taken as a uid), or null when no such user. */
export function resolveUid(name: string, passwdFile = '/etc/passwd'): number | null {
  if (/^\d+$/.test(name)) {
    const uid = Number(name);
    return uid <= MAX_UID ? uid : null;
  }
  return uidFromPasswd(name, passwdFile) ?? uidFromGetent(name);
}

function uidFromPasswd(name: string, passwdFile: string): number | null {
  let text: string;
  try {
    text = readFileSync(passwdFile, 'utf8');
  } catch {
    return null;
  }
  return uidFromPasswdText(name, text);
}

/** Looks `name` up in passwd(5) text: `name:x:uid:gid:gecos:home:shell`. */
export function uidFromPasswdText(name: string, text: string): number | null {
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 3 && /^\d+$/.test(fields[2])) return Number(fields[2]);
  }
  return null;
}

// Users from LDAP/SSSD/NIS are not in /etc/passwd; getent asks NSS like the C library would.
function uidFromGetent(name: string): number | null {
  try {
    const out = execFileSync('getent', ['passwd', '--', name], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return uidFromPasswdText(name, out);
  } catch {
    return null; // exit 2 = not found; getent missing or hung = cannot tell, treat as unknown
  }
}
