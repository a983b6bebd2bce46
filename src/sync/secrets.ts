/**
 * The one place secrets are scrubbed from text a user can see (errors, status,
 * messages, logs). Config nodes register their credentials here; every error
 * built by the pack passes through `redact`.
 */
const registered = new Set<string>();

/** Remember a secret so that `redact` removes it from any text. Short values are ignored (too many false hits). */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value === "string" && value.length >= 4) registered.add(value);
}

export function forgetSecret(value: string | undefined | null): void {
  if (typeof value === "string") registered.delete(value);
}

const secretShapes: RegExp[] = [
  /(Authorization:\s*)(Bearer|OAuth|Basic|Session)\s+[^\s"',]+(?:[^\n"]*)/gi,
  /(oauth_(?:signature|token|consumer_key|nonce)=")[^"]*/gi,
  /("?(?:password|token|access_token|refresh_token|client_secret|secret)"?\s*[:=]\s*"?)[^"&,\s}]+/gi,
];

export function redact(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join("***");
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join("***");
  }
  for (const shape of secretShapes) out = out.replace(shape, (_m, prefix: string) => `${prefix}***`);
  return out;
}
