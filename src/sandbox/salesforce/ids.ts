/**
 * Salesforce record ids: 15 case-sensitive characters (3-character key prefix, 2-character
 * pod, 1 reserved, 9 base-62 digits) plus the 3-character case-safe checksum that makes the
 * 18-character form. The API always answers with 18-character ids and accepts both forms.
 */

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CHECKSUM_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/;

/** The 3-character suffix: one character per 5-character chunk, encoding which chars are upper case. */
export function checksumSuffix(id15: string): string {
  let suffix = "";
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= "A" && c <= "Z") flags |= 1 << i;
    }
    suffix += CHECKSUM_CHARS.charAt(flags);
  }
  return suffix;
}

/** The canonical 18-character id, or undefined when `value` is not a well-formed id. */
export function canonicalId(value: unknown): string | undefined {
  if (typeof value !== "string" || !ID_SHAPE.test(value)) return undefined;
  const id15 = value.slice(0, 15);
  const suffix = checksumSuffix(id15);
  if (value.length === 18 && value.slice(15).toUpperCase() !== suffix) return undefined;
  return id15 + suffix;
}

export function keyPrefixOf(id: string): string {
  return id.slice(0, 3);
}

/** Hands out sequential ids per key prefix ("001" Account, "801" Order, ...). */
export class IdFactory {
  private readonly next = new Map<string, number>();

  constructor(private readonly pod = "Sm") {}

  create(keyPrefix: string): string {
    const n = (this.next.get(keyPrefix) ?? 0) + 1;
    this.next.set(keyPrefix, n);
    const id15 = keyPrefix + this.pod + "0" + base62(n, 9);
    return id15 + checksumSuffix(id15);
  }
}

function base62(n: number, width: number): string {
  let out = "";
  let rest = n;
  while (rest > 0) {
    out = BASE62.charAt(rest % 62) + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, "0");
}
