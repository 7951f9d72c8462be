/**
 * Ironic echoes `driver_info` (BMC passwords included) in some error texts and `last_error`s, and those texts
 * become Valence error messages and log lines. Everything Ironic says passes through here first.
 */
import { MASK, maskCredentials } from "../scrub.ts";

/** Keys whose values are secrets, in JSON bodies (`redfish_password`, `ipmi_password`, `secret`, ...). */
export const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|credential|private_?key|api_?key)$/i;

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

/** Characters scrubbed past a cut: room for a password-like key and its separator that straddle it. */
const TRUNCATION_MARGIN = 256;

/** Appended to a text that was cut short. */
export const CUT_MARK = "…";

/**
 * Replace every known secret value, and anything after a password-like key, URL user-info passwords and
 * Authorization values, with `***`. Linear in the length of `text` (times the number of known secrets). A text
 * that ends in `…` was cut short by `scrubTruncated`: a known secret's beginning at its end is masked too.
 */
export function scrub(text: string, secrets: Iterable<string> = []): string {
  const forms = secretForms(secrets);
  const cut = text.endsWith(CUT_MARK);
  let result = cut ? text.slice(0, -CUT_MARK.length) : text;
  for (const secret of forms) result = result.split(secret).join(MASK);
  if (cut) result = maskSecretBeginningAtEnd(result, forms);
  result = maskCredentials(result, { cut });
  return cut ? `${result}${CUT_MARK}` : result;
}

/**
 * `scrub`, for text that is shown shortened anyway: only the first `max` characters are kept, and only a little
 * more than those is scrubbed, so a huge text costs no more than a short one. The margin is the longest form of a
 * known secret plus some: a secret that starts before the cut is still masked whole, never left half visible.
 */
export function scrubTruncated(text: string, max: number, secrets: Iterable<string> = []): string {
  const forms = secretForms(secrets);
  const margin = Math.max(TRUNCATION_MARGIN, ...forms.map((form) => form.length + TRUNCATION_MARGIN));
  const bounded = text.length > max + margin ? `${text.slice(0, max + margin)}${CUT_MARK}` : text;
  const scrubbed = scrub(bounded, forms);
  return scrubbed.length > max ? `${scrubbed.slice(0, max)}${CUT_MARK}` : scrubbed;
}

/**
 * The known secrets (3+ characters) and, as Ironic's texts are often JSON inside JSON, their escaped forms;
 * longest first, so a secret that contains another is masked whole.
 */
function secretForms(secrets: Iterable<string>): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** A text cut inside a known secret ends with that secret's first characters (3 or more): those go too. */
function maskSecretBeginningAtEnd(text: string, forms: readonly string[]): string {
  for (const form of forms) {
    for (let length = Math.min(form.length - 1, text.length); length >= 3; length--) {
      if (text.endsWith(form.slice(0, length))) return `${text.slice(0, -length)}${MASK}`;
    }
  }
  return text;
}
