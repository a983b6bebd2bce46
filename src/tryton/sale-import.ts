/**
 * Magento orders → Tryton 6.0 sales, a page at a time (`SaleImporter.importOrders`).
 *
 * Per page, in this order, each step batched (reference §10: one `create` of 100 sales
 * is ~4.5× faster than 100 calls):
 *  1. validate and map every order (`sale-mapping.ts`); bad data fails that order only;
 *  2. one `search_read` of existing sales by the Magento id marker;
 *  3. for orders to create or rewrite: currencies, the tax setup (first page only) and each
 *     sale's foreseen total, parties + addresses, products (one
 *     search each, one create per model, `party-match.ts`, `product-match.ts`);
 *  4. one `create` of all new sales with their lines, one `write` of all changed ones;
 *  5. one `search_read` of the written sales by their markers: another runtime's duplicate
 *     is found (the oldest sale stays), and the state and — for sales this import takes to
 *     quotation or beyond — `total_amount` are read in the same call. A total that differs
 *     from Magento's `grand_total` at all is a `mismatch`, and such a sale is not confirmed
 *     (by default). Differences that are only tax rounding were made up before writing, by
 *     an explicit rounding line (step 3, `reconcileTotal`, docs/money.md). Sales that stay in draft are not checked: their total is
 *     not final, Tryton recomputes the taxes on every read of it (a fifth of an import's
 *     time), and the check runs when a later import moves the sale on, before it confirms;
 *  6. workflow rounds towards the state-map target: `quote`/`draft`/`cancel` for all
 *     sales in one call, `confirm`/`process` in small chunks (Tryton's confirm creates
 *     invoice and shipment in the request and is superlinear in batch size; with a worker
 *     it only queues `process`, and up to `concurrency` chunks are pressed at once). Buttons whose
 *     result is known (`quote` → quotation) are followed by the next one in the same round
 *     (quote, then confirm); one `read` of the states ends the round, because buttons skip
 *     disallowed transitions silently.
 *
 * Unchanged orders (same content hash in the marker, state already right) cost the one
 * search of step 2 and nothing else. Imports into the same database are serialised
 * within the process (`exclusive` below), so two overlapping runs of the same page
 * cannot both create a sale, party or product.
 */
import { validateOrder, orderIdentity, type MagentoOrder } from "../magento/schema";
import type { SyncError, SyncResult } from "../sync/result";
import { abs, amount, amountText, decimalPlaces } from "../sync/amounts";
import { createEach, isRecordError, pressEach, writeEach } from "./batch";
import { PartyMatcher, type PartyIds } from "./party-match";
import { ProductMatcher, type ProductSettings } from "./product-match";
import { ReferenceData, type CurrencyInfo } from "./reference-data";
import { defaultRetryPolicy, retryDelayMs } from "../sync/retry";
import { TrytonError, type TrytonClient, type TrytonRecord } from "./rpc";
import { learnProcessing, serverProfile, taskErrorMark, type ServerProfile } from "./server-profile";
import {
  checkTimeZone,
  defaultMappingOptions,
  lineValues,
  mapOrder,
  markerPattern,
  parseMarker,
  quantityFits,
  reconcileTotal,
  saleHeader,
  saleValues,
  taxMapFrom,
  type MappingOptions,
  type ResolvedProduct,
  type ResolvedSale,
  type SaleDraft,
  type TaxMap,
} from "./sale-mapping";
import {
  defaultStateMap,
  expectedAfter,
  isTrytonSaleState,
  nextStep,
  stateMapFrom,
  targetFor,
  type MagentoState,
  type SaleButton,
  type SaleTarget,
  type StateMap,
  type TrytonSaleState,
} from "./state-map";

export interface ImportOptions extends MappingOptions {
  stateMap: StateMap;
  /**
   * On a total mismatch: `hold` keeps the sale at quotation at most; `proceed` follows the state map anyway.
   * Totals are checked for sales the import takes (or leaves) at quotation or beyond, not for drafts.
   */
  mismatch: "hold" | "proceed";
  /** Account category of new products: id, name, or null for the first category with accounting. */
  accountCategory: number | string | null;
  /** Unit of new products, by symbol. */
  unitSymbol: string;
  /**
   * Sales per `confirm`/`process` call. Measured on trytond 6.0/SQLite (README, "Batching"):
   * the per-sale cost grows with the batch, so small chunks win; a chunk still saves the
   * per-call overhead of one sale per call.
   */
  confirmChunk: number;
  /**
   * `confirm`/`process` chunks in flight at once (one request and connection each), used
   * only once the server is known to queue `process` for a worker (`ServerProfile.processing`
   * is `queue`: 7.0 with `trytond-worker`, i.e. PostgreSQL). Where `process` runs inside
   * `confirm` (no worker; SQLite, which serialises writers) chunks go one at a time: there
   * concurrent confirms only wait for each other's locks (docs/benchmarks.md, "Tryton on
   * 7.0/PostgreSQL with a worker"). Default 1: on the 2-core machine measured there the
   * worker's processing bounds the run, and 4 in flight did not shorten it.
   */
  concurrency: number;
}

export const DEFAULT_CONFIRM_CHUNK = 5;
export const DEFAULT_CONCURRENCY = 1;

export const defaultImportOptions: Readonly<ImportOptions> = Object.freeze({
  ...defaultMappingOptions,
  stateMap: defaultStateMap,
  mismatch: "hold",
  accountCategory: null,
  unitSymbol: "u",
  confirmChunk: DEFAULT_CONFIRM_CHUNK,
  concurrency: DEFAULT_CONCURRENCY,
});

/** What callers pass: maps may be given raw (objects or JSON text, as a node's settings hold them). */
export type ImportSettings = Partial<Omit<ImportOptions, "taxMap" | "stateMap">> & {
  taxMap?: TaxMap | Record<string, number | number[]> | string;
  stateMap?: Partial<Record<MagentoState, SaleTarget>> | string;
};

export interface ImportProgress {
  phase: "prepare" | "create" | "workflow" | "done";
  /** Orders finished so far in this page, and orders in the page. */
  done: number;
  total: number;
}

export interface ImportSummary {
  /** One result per order, in input order (failures included). */
  results: SyncResult[];
  /** The results that need attention: failed orders, and sales with a `mismatch` or `conflict`. */
  failures: SyncResult[];
}

export interface ImportRunOptions {
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------
// One import per database at a time within this process.
// ---------------------------------------------------------------------------------

const queues = new Map<string, Promise<unknown>>();

async function exclusive<T>(key: string, job: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(job, job);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

// ---------------------------------------------------------------------------------

interface ExistingSale {
  id: number;
  state: TrytonSaleState;
  comment: unknown;
  /** Absent when not read (the written sales of a page that all stay in draft). */
  total?: string;
  lines: number[];
  contentHash: string;
}

interface Work {
  orderId: number | null;
  incrementId: string | null;
  draft?: SaleDraft;
  target: SaleTarget;
  sale?: ExistingSale;
  saleId?: number;
  /** Tryton's `total_amount` of the sale, when read. */
  total?: string;
  state?: TrytonSaleState;
  action?: "created" | "updated" | "unchanged" | "skipped";
  touched?: boolean;
  mismatch?: SyncError;
  /** Why Tryton's total cannot equal grand_total, when known before writing (`reconcileTotal`). */
  amountProblem?: string;
  /** The tax rounding line's amount, when one was added. */
  rounding?: string;
  error?: SyncError;
  finished?: boolean;
  /** For content rewrites: the lines to drop. */
  oldLines?: number[];
  resolved?: ResolvedSale;
}

const saleFields = ["state", "comment", "total_amount", "lines"];

/** One round's buttons for a sale, pressed in order; `pressed` counts those Tryton accepted. */
interface Chain {
  before: TrytonSaleState;
  buttons: SaleButton[];
  pressed: number;
}

/**
 * Whether the total of a sale with this target is checked against Magento's `grand_total`:
 * the import takes (or leaves) it at quotation or beyond. A draft's total is not final and
 * is checked when an import moves the sale on, before confirming it.
 */
function checksTotal(target: SaleTarget): boolean {
  return target === "quotation" || target === "confirmed" || target === "processing";
}

/** The state a button leaves a sale in when that is known before reading it back (not so for confirm/process). */
function knownAfter(button: SaleButton): TrytonSaleState | undefined {
  if (button === "quote") return "quotation";
  if (button === "draft") return "draft";
  if (button === "cancel") return "cancelled";
  return undefined;
}

export class SaleImporter {
  readonly options: Readonly<ImportOptions>;
  private readonly reference: ReferenceData;
  private readonly parties: PartyMatcher;
  private readonly catalog: ProductMatcher;
  private settings?: Promise<ProductSettings>;
  private stopped = false;

  constructor(
    readonly client: TrytonClient,
    settings: ImportSettings = {},
  ) {
    const { taxMap, stateMap, ...rest } = settings;
    const merged: ImportOptions = {
      ...defaultImportOptions,
      ...stripUndefined(rest),
      taxMap: Array.isArray(taxMap) ? (taxMap as TaxMap) : taxMapFrom(taxMap),
      stateMap: stateMapFrom(stateMap),
    };
    checkTimeZone(merged.timeZone);
    merged.confirmChunk = Math.max(1, Math.floor(Number(merged.confirmChunk) || DEFAULT_CONFIRM_CHUNK));
    merged.concurrency = Math.max(1, Math.floor(Number(merged.concurrency) || DEFAULT_CONCURRENCY));
    this.options = Object.freeze(merged);
    this.reference = new ReferenceData(client);
    this.parties = new PartyMatcher(client, this.reference);
    this.catalog = new ProductMatcher(client, this.reference);
  }

  /**
   * Import a page of orders (raw Magento JSON or validated `MagentoOrder`s). Resolves with
   * one result per order; rejects only when the whole page cannot be imported (login,
   * network or server gone after retries, access rights).
   */
  importOrders(
    orders: readonly unknown[],
    progress?: (p: ImportProgress) => void,
    run: ImportRunOptions = {},
  ): Promise<ImportSummary> {
    if (this.stopped) return Promise.reject(new Error("the Tryton sale importer is stopped"));
    const key = `${this.client.url}|${this.client.database}`;
    const tools: PageTools = {
      client: this.client,
      options: this.options,
      reference: this.reference,
      parties: this.parties,
      catalog: this.catalog,
      productSettings: () => this.productSettings(),
    };
    return exclusive(key, () => importPage(tools, orders, progress, run.signal));
  }

  /** No new imports after this; the running one (if any) finishes its current call. */
  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** Account category and unit for new products: looked up on first use, then kept. */
  private productSettings(): Promise<ProductSettings> {
    this.settings ??= this.lookupProductSettings().catch((err: unknown) => {
      this.settings = undefined;
      throw err;
    });
    return this.settings;
  }

  private async lookupProductSettings(): Promise<ProductSettings> {
    const unit = await this.reference.unitBySymbol(this.options.unitSymbol);
    const wanted = this.options.accountCategory;
    if (typeof wanted === "number") return { accountCategory: wanted, unit };
    const name = typeof wanted === "string" ? wanted.trim() : "";
    const domain: unknown[] = [["accounting", "=", true]];
    if (name) domain.push(["name", "=", name]);
    const [found] = await this.client.search("product.category", domain, {
      limit: 1,
      order: [["id", "ASC"]],
    });
    if (found === undefined && name) {
      throw new Error(`Tryton has no product category "${name}" with accounting (setting accountCategory)`);
    }
    return { accountCategory: found ?? null, unit };
  }
}

/** Whole-page attempts when Tryton fails in a way that may pass (network, timeout, 5xx, 429). */
const PAGE_ATTEMPTS = defaultRetryPolicy.attempts;

/**
 * One page, run again from the start after a transient failure. Safe because every step
 * looks before it writes (sales by marker, parties by e-mail, products by code): a write
 * whose answer was lost is found, not repeated (the client does not repeat such writes).
 */
async function importPage(
  tools: PageTools,
  orders: readonly unknown[],
  progress: ((p: ImportProgress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<ImportSummary> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await new PageImport(tools, orders, progress, signal).run();
    } catch (err) {
      // A record deleted between search and read (another runtime removing its duplicate) passes too.
      const transient = err instanceof TrytonError && (err.retryable || vanishedRecord(err));
      if (!transient || attempt >= PAGE_ATTEMPTS || signal?.aborted) throw err;
      await pause(retryDelayMs(attempt + 1, defaultRetryPolicy), signal);
    }
  }
}

/**
 * Per Magento order among the pack's sales `rows` (ordered by id): the one to keep — the first
 * already confirmed or beyond, else the oldest — and the others that may be deleted (draft or
 * quotation). See `PageImport.oldestSales`.
 */
function chooseKept(rows: TrytonRecord[]): { kept: Map<number, ExistingSale>; drop: TrytonRecord[] } {
  const copies = new Map<number, TrytonRecord[]>();
  for (const r of rows) {
    const marker = parseMarker(r.comment);
    if (!marker || !isTrytonSaleState(r.state)) continue;
    copies.set(marker.orderId, [...(copies.get(marker.orderId) ?? []), r]);
  }
  const kept = new Map<number, ExistingSale>();
  const drop: TrytonRecord[] = [];
  for (const [orderId, list] of copies) {
    const keep =
      list.find((r) => r.state !== "draft" && r.state !== "quotation" && r.state !== "cancelled") ?? list[0]!;
    const marker = parseMarker(keep.comment)!;
    kept.set(orderId, {
      id: keep.id,
      state: keep.state as TrytonSaleState,
      comment: keep.comment,
      ...("total_amount" in keep ? { total: String(keep.total_amount ?? "0") } : {}),
      lines: (keep.lines as number[]) ?? [],
      contentHash: marker.contentHash,
    });
    drop.push(...list.filter((r) => r !== keep && (r.state === "draft" || r.state === "quotation")));
  }
  return { kept, drop };
}

/** trytond's ir.msg_read_error: "… that don't exist anymore." (6.0), "… that don't exist." (7.0). */
function vanishedRecord(err: TrytonError): boolean {
  return err.code === "user_error" && /don't exist|do not exist/i.test(err.serverMessage);
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function orderText(w: { incrementId: string | null; orderId: number | null }): string {
  if (w.incrementId) return `Magento order #${w.incrementId}`;
  return w.orderId !== null ? `Magento order with entity_id ${w.orderId}` : "A Magento order";
}

function trytonFailure(w: Work, what: string, err: TrytonError, field?: string): SyncError {
  return {
    code: err.code,
    message: `${orderText(w)}: Tryton refused to ${what}: ${err.serverMessage}${err.description ? ` (${err.description})` : ""}`,
    ...(field ? { field } : {}),
  };
}

/** What one page import uses from its importer (lookups cached across pages). */
interface PageTools {
  client: TrytonClient;
  options: Readonly<ImportOptions>;
  reference: ReferenceData;
  parties: PartyMatcher;
  catalog: ProductMatcher;
  productSettings(): Promise<ProductSettings>;
}

class PageImport {
  private readonly works: Work[] = [];
  /** The copy of each order that is imported, when an order appears more than once. */
  private duplicates = new Map<number, Work>();
  private readonly opts: Readonly<ImportOptions>;
  private readonly client: TrytonClient;

  constructor(
    private readonly tools: PageTools,
    private readonly orders: readonly unknown[],
    private readonly progress: ((p: ImportProgress) => void) | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.opts = tools.options;
    this.client = tools.client;
  }

  private report(phase: ImportProgress["phase"]): void {
    if (!this.progress) return;
    const done = this.works.filter((w) => w.finished || w.error).length;
    this.progress({ phase, done, total: this.orders.length });
  }

  private check(): void {
    this.signal?.throwIfAborted();
  }

  private live(): Work[] {
    return this.works.filter((w) => !w.error && !w.finished);
  }

  async run(): Promise<ImportSummary> {
    this.prepare();
    this.report("prepare");
    if (this.live().length) {
      await this.findExisting();
      this.check();
      await this.writeContent();
      this.check();
      await this.readWritten();
      await this.checkTotals();
      this.report("create");
      this.check();
      await this.workflow();
    }
    this.report("done");
    return this.summary();
  }

  // 1. validate + map ---------------------------------------------------------------
  private prepare(): void {
    const latest = new Map<number, Work>();
    for (const raw of this.orders) {
      const id = orderIdentity(raw);
      const work: Work = { ...id, target: "skip" };
      this.works.push(work);
      const valid = validateOrder(raw);
      if (!valid.ok) {
        work.error = valid.error;
        continue;
      }
      const order: MagentoOrder = valid.order;
      const mapped = mapOrder(order, this.opts);
      if (!mapped.ok) {
        work.error = mapped.error;
        continue;
      }
      work.draft = mapped.draft;
      work.target = targetFor(this.opts.stateMap, order.state);
      // The same order twice in a page: the last copy is imported, the others mirror it.
      const earlier = latest.get(order.entity_id);
      if (earlier) earlier.finished = true;
      latest.set(order.entity_id, work);
    }
    this.duplicates = latest;
  }

  // 2. existing sales ---------------------------------------------------------------
  private async findExisting(): Promise<void> {
    const live = this.live().filter((w) => w.draft);
    const patterns = live.map((w) => ["comment", "ilike", markerPattern(w.draft!.orderId)]);
    const rows = await this.client.searchRead("sale.sale", ["OR", ...patterns], saleFields, {
      order: [["id", "ASC"]],
    });
    const byOrder = await this.oldestSales(rows);
    for (const w of live) {
      const draft = w.draft!;
      const sale = byOrder.get(draft.orderId);
      if (!sale) {
        if (w.target === "skip" || w.target === "cancelled") {
          // Never imported, and Magento says not to (or it is already cancelled there).
          w.action = "skipped";
          w.finished = true;
        } else w.action = "created";
        continue;
      }
      w.sale = sale;
      w.saleId = sale.id;
      w.state = sale.state;
      w.total = sale.total;
      if (w.target === "skip") {
        w.action = "skipped";
        w.finished = true;
        continue;
      }
      if (
        sale.contentHash === draft.contentHash ||
        (sale.state === "cancelled" && w.target === "cancelled")
      ) {
        w.action = "unchanged";
        continue;
      }
      if (sale.state === "draft" || sale.state === "quotation" || sale.state === "cancelled") {
        w.action = "updated";
        w.oldLines = sale.lines;
        continue;
      }
      w.error = {
        code: "conflict",
        message:
          `${orderText(w)} changed in Magento (items, prices, addresses or totals) after Tryton sale ${sale.id} ` +
          `was confirmed (${sale.state}); the sale was not changed. Adjust it in Tryton by hand.`,
      };
    }
  }

  /**
   * The sale to keep per Magento order among `rows` (ordered by id), when the pack made more
   * than one (two runtimes importing the same order at once, or a create committed after its
   * client gave up): a sale some runtime already confirmed (it kept that one), else the oldest.
   * The others still in draft or quotation are deleted, so one sale stays.
   *
   * Why not simply the oldest: on PostgreSQL ids are handed out when a row is inserted, not when
   * its transaction commits, so the runtime with the newer id may have committed first, seen
   * only its own sale, and confirmed it; the oldest-id rule would then keep both. When a delete
   * is refused (the other runtime confirmed it meanwhile), the rows are read again and the
   * choice made once more. docs/tryton-versions.md, "Several runtimes on one database".
   */
  private async oldestSales(rows: TrytonRecord[]): Promise<Map<number, ExistingSale>> {
    let current = rows;
    for (let pass = 0; ; pass += 1) {
      const { kept, drop } = chooseKept(current);
      const refused: number[] = [];
      for (const r of drop) {
        try {
          await this.client.delete("sale.sale", [r.id]);
        } catch (err) {
          // Another runtime removed it first (gone), or moved it on (it may now be the one to keep).
          if (!isRecordError(err) && !(err instanceof TrytonError && err.code === "access_error")) throw err;
          refused.push(r.id);
        }
      }
      if (refused.length === 0 || pass > 0) return kept;
      const fields = Object.keys(current[0] ?? {}).filter((f) => f !== "id" && !f.startsWith("_"));
      // A search, not a read: a sale the other runtime deleted is simply absent.
      current = await this.client.searchRead("sale.sale", [["id", "in", current.map((r) => r.id)]], fields, {
        order: [["id", "ASC"]],
      });
    }
  }

  // 3 + 4. parties, products, sales -------------------------------------------------
  private async writeContent(): Promise<void> {
    const work = this.live().filter((w) => w.action === "created" || w.action === "updated");
    if (work.length === 0) return;

    const currencies = await this.tools.reference.currenciesFor(work.map((w) => w.draft!.currencyCode));
    for (const w of work) {
      if (!currencies.has(w.draft!.currencyCode)) {
        w.error = {
          code: "unknown_currency",
          field: "order_currency_code",
          message: `${orderText(w)}: Tryton has no currency with code "${w.draft!.currencyCode}" (order_currency_code).`,
        };
      }
    }

    await this.reconcileTotals(
      work.filter((w) => !w.error),
      currencies,
    );
    const settings = await this.tools.productSettings();
    const products = await this.resolveProducts(
      work.filter((w) => !w.error),
      settings,
    );
    const parties = await this.resolveParties(work.filter((w) => !w.error));
    for (const w of work) {
      if (w.error) continue;
      const ids = parties.get(w.draft!.orderId) as PartyIds;
      w.resolved = {
        party: ids.party,
        invoiceAddress: ids.invoiceAddress,
        shipmentAddress: ids.shipmentAddress,
        currency: (currencies.get(w.draft!.currencyCode) as CurrencyInfo).id,
        products,
      };
    }
    this.check();
    const created = work.filter((w) => !w.error && w.action === "created");
    await this.createSales(created);
    await this.updateSales(work.filter((w) => !w.error && w.action === "updated"));
  }

  /** Adds the tax rounding lines (`reconcileTotal`), before products are resolved. */
  private async reconcileTotals(work: Work[], currencies: Map<string, CurrencyInfo>): Promise<void> {
    if (work.length === 0) return;
    const profile = await serverProfile(this.client);
    const ids = work.flatMap((w) => w.draft!.lines.flatMap((l) => l.taxes));
    const setup = await this.tools.reference.taxSetup(ids, profile.series);
    for (const w of work) {
      const step = amount((currencies.get(w.draft!.currencyCode) as CurrencyInfo).rounding);
      const reconciled = reconcileTotal(w.draft!, setup, step, this.opts);
      w.draft = reconciled.draft;
      if (reconciled.rounding) w.rounding = reconciled.rounding;
      if (reconciled.problem) w.amountProblem = reconciled.problem;
    }
  }

  private async resolveProducts(
    work: Work[],
    settings: ProductSettings,
  ): Promise<Map<string, ResolvedProduct>> {
    const wanted = ProductMatcher.wanted(work.flatMap((w) => w.draft!.lines));
    const { products, units, refused } = await this.tools.catalog.resolve(wanted, settings);
    for (const w of work) {
      for (const line of w.draft!.lines) {
        const problem = refused.get(line.productCode);
        if (problem) {
          w.error = trytonFailure(w, `create product ${line.productCode}`, problem, line.skuField);
          break;
        }
        const product = products.get(line.productCode);
        const unit = product ? units.get(product.unit) : undefined;
        if (product && unit && !quantityFits(line.quantity, unit.digits)) {
          w.error = {
            code: "invalid_quantity",
            field: line.quantityField,
            message:
              `${orderText(w)}: quantity ${line.quantity} of ${line.productCode} (${line.quantityField}) has ` +
              `${decimalPlaces(line.quantity)} decimals, but its Tryton unit allows ${unit.digits}.`,
          };
          break;
        }
      }
    }
    return products;
  }

  private async resolveParties(work: Work[]): Promise<Map<number, PartyIds>> {
    const { resolved, failures } = await this.tools.parties.resolve(work.map((w) => w.draft!));
    for (const w of work) {
      const failure = failures.get(w.draft!.orderId);
      if (failure) w.error = failure;
    }
    return resolved;
  }

  private async createSales(work: Work[]): Promise<void> {
    if (work.length === 0) return;
    const outcomes = await createEach(
      this.client,
      "sale.sale",
      work.map((w) => saleValues(w.draft!, w.resolved!)),
    );
    work.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) {
        w.saleId = outcome.value;
        w.state = "draft";
        w.touched = true;
      } else if (outcome) w.error = trytonFailure(w, "create the sale", outcome.error);
    });
  }

  /** Rewrite draft/quotation/cancelled sales whose Magento content changed: back to draft, new header and lines. */
  private async updateSales(work: Work[]): Promise<void> {
    if (work.length === 0) return;
    const back = work.filter((w) => w.state !== "draft").map((w) => w.saleId!);
    const refused = await pressEach(this.client, "sale.sale", "draft", back, back.length);
    const states = await this.readStates(back);
    for (const w of work) {
      const err = refused.get(w.saleId!);
      if (err) w.error = trytonFailure(w, `reset sale ${w.saleId} to draft`, err);
      else if (w.state !== "draft" && states.get(w.saleId!) !== "draft") {
        w.error = {
          code: "conflict",
          message: `${orderText(w)} changed in Magento, but Tryton did not reset sale ${w.saleId} to draft (still ${states.get(w.saleId!)}).`,
        };
      } else w.state = "draft";
    }
    const ready = work.filter((w) => !w.error);
    const outcomes = await writeEach(
      this.client,
      "sale.sale",
      ready.map((w) => [
        [w.saleId!],
        {
          ...saleHeader(w.draft!, w.resolved!, w.sale!.comment),
          lines: [
            ["delete", w.oldLines ?? []],
            ["create", lineValues(w.draft!, w.resolved!)],
          ],
        },
      ]),
    );
    ready.forEach((w, i) => {
      const outcome = outcomes[i];
      if (outcome && !outcome.ok) w.error = trytonFailure(w, `update sale ${w.saleId}`, outcome.error);
      else w.touched = true;
    });
  }

  // 5. the written sales, once: duplicates, states, totals -------------------------

  /**
   * One search of the sales written in this page, by their markers: another runtime may
   * have created a sale for the same order meanwhile. The oldest stays; a newer draft (this
   * run's or the other's) is deleted, and this run carries on with the oldest. The same call
   * reads the states and, when a written sale is to be checked (`checksTotal`), the totals
   * (Tryton computes a draft's or quotation's taxes on every read of `total_amount`, so it is
   * left out when the written sales all stay in draft).
   */
  private async readWritten(): Promise<void> {
    const written = this.live().filter((w) => w.touched && w.saleId !== undefined);
    if (written.length === 0) return;
    const patterns = written.map((w) => ["comment", "ilike", markerPattern(w.draft!.orderId)]);
    const fields = [
      "comment",
      "state",
      ...(written.some((w) => checksTotal(w.target)) ? ["total_amount"] : []),
    ];
    const rows = await this.client.searchRead("sale.sale", ["OR", ...patterns], fields, {
      order: [["id", "ASC"]],
    });
    const oldest = await this.oldestSales(rows);
    for (const w of written) {
      const kept = oldest.get(w.draft!.orderId);
      if (!kept) {
        w.error = {
          code: "conflict",
          message: `${orderText(w)}: Tryton sale ${w.saleId} was deleted in Tryton while it was imported; the next import creates it again.`,
        };
        continue;
      }
      if (kept.id !== w.saleId) {
        // Another runtime's sale is older: this run's was deleted above, the older one is used.
        Object.assign(w, { saleId: kept.id, sale: kept, action: "unchanged", touched: false });
      }
      w.state = kept.state;
      w.total = kept.total;
    }
  }

  /**
   * Sales this import takes (or leaves) at quotation or beyond: Tryton's total against
   * Magento's `grand_total`. Drafts are not checked (see step 5 above).
   */
  private async checkTotals(): Promise<void> {
    const checked = this.live().filter((w) => w.saleId && w.total !== undefined && checksTotal(w.target));
    if (checked.length === 0) return;
    for (const w of checked) {
      const total = w.total!;
      const difference = amount(total) - amount(w.draft!.payable);
      if (difference === 0n) continue;
      const held = this.opts.mismatch === "hold";
      w.mismatch = {
        code: "mismatch",
        field: "grand_total",
        message:
          `${orderText(w)}: Tryton sale ${w.saleId} totals ${total}, Magento grand_total is ${w.draft!.grandTotal}` +
          (w.draft!.payable === w.draft!.grandTotal
            ? " "
            : ` (${w.draft!.payable} in the currency's smallest unit) `) +
          `(difference ${amountText(abs(difference))})` +
          (w.amountProblem ? `: ${w.amountProblem}` : "") +
          (held ? "; the sale is not confirmed until the difference is resolved." : "."),
      };
    }
  }

  // 6. workflow ---------------------------------------------------------------------
  private async workflow(): Promise<void> {
    const profile = await serverProfile(this.client);
    let errorMark: number | undefined;
    for (let round = 0; round < 8; round += 1) {
      this.check();
      const chains = this.planRound(profile);
      if (chains.size === 0) return;
      // Level by level: every sale's first button, then the button after it, …
      for (let level = 0; ; level += 1) {
        const presses = new Map<SaleButton, Work[]>();
        for (const [w, chain] of chains) {
          const button = chain.buttons[level];
          if (button && !w.error && chain.pressed === level) {
            presses.set(button, [...(presses.get(button) ?? []), w]);
          }
        }
        if (presses.size === 0) break;
        if (level > 0) this.check();
        if (presses.has("confirm") && profile.processing !== "queue") {
          errorMark = await taskErrorMark(this.client, profile);
        }
        for (const [button, works] of presses) {
          const heavy = button === "confirm" || button === "process";
          const ids = works.map((w) => w.saleId!);
          const refused = await pressEach(
            this.client,
            "sale.sale",
            button,
            ids,
            heavy ? this.opts.confirmChunk : ids.length,
            () => this.report("workflow"),
            heavy && profile.processing === "queue" ? this.opts.concurrency : 1,
          );
          for (const w of works) {
            const err = refused.get(w.saleId!);
            if (err) w.error = trytonFailure(w, `${button} sale ${w.saleId}`, err);
            else (chains.get(w) as Chain).pressed += 1;
          }
        }
      }
      const moved = [...chains].filter(([, chain]) => chain.pressed > 0);
      const states = await this.readStates(moved.map(([w]) => w.saleId!));
      const leftConfirmed = moved.some(
        ([w, chain]) => chain.buttons.includes("confirm") && states.get(w.saleId!) === "confirmed",
      );
      if (leftConfirmed) await learnProcessing(this.client, profile, errorMark);
      for (const [w, { before, buttons }] of moved) {
        const now = states.get(w.saleId!);
        w.touched = true;
        if (w.error) {
          // A later button of the chain was refused: report the state the sale is in.
          if (now) w.state = now;
          continue;
        }
        const last = buttons[buttons.length - 1] as SaleButton;
        const lastFrom = buttons.length > 1 ? (knownAfter(buttons[buttons.length - 2]!) ?? before) : before;
        if (now && (expectedAfter(last, lastFrom).includes(now) || now !== before)) {
          // Moved as asked, part of the way, or on by another runtime: the next round decides from the state read back.
          w.state = now;
          continue;
        }
        // Tryton skips a disallowed transition without an error (reference trap 7); the sale did not move at all.
        const button = buttons[0] as SaleButton;
        w.state = now ?? before;
        w.error = {
          code: "workflow",
          message:
            `${orderText(w)}: Tryton did not ${button} sale ${w.saleId} (still ${w.state}).` +
            (button === "confirm" || button === "process"
              ? " Processing may have failed on the server; run Process on the sale in Tryton to see why."
              : ""),
        };
      }
      this.report("workflow");
    }
    for (const w of this.live()) {
      w.error = {
        code: "workflow",
        message: `${orderText(w)}: sale ${w.saleId} did not reach ${w.target} (still ${w.state}).`,
      };
    }
  }

  /**
   * The buttons of this round per sale: the next step towards its target and, while the
   * state a button leaves is known without reading it back (`knownAfter`), the steps after
   * it — a new sale gets `quote` and `confirm` in one round, and one read of the states.
   * Sales that reached their target, or are held by a mismatch, are finished here.
   */
  private planRound(profile: ServerProfile): Map<Work, Chain> {
    const chains = new Map<Work, Chain>();
    for (const w of this.live()) {
      if (!w.saleId || !w.state) {
        w.finished = true;
        continue;
      }
      if (w.state === "confirmed" && w.target === "processing" && profile.processing === "queue") {
        // Tryton's worker takes the sale on to processing; pressing process here would race it.
        w.finished = true;
        continue;
      }
      const buttons: SaleButton[] = [];
      for (let state: TrytonSaleState | undefined = w.state; state && buttons.length < 4;) {
        const step = nextStep(state, w.target);
        if (step.kind === "reached") break;
        if (step.kind === "conflict") {
          if (buttons.length === 0) w.error = this.conflict(w, step.reason);
          break;
        }
        const heavy = step.button === "confirm" || step.button === "process";
        if (heavy && w.mismatch && this.opts.mismatch === "hold") break;
        buttons.push(step.button);
        state = knownAfter(step.button);
      }
      if (w.error) continue;
      if (buttons.length === 0) w.finished = true;
      else chains.set(w, { before: w.state, buttons, pressed: 0 });
    }
    return chains;
  }

  private conflict(w: Work, _reason: "cannot_cancel"): SyncError {
    return {
      code: "conflict",
      field: "state",
      message:
        `${orderText(w)} was cancelled in Magento, but Tryton sale ${w.saleId} is already ${w.state}: ` +
        `Tryton 6.0 cannot cancel a sale once it is processing. Cancel its shipments and invoices in Tryton ` +
        `and handle the exceptions (the sale then ends "done"), or cancel the order by hand.`,
    };
  }

  private async readStates(ids: number[]): Promise<Map<number, TrytonSaleState>> {
    const out = new Map<number, TrytonSaleState>();
    if (ids.length === 0) return out;
    const rows: TrytonRecord[] = await this.client.read("sale.sale", [...new Set(ids)], ["state"]);
    for (const r of rows) if (isTrytonSaleState(r.state)) out.set(r.id, r.state);
    return out;
  }

  // results -------------------------------------------------------------------------
  private summary(): ImportSummary {
    const results = this.works.map((w) => this.resultOf(w));
    return { results, failures: results.filter((r) => r.error) };
  }

  private resultOf(w: Work): SyncResult {
    // An earlier copy of an order that appears twice in the page mirrors the imported copy.
    const source = w.orderId !== null && w.draft ? (this.duplicates.get(w.orderId) ?? w) : w;
    const base = { orderId: w.orderId, incrementId: w.incrementId, target: "tryton" as const };
    const sale = source.saleId !== undefined ? { targetId: source.saleId, state: source.state } : {};
    if (source.error) return { ...base, action: "failed", ...sale, error: source.error };
    let action = source.action ?? "skipped";
    if (action === "unchanged" && source.touched) action = "updated";
    const adjustments = adjustmentsOf(source);
    return {
      ...base,
      action,
      ...sale,
      ...(adjustments.length ? { adjustments } : {}),
      ...(source.mismatch ? { error: source.mismatch } : {}),
    };
  }
}

/** What the result says about amounts read or added beyond the plain mapping (docs/money.md). */
function adjustmentsOf(w: Work): string[] {
  const reading = w.draft?.reading;
  if (!reading) return [];
  return [
    ...reading.items.map((r) => `read ${r}`),
    ...(reading.payableNote ? [reading.payableNote] : []),
    ...(w.rounding ? [`tax rounding line ${w.rounding}`] : []),
  ];
}
