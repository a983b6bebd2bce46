/**
 * A 64-bit fingerprint of a JSON-like value (two multiplicative lanes over type tags, keys, strings
 * and the bits of numbers), computed by walking it without building a string: hashing an order's
 * JSON text allocated ~40 KB per order, this allocates next to nothing. Equal fingerprints mean
 * "very probably unchanged"; it is not a cryptographic hash (nothing here is adversarial: it
 * tells whether an object this process validated was edited since).
 *
 * Returns `undefined` for what it cannot fingerprint safely (nesting deeper than 64 levels, which
 * also catches cycles): the caller then treats the value as unknown.
 */
const MAX_DEPTH = 64;
const numberView = new Float64Array(1);
const numberWords = new Uint32Array(numberView.buffer);

class Lanes {
  a = 0x811c9dc5;
  b = 0x5bd1e995;

  /**
   * Each lane xors a 32-bit word in and multiplies by an odd constant: both steps are one-to-one
   * on the lane's state, so two inputs that differ in a single word always end differently.
   */
  word(w: number): void {
    this.a = Math.imul(this.a ^ w, 0x01000193);
    this.b = Math.imul(this.b ^ w, 0x2c1b3c6d);
  }

  /** Two UTF-16 code units per word. */
  text(s: string): void {
    const n = s.length;
    this.word(n);
    let i = 0;
    for (; i + 1 < n; i += 2) this.word((s.charCodeAt(i) << 16) | s.charCodeAt(i + 1));
    if (i < n) this.word(s.charCodeAt(i));
  }

  value(v: unknown, depth: number): boolean {
    if (depth > MAX_DEPTH) return false;
    switch (typeof v) {
      case "string":
        this.word(1);
        this.text(v);
        return true;
      case "number":
        numberView[0] = v;
        this.word(2);
        this.word(numberWords[0] as number);
        this.word(numberWords[1] as number);
        return true;
      case "boolean":
        this.word(v ? 3 : 4);
        return true;
      case "undefined":
        this.word(5);
        return true;
      case "object": {
        if (v === null) {
          this.word(6);
          return true;
        }
        if (Array.isArray(v)) {
          this.word(7);
          this.word(v.length);
          for (const item of v) if (!this.value(item, depth + 1)) return false;
          return true;
        }
        this.word(8);
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        for (let i = 0; i < keys.length; i += 1) {
          const key = keys[i] as string;
          this.text(key);
          if (!this.value(o[key], depth + 1)) return false;
        }
        this.word(9);
        return true;
      }
      default:
        // bigint, symbol, function: not JSON; tag the type so a change of type still shows.
        this.word(10);
        this.text(typeof v);
        return true;
    }
  }
}

export function fingerprint(value: unknown): string | undefined {
  const lanes = new Lanes();
  if (!lanes.value(value, 0)) return undefined;
  return `${(lanes.a >>> 0).toString(36)}.${(lanes.b >>> 0).toString(36)}`;
}
