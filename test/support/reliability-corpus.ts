/**
 * The bad-input corpus (`test/fixtures/bad-orders/`): generated cases (`generated.jsonl`, from
 * `generate.ts`) and hand-written ones (`hand-written.jsonl`, patches over `base.json`), with the
 * outcome each must produce. Directives keep the files small and readable:
 * - `{"$repeat": s, "times": n}` → s repeated n times; `{"$concat": [...]}` → joined text;
 * - in patches: `"$delete"` removes a key, `"$id-as-text"` is the case's entity id as text,
 *   `{"$items": n}` at the top gives n copies of the base's first item (totals scaled),
 *   `{"$nest": n}` an object nested n levels deep. Objects merge, arrays replace.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { CorpusCase, Expect, Outcome } from "../fixtures/bad-orders/generate";

export type { CorpusCase, Expect, Outcome };

export const corpusDir = path.join(__dirname, "..", "fixtures", "bad-orders");

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function expand(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expand);
  if (!isObject(v)) return v;
  if (typeof v.$repeat === "string" && typeof v.times === "number") return v.$repeat.repeat(v.times);
  if (Array.isArray(v.$concat)) return v.$concat.map((p) => String(expand(p))).join("");
  if (typeof v.$nest === "number") {
    let nested: Json = { leaf: true };
    for (let i = 0; i < v.$nest; i += 1) nested = { a: nested };
    return nested;
  }
  // Own keys only, "__proto__" included, without touching any prototype.
  const out: Json = {};
  for (const key of Object.keys(v))
    Object.defineProperty(out, key, {
      value: expand(v[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

function merge(target: Json, patch: Json, id: number): void {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === "$delete") delete target[key];
    else if (value === "$id-as-text") target[key] = String(id);
    else if (isObject(value) && isObject(target[key]) && Object.prototype.hasOwnProperty.call(target, key))
      merge(target[key] as Json, value, id);
    else
      Object.defineProperty(target, key, {
        value: expand(value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
}

function manyItems(order: Json, count: number): void {
  const [first] = order.items as Json[];
  order.items = Array.from({ length: count }, (_, i) => ({
    ...first,
    item_id: i + 1,
    qty_ordered: 1,
    price: 10,
    row_total: 10,
    tax_amount: 0.83,
  }));
  const subtotal = 10 * count;
  const tax = Math.round(0.825 * count * 100) / 100;
  Object.assign(order, {
    subtotal,
    base_subtotal: subtotal,
    tax_amount: tax,
    grand_total: subtotal + 5 + tax,
    base_grand_total: subtotal + 5 + tax,
  });
}

/** Every case, orders materialised. Hand-written cases get entity ids from 810000 on. */
export function loadCorpus(): Array<CorpusCase & { source: "generated" | "hand-written" }> {
  const read = (file: string) =>
    readFileSync(path.join(corpusDir, file), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Json);
  const base = JSON.parse(readFileSync(path.join(corpusDir, "base.json"), "utf8")) as Json;
  const generated = read("generated.jsonl").map((c) => ({
    name: String(c.name),
    order: expand(c.order),
    expect: c.expect as Expect,
    source: "generated" as const,
  }));
  const hand = read("hand-written.jsonl").map((c, i) => {
    const id = 810_000 + i + 1;
    const order = structuredClone(base);
    order.entity_id = id;
    order.increment_id = `HW-${String(i + 1).padStart(3, "0")}`;
    const patch = { ...(c.patch as Json) };
    const items = patch.$items;
    delete patch.$items;
    merge(order, patch, id);
    if (typeof items === "number") manyItems(order, items);
    const expect = c.expect as Expect;
    return {
      name: String(c.name),
      order,
      expect:
        expect.intake === "valid"
          ? { tryton: "imported" as const, salesforce: "imported" as const, ...expect }
          : expect,
      source: "hand-written" as const,
    };
  });
  return [...generated, ...hand];
}

/** Whether a per-order result matches an expected outcome. */
export function matches(
  expected: Outcome,
  result: { action: string; error?: { code: string; field?: string } },
): boolean {
  if (expected === "imported")
    return ["created", "updated", "unchanged"].includes(result.action) && !result.error;
  if (expected === "skipped") return result.action === "skipped";
  if (!result.error) return false;
  if (expected.code !== undefined && result.error.code !== expected.code) return false;
  return expected.field === undefined || result.error.field === expected.field;
}

export function describeOutcome(o: Outcome | undefined): string {
  if (o === undefined || typeof o === "string") return String(o);
  return `${o.code ?? "any error"} on ${o.field ?? "(no field)"}`;
}
