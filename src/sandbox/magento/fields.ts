/**
 * `fields=` response trimming (Magento\Framework\Webapi\Rest\Response\FieldsFilter), e.g.
 * `items[entity_id,increment_id],total_count` or nested `items[billing_address[city]]`.
 * Lists are trimmed element by element; keys not asked for are dropped.
 */
type FieldTree = { [key: string]: FieldTree | true };

export function parseFields(spec: string): FieldTree | null {
  let at = 0;
  const readLevel = (): FieldTree | null => {
    const tree: FieldTree = {};
    let name = "";
    const flush = () => {
      if (name.trim() !== "") tree[name.trim()] = true;
      name = "";
    };
    while (at < spec.length) {
      const c = spec[at++];
      if (c === ",") flush();
      else if (c === "[") {
        const key = name.trim();
        name = "";
        const sub = readLevel();
        if (!sub || key === "") return null;
        tree[key] = sub;
        if (spec[at - 1] !== "]") return null;
      } else if (c === "]") {
        flush();
        return tree;
      } else name += c;
    }
    flush();
    return tree;
  };
  const tree = readLevel();
  return tree && at >= spec.length && Object.keys(tree).length > 0 ? tree : null;
}

export function applyFields(data: unknown, tree: FieldTree): unknown {
  if (Array.isArray(data)) return data.map((element) => applyFields(element, tree));
  if (typeof data !== "object" || data === null) return data;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(tree)) {
    if (!(key in data)) continue;
    const value = (data as Record<string, unknown>)[key];
    out[key] = sub === true ? value : applyFields(value, sub);
  }
  return out;
}
