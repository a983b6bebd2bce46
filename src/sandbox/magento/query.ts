/**
 * Query strings the way PHP reads them: `urldecode` ('+' is a space, bad escapes kept) and
 * bracket notation into nested arrays (`searchCriteria[filter_groups][0][filters][0][field]=…`;
 * brackets may be raw or %5B/%5D since names are decoded first, reference §5).
 */

export type PhpValue = string | PhpArray;
export interface PhpArray {
  [key: string]: PhpValue;
}

/** PHP rawurldecode: %XX sequences as UTF-8; malformed escapes are left as they are. */
export function rawurldecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      const bytes = run.match(/%[0-9A-Fa-f]{2}/g) ?? [];
      return Buffer.from(bytes.map((b) => parseInt(b.slice(1), 16))).toString("utf8");
    }
  });
}

/** PHP urldecode: like rawurldecode, and '+' is a space. */
export function urldecode(text: string): string {
  return rawurldecode(text.replace(/\+/g, " "));
}

export function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
}

export function parsePhpQuery(query: string): PhpArray {
  const out: PhpArray = {};
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const [rawName, rawValue] = splitOnce(pair, "=");
    const name = urldecode(rawName);
    const value = urldecode(rawValue ?? "");
    const open = name.indexOf("[");
    const base = open <= 0 ? name : name.slice(0, open);
    const path = [base];
    if (open > 0) {
      const segments = name.slice(open).match(/\[([^\]]*)\]/g) ?? [];
      for (const s of segments) path.push(s.slice(1, -1));
    }
    assign(out, path, value);
  }
  return out;
}

function assign(target: PhpArray, path: string[], value: string): void {
  let node = target;
  path.forEach((segment, i) => {
    const key = segment === "" ? String(Object.keys(node).filter((k) => /^\d+$/.test(k)).length) : segment;
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (typeof next !== "object") node[key] = {};
    node = node[key] as PhpArray;
  });
}
