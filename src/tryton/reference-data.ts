/**
 * Codes an import resolves to Tryton ids — currencies, countries, subdivisions, units —
 * looked up in batches and kept for the importer's lifetime, so only the first page
 * pays for them. Codes that are not found are asked again next time (a merchant may add
 * the country in Tryton and re-run), except subdivisions, which are optional.
 */
import type { TrytonClient } from "./rpc";
import type { TrytonSeries } from "./server-profile";
import { trytonTax, type TaxSetup, type TrytonTax } from "./tax-prediction";

export interface CurrencyInfo {
  id: number;
  code: string;
  /** Smallest amount, e.g. `0.01`, `1` for JPY. */
  rounding: string;
}

export interface UnitInfo {
  id: number;
  digits: number;
}

export class ReferenceData {
  private readonly currencies = new Map<string, CurrencyInfo>();
  private readonly countries = new Map<string, number>();
  private readonly subdivisions = new Map<string, number | null>();
  private readonly units = new Map<number, UnitInfo>();
  private readonly taxes = new Map<number, TrytonTax>();
  private taxRounding: TaxSetup["rounding"] | undefined;

  constructor(private readonly client: TrytonClient) {}

  /**
   * The account configuration's `tax_rounding` and the taxes a tax map names, read once per
   * importer (a merchant who changes them redeploys): what `tax-prediction.ts` needs.
   */
  async taxSetup(ids: Iterable<number>, series: TrytonSeries): Promise<TaxSetup> {
    if (!this.taxRounding) {
      const [config] = await this.client.read("account.configuration", [1], ["tax_rounding"]);
      this.taxRounding = config?.tax_rounding === "line" ? "line" : "document";
    }
    const missing = [...new Set(ids)].filter((id) => !this.taxes.has(id));
    if (missing.length) {
      const today = new Date().toISOString().slice(0, 10);
      const rows = await this.client.searchRead(
        "account.tax",
        [["id", "in", missing]],
        ["type", "rate", "amount", "childs", "update_unit_price", "start_date", "end_date"],
      );
      for (const r of rows) this.taxes.set(r.id, trytonTax(r, today));
    }
    return { rounding: this.taxRounding, series, taxes: this.taxes };
  }

  /** Currency by ISO code (upper case); missing codes are absent from the result. */
  async currenciesFor(codes: Iterable<string>): Promise<Map<string, CurrencyInfo>> {
    const missing = [...new Set(codes)].filter((c) => !this.currencies.has(c));
    if (missing.length) {
      const rows = await this.client.searchRead(
        "currency.currency",
        [["code", "in", missing]],
        ["code", "rounding"],
      );
      for (const r of rows) {
        this.currencies.set(String(r.code), {
          id: r.id,
          code: String(r.code),
          rounding: String(r.rounding ?? "0.01"),
        });
      }
    }
    return pick(this.currencies, codes);
  }

  async countriesFor(codes: Iterable<string>): Promise<Map<string, number>> {
    const missing = [...new Set(codes)].filter((c) => !this.countries.has(c));
    if (missing.length) {
      const rows = await this.client.searchRead("country.country", [["code", "in", missing]], ["code"]);
      for (const r of rows) this.countries.set(String(r.code).toUpperCase(), r.id);
    }
    return pick(this.countries, codes);
  }

  /**
   * Subdivision id for each wanted `{country, codes, name}`: by code first (`US-NY`), then
   * by name within the country (Magento's German region codes are not ISO codes).
   * Keys of the result are `subdivisionKey(...)`; null = none found.
   */
  async subdivisionsFor(
    wanted: Array<{ country: number; codes: string[]; name: string }>,
  ): Promise<Map<string, number | null>> {
    const todo = wanted.filter((w) => !this.subdivisions.has(subdivisionKey(w.country, w.codes, w.name)));
    if (todo.length) {
      const codes = [...new Set(todo.flatMap((w) => w.codes))];
      const names = [...new Set(todo.map((w) => w.name).filter(Boolean))];
      const countries = [...new Set(todo.map((w) => w.country))];
      const rows =
        codes.length || names.length
          ? await this.client.searchRead(
              "country.subdivision",
              [
                ["country", "in", countries],
                ["OR", ["code", "in", codes], ["name", "in", names]],
              ],
              ["code", "name", "country"],
            )
          : [];
      for (const w of todo) {
        const byCode = rows.find(
          (r) => r.country === w.country && w.codes.includes(String(r.code).toUpperCase()),
        );
        const byName =
          byCode ??
          rows.find(
            (r) => r.country === w.country && w.name && String(r.name).toLowerCase() === w.name.toLowerCase(),
          );
        this.subdivisions.set(subdivisionKey(w.country, w.codes, w.name), byName?.id ?? null);
      }
    }
    const out = new Map<string, number | null>();
    for (const w of wanted) {
      const key = subdivisionKey(w.country, w.codes, w.name);
      out.set(key, this.subdivisions.get(key) ?? null);
    }
    return out;
  }

  async unitsFor(ids: Iterable<number>): Promise<Map<number, UnitInfo>> {
    const missing = [...new Set(ids)].filter((id) => !this.units.has(id));
    if (missing.length) {
      for (const r of await this.client.read("product.uom", missing, ["digits"])) {
        this.units.set(r.id, { id: r.id, digits: Number(r.digits ?? 0) });
      }
    }
    return pick(this.units, ids);
  }

  /** The unit new products get: by symbol (`u` = Unit in a fresh database). */
  async unitBySymbol(symbol: string): Promise<UnitInfo> {
    const rows = await this.client.searchRead("product.uom", [["symbol", "=", symbol]], ["digits"], {
      limit: 1,
    });
    const row = rows[0];
    if (!row) throw new Error(`Tryton has no unit of measure with symbol "${symbol}"`);
    const unit = { id: row.id, digits: Number(row.digits ?? 0) };
    this.units.set(unit.id, unit);
    return unit;
  }
}

export function subdivisionKey(country: number, codes: string[], name: string): string {
  return `${country}|${codes.join(",")}|${name.toLowerCase()}`;
}

function pick<K, V>(cache: Map<K, V>, keys: Iterable<K>): Map<K, V> {
  const out = new Map<K, V>();
  for (const k of keys) {
    const v = cache.get(k);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}
