// Secrets out of every message we store or show. An error text can carry a secret that was never
// meant to be in it: a webhook receiver echoing its token, an SMTP server quoting the login, a
// library printing its options. Everything that becomes an alert's lastError, a run record's error,
// a log line or an error on screen goes through redact() with the secrets this process holds.
//
// The secrets a process holds are remembered where they are read (the etcd password where the
// connection is made, an SMTP password or webhook header where a channel reads the environment):
// one registry per process, so no caller has to know which secrets exist.

export const REDACTED = '[redacted]';

// Shorter values would blank ordinary words and numbers out of messages.
const MIN_SECRET_LENGTH = 4;

const known = new Set<string>();

/** Remembers a secret this process holds, so redactKnown() removes it from messages. */
export function rememberSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET_LENGTH) known.add(value);
}

/** `text` with every occurrence of each secret (and of its base64 form) replaced by [redacted]. */
export function redact(text: string, secrets: Iterable<string | undefined>): string {
  const all = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < MIN_SECRET_LENGTH) continue;
    all.add(s);
    const b64 = Buffer.from(s).toString('base64');
    all.add(b64);
    all.add(b64.replace(/=+$/, '')); // inside a longer base64 text
    all.add(encodeURIComponent(s));
  }
  // Longest first: a secret containing another is removed whole.
  let out = text;
  for (const s of [...all].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED);
  return out;
}

/** `text` without any secret this process remembered (and without `extra`). */
export function redactKnown(text: string, extra: Iterable<string | undefined> = []): string {
  return redact(text, [...known, ...extra]);
}
