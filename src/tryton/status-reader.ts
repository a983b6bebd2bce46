/**
 * What Tryton says about the sales imported from one Magento store, for the status export
 * (`src/sync/status-export.ts`): which sales changed since a cursor, and for each one its
 * state, its lines, its done customer shipments (quantities per sale line and tracking) and
 * its posted customer invoices (quantities per sale line).
 *
 * Which sales: the importer's marker in `comment` (`sale-mapping.ts`), and the reference
 * prefix of the store when one is set (reference = prefix + increment id).
 *
 * What "changed" means, measured on the real trytond 6.0: a sale's `write_date` moves when
 * its state, shipment_state or invoice_state is written, but **not** when a partial
 * shipment is done (shipment_state stays `waiting`, a backorder shipment is created) nor
 * when an invoice is posted (invoice_state stays `waiting` until paid). So three searches:
 * sales, done customer shipments and posted/paid customer invoices whose write (or create)
 * date is at or after the cursor, the last two mapped back to their sales with the
 * `shipments` / `invoices` searchers (dotted paths like `shipments.write_date` fail on 6.0:
 * "not enough values to unpack").
 *
 * Tracking: trytond 6.0 with the `sale` module has no tracking field on a customer shipment;
 * its free-text `reference` is the only place a carrier's number can go. When the server
 * has `shipping_reference` (module stock_package_shipping) that field wins, and a `carrier`
 * field (module carrier / sale_shipment_cost) gives the carrier's name. Found with
 * `fields_get` once per reader.
 */
import { parseMarker } from "./sale-mapping";
import { isTrytonSaleState, type TrytonSaleState } from "./state-map";
import type { Domain, TrytonClient, TrytonRecord } from "./rpc";
import { datetime } from "./values";

export interface SaleLineInfo {
  id: number;
  sequence: number | null;
  productCode: string | null;
  quantity: number;
}

export interface ShipmentInfo {
  id: number;
  number: string | null;
  effectiveDate: string | null;
  /** Tracking numbers typed on the shipment (several may be separated by `,` `;` or new lines). */
  tracking: string[];
  /** The carrier's name, when the server has carriers. */
  carrier: string | null;
  /** Done outgoing quantities per sale line id. */
  quantities: Map<number, number>;
}

export interface InvoiceInfo {
  id: number;
  number: string | null;
  /** Invoiced quantities per sale line id (credit note lines count negative). */
  quantities: Map<number, number>;
}

export interface SaleStatus {
  saleId: number;
  number: string | null;
  reference: string;
  state: TrytonSaleState;
  /** Magento entity id, from the importer's marker. */
  orderId: number;
  lines: SaleLineInfo[];
  /** Done customer shipments, oldest first (effective date, then id). */
  shipments: ShipmentInfo[];
  /** Posted or paid customer invoices, by id. */
  invoices: InvoiceInfo[];
  /** Latest write (or create) time of the sale, its shipments and invoices, in microseconds since the epoch. */
  changedAt: number;
  /** Changes whenever anything the export looks at changes in Tryton. */
  fingerprint: string;
}

export interface ReaderOptions {
  /** The store's reference prefix (as set on the importer); empty: every imported sale. */
  referencePrefix: string;
  /** Whether posted invoices count as a change (only needed when invoices are exported). */
  invoices: boolean;
  /** Rows per search call when collecting changed sales. */
  searchLimit?: number;
}

export interface ChangedSales {
  /** Sale ids, ascending. */
  ids: number[];
  /** Latest change time seen by the searches (microseconds), or null when nothing matched. */
  highWater: number | null;
}

const MARKER_LIKE = "%OrderBridge magento-order:%";
const SEARCH_LIMIT = 1000;
const ID_CHUNK = 500;

/** `2026-11-25T15:37:35.838646Z` (as the client decodes datetimes) → microseconds since the epoch. */
export function stampMicros(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z?$/.exec(value.trim());
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(ms)) return null;
  return ms * 1000 + Number((m[3] ?? "").padEnd(6, "0"));
}

/** Microseconds → `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, naive, as trytond stores it). */
export function stampText(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = String(micros - ms * 1000).padStart(3, "0");
  return `${new Date(ms).toISOString().slice(0, 23).replace("T", " ")}${rest}`;
}

function rowStamp(r: TrytonRecord): number | null {
  return stampMicros(r.write_date) ?? stampMicros(r.create_date);
}

function latest(stamps: Array<number | null>): number | null {
  let out: number | null = null;
  for (const s of stamps) if (s !== null && (out === null || s > out)) out = s;
  return out;
}

/** LIKE pattern text: `%`, `_` and `\` taken literally (trytond escapes with `\`). */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function saleLineOf(origin: unknown): number | null {
  if (typeof origin !== "string") return null;
  const m = /^sale\.line,(\d+)$/.exec(origin);
  return m ? Number(m[1]) : null;
}

function add(map: Map<number, number>, key: number, qty: number): void {
  map.set(key, (map.get(key) ?? 0) + qty);
}

/** Tracking numbers in a free-text field: split on `,` `;` and new lines. */
export function trackingNumbers(text: unknown): string[] {
  if (typeof text !== "string") return [];
  return text
    .split(/[,;\n\r]+/)
    .map((t) => t.trim())
    .filter(Boolean);
}

interface ShipmentFields {
  tracking: "shipping_reference" | "reference" | null;
  carrier: boolean;
}

export class StatusReader {
  private shipmentFields?: Promise<ShipmentFields>;
  private readonly limit: number;

  constructor(
    readonly client: TrytonClient,
    readonly options: ReaderOptions,
  ) {
    this.limit = Math.max(1, options.searchLimit ?? SEARCH_LIMIT);
  }

  /** The domain part that picks this store's imported sales. */
  storeDomain(): Domain {
    const domain: Domain = [["comment", "ilike", MARKER_LIKE]];
    const prefix = this.options.referencePrefix;
    if (prefix) domain.push(["reference", "ilike", `${likeLiteral(prefix)}%`]);
    return domain;
  }

  /** Whether a sale read back really belongs to this store (LIKE and ilike only over-match). */
  private isOurs(r: TrytonRecord): boolean {
    const prefix = this.options.referencePrefix;
    return (
      parseMarker(r.comment) !== undefined &&
      typeof r.reference === "string" &&
      (!prefix || r.reference.startsWith(prefix))
    );
  }

  /**
   * Sales of this store changed at or after `since` (microseconds; null: every sale of the
   * store), found page by page (keyset on id) in the three sources described above.
   */
  async changedSince(since: number | null, signal?: AbortSignal): Promise<ChangedSales> {
    const ids = new Set<number>();
    const stamps: Array<number | null> = [];
    const changed: Domain =
      since === null
        ? []
        : [
            [
              "OR",
              ["write_date", ">=", datetime(stampText(since))],
              ["create_date", ">=", datetime(stampText(since))],
            ],
          ];
    for await (const rows of this.keyset("sale.sale", [...this.storeDomain(), ...changed], signal)) {
      for (const r of rows) {
        ids.add(r.id);
        stamps.push(rowStamp(r));
      }
    }
    if (since !== null) {
      const sources: Array<[model: string, domain: Domain, via: string]> = [
        ["stock.shipment.out", [["state", "=", "done"], ...changed], "shipments"],
      ];
      if (this.options.invoices) {
        sources.push([
          "account.invoice",
          [["type", "=", "out"], ["state", "in", ["posted", "paid"]], ...changed],
          "invoices",
        ]);
      }
      for (const [model, domain, via] of sources) {
        for await (const rows of this.keyset(model, domain, signal)) {
          const sales = await this.client.search("sale.sale", [
            ...this.storeDomain(),
            [via, "in", rows.map((r) => r.id)],
          ]);
          if (sales.length === 0) continue;
          for (const id of sales) ids.add(id);
          stamps.push(...rows.map(rowStamp));
        }
      }
    }
    return { ids: [...ids].sort((a, b) => a - b), highWater: latest(stamps) };
  }

  /** Sales of this store imported from the given Magento orders (entity ids). */
  async salesForOrders(orderIds: number[]): Promise<number[]> {
    const wanted = new Set(orderIds);
    const ids: number[] = [];
    for (const chunk of chunks([...wanted], ID_CHUNK)) {
      const rows = await this.client.searchRead(
        "sale.sale",
        [...this.storeDomain(), ["OR", ...chunk.map((id) => ["comment", "ilike", `%magento-order:${id};%`])]],
        ["comment", "reference"],
        { order: [["id", "ASC"]] },
      );
      for (const r of rows) {
        const marker = parseMarker(r.comment);
        if (marker && wanted.has(marker.orderId) && this.isOurs(r)) ids.push(r.id);
      }
    }
    return ids.sort((a, b) => a - b);
  }

  /**
   * Everything the export needs about these sales, in seven calls whatever their number.
   * Sales that are not (or no longer) this store's imports are left out.
   */
  async read(saleIds: number[]): Promise<SaleStatus[]> {
    if (saleIds.length === 0) return [];
    const sales = (
      await this.client.read("sale.sale", saleIds, [
        "number",
        "reference",
        "state",
        "comment",
        "lines",
        "shipments",
        "invoices",
        "write_date",
        "create_date",
      ])
    ).filter((r) => this.isOurs(r) && isTrytonSaleState(r.state));

    const lineRows = await this.client.read(
      "sale.line",
      sales.flatMap((s) => (s.lines as number[]) ?? []),
      ["type", "sequence", "product.code", "quantity"],
    );
    const shipments = await this.readShipments([
      ...new Set(sales.flatMap((s) => (s.shipments as number[]) ?? [])),
    ]);
    const invoices = await this.readInvoices([
      ...new Set(sales.flatMap((s) => (s.invoices as number[]) ?? [])),
    ]);

    const lines = new Map(lineRows.map((l) => [l.id, l]));
    return sales.map((s) => {
      const marker = parseMarker(s.comment)!;
      const saleLines: SaleLineInfo[] = ((s.lines as number[]) ?? [])
        .map((id) => lines.get(id))
        .filter((l): l is TrytonRecord => l !== undefined && l.type === "line")
        .map((l) => ({
          id: l.id,
          sequence: typeof l.sequence === "number" ? l.sequence : null,
          productCode: productCode(l),
          quantity: Number(l.quantity ?? 0),
        }));
      const own = ((s.shipments as number[]) ?? [])
        .map((id) => shipments.get(id))
        .filter((x): x is ShipmentRead => x !== undefined);
      const done = own
        .filter((x) => x.state === "done")
        .map((x) => x.info)
        .sort((a, b) => (a.effectiveDate ?? "9999").localeCompare(b.effectiveDate ?? "9999") || a.id - b.id);
      const posted = ((s.invoices as number[]) ?? [])
        .map((id) => invoices.get(id))
        .filter((x): x is InvoiceRead => x !== undefined && x.counts)
        .map((x) => x.info)
        .sort((a, b) => a.id - b.id);
      const stamp = latest([
        rowStamp(s),
        ...own.map((x) => x.stamp),
        ...((s.invoices as number[]) ?? []).map((id) => invoices.get(id)?.stamp ?? null),
      ]);
      return {
        saleId: s.id,
        number: typeof s.number === "string" && s.number ? s.number : null,
        reference: String(s.reference),
        state: s.state as TrytonSaleState,
        orderId: marker.orderId,
        lines: saleLines,
        shipments: done,
        invoices: posted,
        changedAt: stamp ?? 0,
        fingerprint: [
          s.state,
          s.number ?? "",
          s.write_date ?? s.create_date ?? "",
          own.map((x) => `${x.info.id}:${x.state}:${x.stamp ?? ""}`).join(","),
          ((s.invoices as number[]) ?? [])
            .map((id) => `${id}:${invoices.get(id)?.state ?? ""}:${invoices.get(id)?.stamp ?? ""}`)
            .join(","),
        ].join("|"),
      };
    });
  }

  private async *keyset(model: string, domain: Domain, signal?: AbortSignal): AsyncGenerator<TrytonRecord[]> {
    let last = 0;
    for (;;) {
      signal?.throwIfAborted();
      const rows = await this.client.searchRead(
        model,
        [...domain, ["id", ">", last]],
        ["write_date", "create_date"],
        { order: [["id", "ASC"]], limit: this.limit },
      );
      if (rows.length > 0) yield rows;
      if (rows.length < this.limit) return;
      last = rows[rows.length - 1]!.id;
    }
  }

  private fields(): Promise<ShipmentFields> {
    const pending = (this.shipmentFields ??= this.client
      .model<Record<string, { type?: string }>>("stock.shipment.out", "fields_get", [null])
      .then((f): ShipmentFields => ({
        tracking: f.shipping_reference ? "shipping_reference" : f.reference ? "reference" : null,
        carrier: f.carrier?.type === "many2one",
      }))
      .catch((err: unknown) => {
        this.shipmentFields = undefined;
        throw err;
      }));
    return pending;
  }

  private async readShipments(ids: number[]): Promise<Map<number, ShipmentRead>> {
    const out = new Map<number, ShipmentRead>();
    if (ids.length === 0) return out;
    const fields = await this.fields();
    const wanted = ["state", "number", "effective_date", "outgoing_moves", "write_date", "create_date"];
    if (fields.tracking) wanted.push(fields.tracking);
    if (fields.carrier) wanted.push("carrier.rec_name");
    const rows = await this.client.read("stock.shipment.out", ids, wanted);
    const moveIds = rows
      .filter((r) => r.state === "done")
      .flatMap((r) => (r.outgoing_moves as number[]) ?? []);
    const moves = await this.client.read("stock.move", moveIds, ["origin", "quantity", "state"]);
    const byId = new Map(moves.map((m) => [m.id, m]));
    for (const r of rows) {
      const quantities = new Map<number, number>();
      for (const id of (r.outgoing_moves as number[]) ?? []) {
        const m = byId.get(id);
        const line = saleLineOf(m?.origin);
        if (m && line !== null && m.state === "done") add(quantities, line, Number(m.quantity ?? 0));
      }
      const carrier = (r["carrier."] as { rec_name?: unknown } | null | undefined)?.rec_name;
      out.set(r.id, {
        state: String(r.state),
        stamp: rowStamp(r),
        info: {
          id: r.id,
          number: typeof r.number === "string" ? r.number : null,
          effectiveDate: typeof r.effective_date === "string" ? r.effective_date : null,
          tracking: fields.tracking ? trackingNumbers(r[fields.tracking]) : [],
          carrier: typeof carrier === "string" && carrier ? carrier : null,
          quantities,
        },
      });
    }
    return out;
  }

  private async readInvoices(ids: number[]): Promise<Map<number, InvoiceRead>> {
    const out = new Map<number, InvoiceRead>();
    if (ids.length === 0) return out;
    const rows = await this.client.read("account.invoice", ids, [
      "type",
      "state",
      "number",
      "lines",
      "write_date",
      "create_date",
    ]);
    const counted = rows.filter((r) => r.type === "out" && (r.state === "posted" || r.state === "paid"));
    const lines = await this.client.read(
      "account.invoice.line",
      counted.flatMap((r) => (r.lines as number[]) ?? []),
      ["origin", "quantity", "type"],
    );
    const byId = new Map(lines.map((l) => [l.id, l]));
    for (const r of rows) {
      const quantities = new Map<number, number>();
      for (const id of (r.lines as number[]) ?? []) {
        const l = byId.get(id);
        const line = saleLineOf(l?.origin);
        if (l && line !== null && l.type === "line") add(quantities, line, Number(l.quantity ?? 0));
      }
      out.set(r.id, {
        state: String(r.state),
        counts: counted.includes(r),
        stamp: rowStamp(r),
        info: { id: r.id, number: typeof r.number === "string" ? r.number : null, quantities },
      });
    }
    return out;
  }
}

interface ShipmentRead {
  state: string;
  stamp: number | null;
  info: ShipmentInfo;
}

interface InvoiceRead {
  state: string;
  counts: boolean;
  stamp: number | null;
  info: InvoiceInfo;
}

function productCode(line: TrytonRecord): string | null {
  const product = line["product."] as { code?: unknown } | null | undefined;
  return typeof product?.code === "string" ? product.code : null;
}
