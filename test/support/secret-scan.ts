/** Looking for a password in everything Valence said, stored or logged: plain, escaped, encoded. */

export interface Secret {
  /** What the password is for, in a leak report. */
  label: string;
  password: string;
  /** The user it goes with: `user:password` in base64 is what a Basic auth header carries. */
  username?: string;
}

/** Base64 of `text` wherever it sits in a longer base64 string: the part that does not depend on alignment. */
function base64Cores(text: string): string[] {
  const bytes = Buffer.from(text, "utf8");
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset, 0x20), bytes]).toString("base64");
    // The first ⌈4·offset/3⌉ characters hold the padding bytes; the last 4 depend on what follows.
    return encoded.slice(Math.ceil((offset * 4) / 3), encoded.length - 4);
  });
}

/** Every form of the secret worth looking for; none shorter than 8 characters (no accidental matches). */
export function secretForms(secret: Secret): string[] {
  const { password, username } = secret;
  const forms = new Set<string>([
    password,
    JSON.stringify(password).slice(1, -1),
    encodeURIComponent(password),
    Buffer.from(password).toString("base64"),
    Buffer.from(password).toString("base64url"),
    Buffer.from(password).toString("hex"),
    ...base64Cores(password),
  ]);
  if (username) forms.add(Buffer.from(`${username}:${password}`).toString("base64"));
  return [...forms].filter((form) => form.length >= 8);
}

export interface Leak {
  secret: string;
  form: string;
  where: string;
  excerpt: string;
}

/** Every place one of the secrets appears, in any of its forms. */
export function findLeaks(
  sources: Iterable<{ where: string; text: string }>,
  secrets: readonly Secret[],
): Leak[] {
  const wanted = secrets.flatMap((secret) =>
    secretForms(secret).map((form) => ({ secret: secret.label, form })),
  );
  const leaks: Leak[] = [];
  for (const { where, text } of sources) {
    for (const { secret, form } of wanted) {
      const at = text.indexOf(form);
      if (at >= 0) {
        leaks.push({ secret, form, where, excerpt: text.slice(Math.max(0, at - 80), at + form.length + 80) });
      }
    }
  }
  return leaks;
}
