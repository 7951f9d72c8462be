/**
 * The one scrubber: every text from an upstream (Ironic, Keystone, pod managers), every error message and every log
 * line passes through here before it reaches a caller, an event or CloudWatch. It masks the values Valence knows to
 * be secret (a pod manager's password, what Ironic holds under password-like keys), the value after a
 * password-like key, URL user-info and Authorization header values.
 *
 * Written as single-pass scanners rather than one regular expression: a pattern like
 * `[\w-]*password[\w-]*\s*[:=]` backtracks over every start position and every split of a word run, which made
 * scrubbing a few kilobytes of hostile text take seconds. Every character here is looked at a bounded number of
 * times, so the time grows with the length of the text and nothing else.
 */

export const MASK = "***";

/** Keys whose values are secrets (`redfish_password`, `ipmi_password`, `client_secret`, `X-Auth-Token`, ...). */
const SECRET_KEY_PART = /pass|secret|token|credential|private_?key|api_?key/i;

interface MaskOptions {
  /** Mask the user of `scheme://user:password@` too, not only the password. @default false */
  readonly maskUrlUser?: boolean;
  /**
   * The text was cut short: a quoted value left open, or URL user-info without its `@`, may be a secret cut in
   * two, so it is masked up to the end rather than taken for ordinary text. @default false
   */
  readonly cut?: boolean;
}

/** Masks every credential form Valence knows of in `text`. Linear in the length of `text`. */
function maskCredentials(text: string, options: MaskOptions = {}): string {
  const cut = options.cut ?? false;
  return maskAuthSchemes(maskUrlUserinfo(maskKeyValues(text, cut), options.maskUrlUser ?? false, cut));
}

const isWordChar = (code: number) =>
  (code >= 48 && code <= 57) || // 0-9
  (code >= 65 && code <= 90) || // A-Z
  (code >= 97 && code <= 122) || // a-z
  code === 95 || // _
  code === 45; // -

const isQuote = (char: string | undefined) => char === '"' || char === "'";

/** What `\s` matches in a JavaScript regular expression. */
const isSpace = (char: string | undefined) => char !== undefined && /\s/.test(char);

/** Characters that end an unquoted value: whitespace and the punctuation that closes a pair or a structure. */
const endsBareValue = (char: string) => isSpace(char) || ",;})]".includes(char);

/**
 * The end of a quoted value opening at `start`, just past its closing quote (a backslash escapes the next
 * character), or -1 when it is never closed.
 */
function quotedEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    const char = text[i];
    if (char === "\\") i++;
    else if (char === quote) return i + 1;
  }
  return -1;
}

/**
 * The end of an unquoted value starting at `start`. An `&` followed by `name=` starts the next pair of a query
 * string (`password=x&user=y`), so it ends the value too.
 */
function bareEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const char = text[i] as string;
    if (endsBareValue(char)) break;
    if (char === "&") {
      let j = i + 1;
      while (j < text.length && isWordChar(text.charCodeAt(j))) j++;
      if (j > i + 1 && text[j] === "=") break;
      // Not a pair: the characters up to `j` belong to this value and need no second look.
      i = j;
      continue;
    }
    i++;
  }
  return i;
}

/**
 * `key: value`, `"key": "value"`, `'key': 'value'`, `key=value` and `key => value` where the key is a run of word
 * characters naming a secret: the value becomes `***`, the key and everything around it stay.
 */
function maskKeyValues(text: string, cut: boolean): string {
  let out = "";
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    if (!isWordChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const keyStart = i;
    while (i < text.length && isWordChar(text.charCodeAt(i))) i++;
    const keyEnd = i;
    if (!SECRET_KEY_PART.test(text.slice(keyStart, keyEnd))) continue;

    let j = keyEnd;
    if (isQuote(text[j])) j++;
    while (isSpace(text[j])) j++;
    if (text[j] !== ":" && text[j] !== "=") continue;
    j += text[j] === "=" && text[j + 1] === ">" ? 2 : 1;
    while (isSpace(text[j])) j++;
    if (j >= text.length) continue;

    let valueEnd = isQuote(text[j]) ? quotedEnd(text, j) : -1;
    // An unclosed quote is the start of a bare value, unless the text was cut: then its end is beyond the cut.
    if (valueEnd < 0) valueEnd = isQuote(text[j]) && cut ? text.length : bareEnd(text, j);
    if (valueEnd === j) continue;

    out += text.slice(copied, j) + MASK;
    copied = valueEnd;
    i = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** `scheme://user:password@host`: the password (and with `maskUser` the user) becomes `***`. */
function maskUrlUserinfo(text: string, maskUser: boolean, cut: boolean): string {
  let out = "";
  let copied = 0;
  let from = 0;
  for (;;) {
    const separator = text.indexOf("://", from);
    if (separator < 0) break;
    const userStart = separator + 3;
    from = userStart;
    // user: up to the first of whitespace : / @; it must end in ':' and not be empty.
    let i = userStart;
    while (i < text.length && !isSpace(text[i]) && !":/@".includes(text[i] as string)) i++;
    if (i === userStart || text[i] !== ":") continue;
    const passwordStart = i + 1;
    // password: up to the first of whitespace @ /; it must end in '@' and not be empty.
    let j = passwordStart;
    while (j < text.length && !isSpace(text[j]) && text[j] !== "@" && text[j] !== "/") j++;
    if (j === passwordStart || (text[j] !== "@" && !(cut && j === text.length))) continue;
    const maskFrom = maskUser ? userStart : passwordStart;
    out += text.slice(copied, maskFrom) + (maskUser ? `${MASK}:${MASK}` : MASK);
    copied = j;
    from = j;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

// An Authorization header's credentials, quoted back: `Basic dXNlcjpwYXNz`, `Bearer <token>`. The scheme is a fixed
// word after a word boundary and the token's characters exclude whitespace, so no two quantifiers compete for the
// same characters: linear.
const AUTH_SCHEME = /(\b(?:Basic|Bearer|Negotiate|Digest)\s+)[A-Za-z0-9+/=._~-]{8,}/g;

function maskAuthSchemes(text: string): string {
  return text.replace(AUTH_SCHEME, (_match, scheme: string) => `${scheme}${MASK}`);
}

// --- Known secrets and shortened text (Ironic echoes driver_info, BMC passwords included, in error texts)

/** Keys whose values are secrets, in JSON bodies and log fields (`redfish_password`, `ipmi_password`, `secret`, ...). */
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
 * Replace every known secret value (`secrets`: what the caller sent or holds, e.g. a pod manager's password and
 * session token), and anything after a password-like key, URL user-info passwords and Authorization values, with
 * `***`. Linear in the length of `text` (times the number of known secrets). A text that ends in `…` was cut short
 * by `scrubTruncated`: a known secret's beginning at its end is masked too.
 */
export function scrub(text: string, secrets: Iterable<string> = [], options: ScrubOptions = {}): string {
  const forms = secretForms(secrets);
  const cut = text.endsWith(CUT_MARK);
  let result = cut ? text.slice(0, -CUT_MARK.length) : text;
  for (const secret of forms) result = result.split(secret).join(MASK);
  if (cut) result = maskSecretBeginningAtEnd(result, forms);
  result = maskCredentials(result, { cut, maskUrlUser: options.maskUrlUser ?? false });
  return cut ? `${result}${CUT_MARK}` : result;
}

export interface ScrubOptions {
  /** Mask the user of `scheme://user:password@` too, not only the password. @default false */
  readonly maskUrlUser?: boolean;
}

/**
 * A step of a `JSON.stringify` replacer for log entries: a string under a secret-named key (`password`,
 * `client_secret`, ...) becomes `***` whatever it looks like, and every other string is scrubbed (URL user-info
 * included), so neither a field nor an error message can carry a credential into a log line.
 */
export function scrubLogValue(key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (key !== "" && SECRET_KEY.test(key)) return MASK;
  return scrub(value, [], { maskUrlUser: true });
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
