/**
 * Ironic echoes `driver_info` (BMC passwords included) in some error texts and `last_error`s, and those texts
 * become Valence error messages and log lines. Everything Ironic says passes through here first.
 */

const MASK = "***";

/** Keys whose values are secrets, in JSON bodies (`redfish_password`, `ipmi_password`, `secret`, ...). */
export const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|credential|private_?key|api_?key)$/i;

// A password-like key followed by a value, as JSON ("k": "v"), Python repr ('k': 'v') or k=v text.
const KEY_VALUE =
  /(["']?[\w-]*(?:pass(?:word|wd|phrase)?|secret|token|credential|private_?key|api_?key)[\w-]*["']?\s*(?:[:=]|=>)\s*)(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;}\])]+)/gi;

// Credentials in URLs: scheme://user:password@host
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi;

// An Authorization header's credentials, quoted back: `Basic dXNlcjpwYXNz`, `Bearer <token>`.
const AUTH_SCHEME = /(\b(?:Basic|Bearer|Negotiate|Digest)\s+)[A-Za-z0-9+/=._~-]{8,}/g;

/** Secret values (strings of 3+ characters) found under password-like keys, at any depth of `value`. */
export function collectSecrets(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) collectSecrets(item, into);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_KEY.test(key) && typeof item === "string" && item.length >= 3) into.add(item);
      else collectSecrets(item, into);
    }
  }
  return into;
}

/** Replace every known secret value, and anything after a password-like key, with `***`. */
export function scrub(text: string, secrets: Iterable<string> = []): string {
  let result = text;
  // Longest first, so a secret that contains another is masked whole.
  const known = [...new Set(secrets)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  for (const secret of known) {
    result = result.split(secret).join(MASK);
    // Ironic's texts are often JSON inside JSON: the secret may appear with its quotes/backslashes escaped.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) result = result.split(escaped).join(MASK);
  }
  result = result.replace(KEY_VALUE, (_match, key: string) => `${key}${MASK}`);
  result = result.replace(URL_USERINFO, (_match, prefix: string) => `${prefix}${MASK}@`);
  result = result.replace(AUTH_SCHEME, (_match, scheme: string) => `${scheme}${MASK}`);
  return result;
}
