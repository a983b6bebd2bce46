/**
 * Magento orders → Salesforce Orders, a page at a time (`OrderPusher.push`). README.md in this
 * folder has the whole story; in short, per round of up to 200 orders:
 *
 *  1. validate and map every order (order-mapping.ts); bad data fails that order only;
 *  2. one lookup (a composite of SOQL queries): the existing Orders by key, with their items,
 *     notes and stored hash, and the customers' Accounts and Contacts;
 *  3. decide: same hash and all items there → unchanged, **no call**; activated in Salesforce and changed →
 *     reported (or reopened, per settings); else written;
 *  4. catalog: Product2 + PricebookEntry per SKU (cached; created when missing);
 *  5. write round (composites of ≤ 5 collections): Accounts and Contacts that differ from
 *     Salesforce, Orders (Draft-group status; the hash too when that status is the target),
 *     then OrderItems (deletes, updates by Id, upserts by key pointing at the Order through
 *     its external-ID field);
 *  6. final round, when needed: hash + target status of Draft-then-Activate orders; the hash
 *     cleared on orders that failed after their Order was written; new orders whose items
 *     failed deleted again (rolled back); Notes.
 *
 * An order is complete when its hash matches and all its item keys exist, so an order
 * interrupted anywhere (crash, error) is rewritten on the next run (README.md: the one case
 * a crash can leave unseen).
 *
 * Failures: a record error fails only the order that owns the record. UNABLE_TO_LOCK_ROW,
 * 5xx and network failures of a write are retried by re-running the round for the orders
 * concerned after a backoff (a fresh lookup first, so a write whose answer was lost is not
 * repeated blindly); reads are not retried here because jsforce already retries GETs, except
 * for a request limit that is not the daily one, which jsforce does not retry (a 403): it is
 * transient like a 5xx. The daily limit (REQUEST_LIMIT_EXCEEDED "TotalRequests …") stops the run
 * at once. Session expiry is handled by the session.
 */
import { orderIdentity, orderLabel, validateOrder, type MagentoOrder } from "../magento/schema";
import { retryDelayMs } from "../sync/retry";
import type { SyncAction, SyncError, SyncResult } from "../sync/result";
import { Catalog, needKey, type CatalogNeed } from "./catalog";
import { recordErrorText, runSteps, type Rec, type RecordError, type Step } from "./composite";
import {
  SalesforceError,
  dailyLimitError,
  describeError,
  failureKind,
  isShortLivedLimit,
  readError,
  shortLivedLimitError,
} from "./errors";
import { decimalsFor, fitLines } from "./order-amounts";
import {
  contentHash,
  mapOrder,
  noteMarkerOf,
  unavailableCountries,
  withAddressCodes,
  type WantedNote,
  type WantedOrder,
} from "./order-mapping";
import type { OrderStatusInfo, SalesforceSession } from "./session";
import { pushSettings, type PushSettings, type PushSettingsInput } from "./settings";
import { checkSetup, type OrgSetup } from "./setup-check";
import { childRows, inLists, queryBatch } from "./soql";
import type { Connection } from "jsforce";

export interface PushProgress {
  /** Orders finished so far, and orders received. */
  done: number;
  total: number;
}

export interface PushSummary {
  /** One result per order received, in input order. */
  results: SyncResult[];
  /** The failed ones. */
  failures: SyncResult[];
  /** Salesforce API calls this push made (a composite request counts as one). */
  apiCalls: number;
}

export interface PushRunOptions {
  signal?: AbortSignal;
  /** Test hook: the wait before retry n (default: the shared backoff with jitter). */
  delay?: (retry: number) => number;
}

interface ExistingItem {
  id: string;
  entryId: string;
  quantity: number;
  unitPrice: number;
  description: string | null;
}

interface ExistingOrder {
  id: string;
  orderNumber: string;
  status: string;
  statusCode: string;
  pricebookId: string | null;
  hash: string | null;
  items: Map<string, ExistingItem>;
  noteMarkers: Set<string>;
}

interface Work {
  index: number;
  identity: { orderId: number | null; incrementId: string | null };
  label: string;
  order?: MagentoOrder;
  wanted?: WantedOrder;
  hash?: string;
  target?: OrderStatusInfo;
  phase1?: OrderStatusInfo;
  /** Set once the order reached a final result. */
  result?: SyncResult;
  /** The Order existed in Salesforce before this push (else a write makes it "created"). */
  existedBefore?: boolean;
  /** An earlier attempt of this push wrote the order (its answer may have been lost). */
  wroteEarlier?: boolean;
  // Per attempt:
  existing?: ExistingOrder;
  write?: boolean;
  sfId?: string;
  created?: boolean;
  error?: SyncError;
  retryable?: boolean;
  notes?: WantedNote[];
  action?: SyncAction;
  /** The Order upsert carried the sync hash (its status is the target: no activation pending). */
  hashWritten?: boolean;
  /** The Order record itself was written in this attempt. */
  orderWritten?: boolean;
}

/** What Salesforce holds for a round, read in one composite call. */
interface Existing {
  orders: Map<string, ExistingOrder>;
  /** Account / Contact rows by customer key (lower case), with the fields the pack writes. */
  accounts: Map<string, Record<string, unknown>>;
  contacts: Map<string, Record<string, unknown>>;
}

const ordersSerialised = new WeakMap<SalesforceSession, Promise<unknown>>();

/** Pushes through one session run one at a time, so two nodes cannot race on the same Account or Product. */
async function exclusive<T>(session: SalesforceSession, job: () => Promise<T>): Promise<T> {
  const before = ordersSerialised.get(session) ?? Promise.resolve();
  const run = before.then(job, job);
  ordersSerialised.set(
    session,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );
  return run;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** Errors a retry of the round can fix. */
const RETRYABLE_RECORD_CODES = new Set(["UNABLE_TO_LOCK_ROW", "UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE"]);

/** Characters of quoted keys per query: the encoded query must stay well inside a URL. */
const LOOKUP_LIST_CHARS = 6000;

const unique = (names: string[]): string[] => [...new Set(names)];

function existingOrder(
  row: Record<string, unknown>,
  f: PushSettings["fields"],
  hashField: string | undefined,
): ExistingOrder {
  const items = new Map<string, ExistingItem>();
  for (const item of childRows<Record<string, unknown>>(row.OrderItems)) {
    const itemKey = item[f.itemKey];
    if (typeof itemKey !== "string") continue;
    items.set(itemKey.toLowerCase(), {
      id: item.Id as string,
      entryId: item.PricebookEntryId as string,
      quantity: item.Quantity as number,
      unitPrice: item.UnitPrice as number,
      description: (item.Description as string | null) ?? null,
    });
  }
  const markers = new Set<string>();
  for (const note of childRows<Record<string, unknown>>(row.Notes)) {
    const marker = noteMarkerOf(note.Title);
    if (marker) markers.add(marker);
  }
  return {
    id: row.Id as string,
    orderNumber: String(row.OrderNumber ?? ""),
    status: String(row.Status ?? ""),
    statusCode: String(row.StatusCode ?? ""),
    pricebookId: (row.Pricebook2Id as string | null) ?? null,
    hash: hashField ? ((row[hashField] as string | null) ?? null) : null,
    items,
    noteMarkers: markers,
  };
}

/** Salesforce holds what the pack would write: every wanted field has the same value (null = empty). */
export function holdsFields(
  row: Record<string, unknown> | undefined,
  wanted: Record<string, unknown>,
): boolean {
  if (!row) return false;
  // E-mail addresses are compared without case: the customer key already ignores it, and a
  // shopper typing their address in another case is the same person (no rewrite for that).
  const norm = (k: string, v: unknown) => {
    const text = v === null || v === undefined ? "" : String(v);
    return k === "Email" ? text.toLowerCase() : text;
  };
  return Object.entries(wanted).every(([k, v]) => norm(k, row[k]) === norm(k, v));
}

export class OrderPusher {
  readonly settings: PushSettings;
  private setup?: Promise<OrgSetup>;
  private catalog?: Catalog;
  private calls = 0;

  constructor(
    readonly session: SalesforceSession,
    settings: PushSettingsInput = {},
  ) {
    this.settings = pushSettings(settings);
  }

  /**
   * The setup check (setup-check.ts), run once and remembered when it passes; a failed check
   * is run again next time (the admin may have fixed the org meanwhile).
   */
  checkSetup(force = false): Promise<OrgSetup> {
    if (force || !this.setup) {
      const running = (async () => {
        const conn = await this.session.connection();
        this.calls += 1;
        const setup = await checkSetup(conn, this.settings);
        this.catalog = new Catalog({
          skuField: this.settings.fields.sku,
          standardPricebookId: setup.standardPricebookId,
          pricebookId: setup.pricebookId,
          pricebookName: setup.pricebookName,
          multiCurrency: setup.multiCurrency,
        });
        return setup;
      })();
      this.setup = running;
      running.catch(() => {
        if (this.setup === running) this.setup = undefined;
      });
    }
    return this.setup as Promise<OrgSetup>;
  }

  /**
   * Push a page of orders (raw Magento JSON or validated orders). Resolves with one result per
   * order; rejects only when the whole page cannot be pushed: login refused, setup check failed,
   * daily API limit reached, Salesforce unreachable after retries.
   */
  async push(
    orders: readonly unknown[],
    progress?: (p: PushProgress) => void,
    run: PushRunOptions = {},
  ): Promise<PushSummary> {
    return exclusive(this.session, () => this.pushNow(orders, progress, run));
  }

  private async pushNow(
    orders: readonly unknown[],
    progress: ((p: PushProgress) => void) | undefined,
    run: PushRunOptions,
  ): Promise<PushSummary> {
    const startCalls = this.calls;
    const works: Work[] = orders.map((raw, index) => this.prepare(raw, index));
    if (works.some((w) => !w.result)) {
      let setup: OrgSetup;
      try {
        setup = await this.checkSetup();
      } catch (err) {
        throw this.fatal(err);
      }
      this.plan(works, setup);
      const pending = this.dedupe(works.filter((w) => !w.result));
      let done = works.length - pending.length;
      progress?.({ done, total: works.length });
      // One lookup for the whole message (one composite call carrying the queries of Orders,
      // Accounts and Contacts): an unchanged page costs this call and nothing else.
      let existing: Existing;
      try {
        existing = await this.lookup(pending, setup, run);
      } catch (err) {
        throw this.fatal(err);
      }
      for (let i = 0; i < pending.length; i += this.settings.batchSize) {
        run.signal?.throwIfAborted();
        const round = pending.slice(i, i + this.settings.batchSize);
        await this.pushRound(round, setup, run, existing);
        done += round.length;
        progress?.({ done, total: works.length });
      }
    }
    const results = works.map((w) => w.result as SyncResult);
    return {
      results,
      failures: results.filter((r) => r.action === "failed"),
      apiCalls: this.calls - startCalls,
    };
  }

  /** Validation and mapping: a bad order gets its failed result here. */
  private prepare(raw: unknown, index: number): Work {
    const identity = orderIdentity(raw);
    const work: Work = { index, identity, label: orderLabel(raw) };
    const checked = validateOrder(raw);
    if (!checked.ok) {
      work.result = { ...identity, target: "salesforce", action: "failed", error: checked.error };
      return work;
    }
    work.order = checked.order;
    try {
      work.wanted = mapOrder(checked.order, this.settings);
    } catch (err) {
      work.result = this.failedResult(work, {
        code: "invalid_order",
        message: `Magento order ${work.label} cannot be mapped to Salesforce: ${describeError(err)}`,
      });
    }
    return work;
  }

  /** Address codes, currency, amounts as the org holds them, statuses and hash, once the org's setup is known. */
  private plan(works: Work[], setup: OrgSetup): void {
    for (const w of works) {
      if (w.result || !w.wanted) continue;
      if (setup.addressCodes && w.order) {
        // State and Country/Territory Picklists: codes instead of the text fields (and in the hash).
        const missing = unavailableCountries(w.order, setup.addressCodes);
        if (missing.length > 0) {
          w.result = this.failedResult(w, {
            code: "country_unavailable",
            message: `Magento order ${w.label} has an address in ${missing[0].country}, which is not an active country/territory of this Salesforce org's country picklist: activate it (Setup → State and Country/Territory Picklists) and sync the order again.`,
            field: missing[0].field,
          });
          continue;
        }
        w.wanted = withAddressCodes(w.order, w.wanted, setup.addressCodes);
      }
      if (setup.multiCurrency && !setup.currencies.includes(w.wanted.currency)) {
        w.result = this.failedResult(w, {
          code: "currency_inactive",
          message: `Magento order ${w.label} is in ${w.wanted.currency}, which is not an active currency of this Salesforce org (${setup.currencies.join(", ")}): activate it (Setup → Manage Currencies) or write base-currency amounts.`,
          field: "order_currency_code",
        });
        continue;
      }
      const decimals = decimalsFor(setup, w.wanted.currency);
      const fitted = fitLines(w.wanted, decimals, this.settings.roundingSku, w.label);
      if (!fitted.ok) {
        w.result = this.failedResult(w, fitted.error);
        continue;
      }
      const wanted: WantedOrder = { ...w.wanted, lines: fitted.lines };
      w.wanted = wanted;
      w.target = setup.statusMap.get(wanted.magentoStatus) ?? setup.defaultStatus;
      w.phase1 = w.target.statusCode === "Draft" ? w.target : setup.defaultStatus;
      w.hash = contentHash(wanted, {
        status: w.target.apiName,
        pricebookId: setup.pricebookId,
        ...(setup.multiCurrency ? { currency: wanted.currency } : {}),
        customerKey: wanted.customer.key,
        contacts: this.settings.contacts,
      });
    }
  }

  /** The same order twice in one page: the latest copy is pushed, earlier ones say so. */
  private dedupe(works: Work[]): Work[] {
    const latest = new Map<string, Work>();
    for (const w of works) {
      const key = w.wanted?.key as string;
      const seen = latest.get(key);
      if (!seen || (w.order?.updated_at ?? "") >= (seen.order?.updated_at ?? "")) latest.set(key, w);
    }
    return works.filter((w) => {
      const keep = latest.get(w.wanted?.key as string) === w;
      if (!keep) {
        w.result = {
          ...w.identity,
          target: "salesforce",
          action: "skipped",
          state: "a later copy of this order in the same batch was synced",
        };
      }
      return keep;
    });
  }

  private async pushRound(
    round: Work[],
    setup: OrgSetup,
    run: PushRunOptions,
    prefetched: Existing,
  ): Promise<void> {
    let pending = round;
    const attempts = Math.max(1, this.settings.retry.attempts);
    for (let attempt = 1; ; attempt++) {
      try {
        // A retry looks again: a write whose answer was lost may have happened.
        await this.attempt(pending, setup, run, attempt === 1 ? prefetched : undefined);
      } catch (err) {
        const kind = failureKind(err);
        if (kind === "transient" && attempt < attempts) {
          await sleep(this.delayFor(attempt, run), run.signal);
          continue;
        }
        throw this.fatal(err);
      }
      const retry = pending.filter((w) => w.retryable);
      for (const w of pending) if (!w.retryable) w.result = this.resultOf(w);
      if (retry.length === 0) return;
      if (attempt >= attempts) {
        for (const w of retry) w.result = this.resultOf(w);
        return;
      }
      await sleep(this.delayFor(attempt, run), run.signal);
      pending = retry;
    }
  }

  private delayFor(attempt: number, run: PushRunOptions): number {
    return run.delay ? run.delay(attempt) : retryDelayMs(attempt, this.settings.retry);
  }

  /** Errors that end the whole push, in the form the node reports. */
  private fatal(err: unknown): Error {
    if (failureKind(err) === "limit") return dailyLimitError(err, this.session.lastApiUsage());
    // A transient error reaches this point once its retries are spent.
    if (isShortLivedLimit(err)) return shortLivedLimitError(err, Math.max(1, this.settings.retry.attempts));
    if (err instanceof Error && err.name === "AbortError") return err;
    if (err instanceof SalesforceError) return err;
    return new SalesforceError(
      "push_failed",
      `Salesforce push failed: ${describeError(err)}`,
      failureKind(err),
      { cause: err },
    );
  }

  // ---------------------------------------------------------------------------------------
  // One attempt of one round
  // ---------------------------------------------------------------------------------------

  private async attempt(
    works: Work[],
    setup: OrgSetup,
    run: PushRunOptions,
    prefetched?: Existing,
  ): Promise<void> {
    for (const w of works) {
      if (w.write) w.wroteEarlier = true;
      Object.assign(w, {
        existing: undefined,
        write: false,
        sfId: undefined,
        created: false,
        error: undefined,
        retryable: false,
        notes: [],
        action: undefined,
        hashWritten: false,
        orderWritten: false,
      });
    }
    run.signal?.throwIfAborted();
    const conn = await this.session.connection();
    const existing = prefetched ?? (await this.lookup(works, setup, run));
    for (const w of works) {
      const found = existing.orders.get((w.wanted as WantedOrder).key);
      if (prefetched) w.existedBefore = found !== undefined;
      this.decide(w, found, setup);
    }
    const writing = works.filter((w) => w.write);
    const entries = await this.resolveCatalog(conn, writing, setup);
    run.signal?.throwIfAborted();
    await this.writeRound(
      conn,
      writing.filter((w) => !w.error),
      entries,
      setup,
      existing,
    );
    run.signal?.throwIfAborted();
    await this.finalRound(conn, works, setup);
  }

  /** `lookupOnce`, again after a backoff when Salesforce or the network failed transiently. */
  private async lookup(works: Work[], setup: OrgSetup, run: PushRunOptions): Promise<Existing> {
    const attempts = Math.max(1, this.settings.retry.attempts);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.lookupOnce(await this.session.connection(), works, setup);
      } catch (err) {
        if (failureKind(err) !== "transient" || attempt >= attempts) throw err;
        await sleep(this.delayFor(attempt, run), run.signal);
      }
    }
  }

  /**
   * The existing Orders of these works (with items, notes and stored hash) and the Accounts and
   * Contacts of their customers (with the fields the pack writes), in one composite request of
   * up to 5 queries (more only when the keys do not fit in 5 query URLs).
   */
  private async lookupOnce(conn: Connection, works: Work[], setup: OrgSetup): Promise<Existing> {
    const f = this.settings.fields;
    const hashField = this.hashField(setup);
    const keys = works.map((w) => (w.wanted as WantedOrder).key);
    const customerKeys = [...new Set(works.map((w) => (w.wanted as WantedOrder).customer.key))];
    // The fields the pack writes (an order without a shipping address has fewer: all of them are read).
    const accountWritten = unique(
      works.flatMap((w) => Object.keys((w.wanted as WantedOrder).customer.account)),
    );
    const contactWritten = unique(
      works.flatMap((w) => Object.keys((w.wanted as WantedOrder).customer.contact)),
    );
    const orderSelect = [
      "Id",
      "OrderNumber",
      "Status",
      "StatusCode",
      "Pricebook2Id",
      f.orderKey,
      ...(hashField ? [hashField] : []),
      `(SELECT Id, ${f.itemKey}, PricebookEntryId, Quantity, UnitPrice, Description FROM OrderItems)`,
      ...(this.settings.syncNotes ? ["(SELECT Id, Title FROM Notes)"] : []),
    ];
    const queries: { kind: "order" | "account" | "contact"; soql: string }[] = [];
    for (const list of inLists(keys, LOOKUP_LIST_CHARS))
      queries.push({
        kind: "order",
        soql: `SELECT ${orderSelect.join(", ")} FROM Order WHERE ${f.orderKey} IN (${list})`,
      });
    if (works.length > 0) {
      const accountFields = ["Id", f.accountKey, ...accountWritten];
      for (const list of inLists(customerKeys, LOOKUP_LIST_CHARS))
        queries.push({
          kind: "account",
          soql: `SELECT ${unique(accountFields).join(", ")} FROM Account WHERE ${f.accountKey} IN (${list})`,
        });
      if (this.settings.contacts) {
        const contactFields = ["Id", "AccountId", f.contactKey, ...contactWritten];
        for (const list of inLists(customerKeys, LOOKUP_LIST_CHARS))
          queries.push({
            kind: "contact",
            soql: `SELECT ${unique(contactFields).join(", ")} FROM Contact WHERE ${f.contactKey} IN (${list})`,
          });
      }
    }
    let results: Record<string, unknown>[][];
    try {
      results = await queryBatch(
        conn,
        queries.map((q) => q.soql),
        () => (this.calls += 1),
      );
    } catch (err) {
      if (failureKind(err) === "transient") throw err;
      throw readError(err, "lookup of existing Orders, Accounts and Contacts");
    }
    const out = new Map<string, ExistingOrder>();
    const accounts = new Map<string, Record<string, unknown>>();
    const contacts = new Map<string, Record<string, unknown>>();
    queries.forEach((q, i) => {
      for (const row of results[i]) {
        if (q.kind === "account") accounts.set(String(row[f.accountKey]).toLowerCase(), row);
        else if (q.kind === "contact") contacts.set(String(row[f.contactKey]).toLowerCase(), row);
        else out.set(String(row[f.orderKey]).toLowerCase(), existingOrder(row, f, hashField));
      }
    });
    return {
      orders: new Map(
        keys.map((k) => [k, out.get(k.toLowerCase())]).filter((e): e is [string, ExistingOrder] => !!e[1]),
      ),
      accounts,
      contacts,
    };
  }

  /** The hash field, when the org has it (required with Update Order Info; optional otherwise). */
  private hashField(setup: OrgSetup): string | undefined {
    return this.settings.updateOrders || setup.hasHashField ? this.settings.fields.hash : undefined;
  }

  private decide(w: Work, existing: ExistingOrder | undefined, setup: OrgSetup): void {
    const wanted = w.wanted as WantedOrder;
    w.existing = existing;
    const missingNotes = wanted.notes.filter((n) => !existing?.noteMarkers.has(n.marker));
    if (!existing) {
      w.write = true;
      w.notes = missingNotes;
      return;
    }
    w.sfId = existing.id;
    const complete = existing.hash !== null;
    // Update Order Info off: existing orders are left alone once complete (or when the org has no hash field to tell).
    // The hash is written with the Order (or, when an activation is pending, with its status
    // last); an item that failed later leaves an item missing: such an order is not complete.
    const itemsPresent = wanted.lines.every((l) => existing.items.has(l.key.toLowerCase()));
    const same = existing.hash === w.hash && itemsPresent;
    if (same || (!this.settings.updateOrders && ((complete && itemsPresent) || !this.hashField(setup)))) {
      w.action = same ? "unchanged" : "skipped";
      w.notes = missingNotes;
      return;
    }
    if (existing.statusCode === "Activated" && this.settings.activatedOrders === "report") {
      w.error = {
        code: "order_activated",
        message:
          `Magento order ${w.label} changed, but its Salesforce Order ${existing.orderNumber} is activated (status ${existing.status}) ` +
          `and Salesforce does not allow editing activated orders ("An Activated order's status can't be edited"); it was left unchanged. ` +
          `To let OrderBridge update it, move it back to a Draft status in Salesforce, or set "Activated orders" to reopen and re-activate.`,
      };
      return;
    }
    w.write = true;
    w.notes = missingNotes;
  }

  private catalogNeeds(w: Work, setup: OrgSetup): CatalogNeed[] {
    const wanted = w.wanted as WantedOrder;
    return wanted.lines.map((l) => ({
      sku: l.sku,
      currency: setup.multiCurrency ? wanted.currency : "",
      productName: l.productName,
      listPrice: l.kind === "item" ? Math.max(0, l.unitPrice) : 0,
    }));
  }

  /** The PricebookEntry Id of every line of every order to write; an order with an unusable SKU fails here. */
  private async resolveCatalog(
    conn: Connection,
    writing: Work[],
    setup: OrgSetup,
  ): Promise<Map<Work, string[]>> {
    const out = new Map<Work, string[]>();
    if (writing.length === 0) return out;
    const needs = new Map(writing.map((w) => [w, this.catalogNeeds(w, setup)]));
    const result = await (this.catalog as Catalog).resolve(
      conn,
      [...needs.values()].flat(),
      () => (this.calls += 1),
    );
    for (const [w, list] of needs) {
      const keys = list.map((n) => needKey(n.sku, n.currency));
      const at = keys.findIndex((k) => result.failures.has(k));
      const failure = at >= 0 ? result.failures.get(keys[at]) : undefined;
      if (failure) {
        const item = (w.order?.items ?? []).findIndex((i) => i.sku.trim() === list[at].sku.trim());
        w.error = {
          code: "product",
          message: `Magento order ${w.label} cannot be synced: ${failure.message}.`,
          ...(item >= 0 ? { field: `items.${item}.sku` } : {}),
        };
        w.retryable = failure.retryable;
        continue;
      }
      out.set(
        w,
        keys.map((k) => result.entries.get(k)?.entryId as string),
      );
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------

  private async writeRound(
    conn: Connection,
    works: Work[],
    entries: Map<Work, string[]>,
    setup: OrgSetup,
    existing: Existing,
  ): Promise<void> {
    if (works.length === 0) return;
    const f = this.settings.fields;
    // Accounts and Contacts are written only when missing or different from what Salesforce holds.
    // A customer with several orders in the round is written from the last of them.
    const latest = new Map<string, Work>();
    for (const w of works) latest.set((w.wanted as WantedOrder).customer.key, w);
    const customers = new Map<string, Work>();
    const contactsToWrite = new Map<string, Work>();
    for (const [key, w] of latest) {
      const { customer } = w.wanted as WantedOrder;
      const account = existing.accounts.get(key.toLowerCase());
      if (!holdsFields(account, customer.account)) customers.set(key, w);
      if (!this.settings.contacts) continue;
      const contact = existing.contacts.get(key.toLowerCase());
      if (!account || !holdsFields(contact, { ...customer.contact, AccountId: account.Id }))
        contactsToWrite.set(key, w);
    }
    const accountStep: Step = {
      op: {
        kind: "upsert",
        sobject: "Account",
        extField: f.accountKey,
        records: [...customers.entries()].map(([key, w]) => ({
          [f.accountKey]: key,
          ...(w.wanted as WantedOrder).customer.account,
        })),
      },
      owners: [...customers.keys()],
    };
    const contactStep: Step = {
      op: {
        kind: "upsert",
        sobject: "Contact",
        extField: f.contactKey,
        records: [...contactsToWrite.entries()].map(([key, w]) => ({
          [f.contactKey]: key,
          ...(w.wanted as WantedOrder).customer.contact,
          Account: { [f.accountKey]: key },
        })),
      },
      owners: [...contactsToWrite.keys()],
    };
    const orderStep: Step = {
      op: {
        kind: "upsert",
        sobject: "Order",
        extField: f.orderKey,
        records: works.map((w) => this.orderRecord(w, setup)),
      },
      owners: works.map((w) => (w.wanted as WantedOrder).key),
    };
    const deletes: Step = { op: { kind: "delete", sobject: "OrderItem", ids: [] }, owners: [] };
    const updates: Step = { op: { kind: "update", sobject: "OrderItem", records: [] }, owners: [] };
    const upserts: Step = {
      op: { kind: "upsert", sobject: "OrderItem", extField: f.itemKey, records: [] },
      owners: [],
    };
    for (const w of works) this.itemChanges(w, entries.get(w) as string[], deletes, updates, upserts);

    const steps = [accountStep, contactStep, orderStep, deletes, updates, upserts];
    const outcomes = await runSteps(conn, steps, () => (this.calls += 1));
    const byKey = new Map(works.map((w) => [(w.wanted as WantedOrder).key, w]));
    const byCustomer = new Map<string, Work[]>();
    for (const w of works) {
      const key = (w.wanted as WantedOrder).customer.key;
      byCustomer.set(key, [...(byCustomer.get(key) ?? []), w]);
    }
    // The customer key is made from the e-mail: a refused key is the order's customer_email.
    const customerKeyFields = new Set([f.accountKey, f.contactKey]);
    const fail = (w: Work | undefined, error: RecordError, what: string) => {
      if (!w || w.error) return;
      const field = error.fields?.[0];
      w.error = {
        code: error.code,
        message: `Magento order ${w.label}: ${what} was refused by Salesforce: ${recordErrorText(error)}`,
        ...(field ? { field: customerKeyFields.has(field) ? "customer_email" : field } : {}),
      };
      if (RETRYABLE_RECORD_CODES.has(error.code)) w.retryable = true;
    };
    outcomes[0].forEach((o, i) => {
      if (!o.ok)
        for (const w of byCustomer.get(accountStep.owners[i]) ?? [])
          fail(w, o.error, `the Account (${accountStep.owners[i]})`);
    });
    outcomes[1].forEach((o, i) => {
      if (!o.ok)
        for (const w of byCustomer.get(contactStep.owners[i]) ?? [])
          fail(w, o.error, `the Contact (${contactStep.owners[i]})`);
    });
    outcomes[2].forEach((o, i) => {
      const w = byKey.get(orderStep.owners[i]);
      if (!w) return;
      if (o.ok) {
        w.sfId = o.id;
        w.orderWritten = true;
        if (o.created) w.created = true;
      } else {
        w.hashWritten = false;
        fail(w, o.error, "the Order");
      }
    });
    [deletes, updates, upserts].forEach((step, s) => {
      outcomes[3 + s].forEach((o, i) => {
        if (o.ok) return;
        const w = byKey.get(step.owners[i]);
        // A cached price book entry that was deleted or deactivated meanwhile: forget it, look it up again.
        const record = step.op.kind === "delete" ? undefined : (step.op.records[i] as Rec);
        if (
          record?.PricebookEntryId &&
          (o.error.fields?.includes("PricebookEntryId") || /PricebookEntry/i.test(o.error.message))
        ) {
          this.catalog?.forget(record.PricebookEntryId as string);
          if (w && !w.error) w.retryable = true;
        }
        const what =
          step.op.kind === "delete"
            ? "removing an old order product"
            : `order product ${String((step.op.records[i] as Rec)[f.itemKey] ?? (step.op.records[i] as Rec).id)}`;
        fail(w, o.error, what);
      });
    });
  }

  private orderRecord(w: Work, setup: OrgSetup): Rec {
    const f = this.settings.fields;
    const wanted = w.wanted as WantedOrder;
    const existing = w.existing;
    const reopen = existing?.statusCode === "Activated";
    const status = reopen ? setup.defaultStatus : (w.phase1 as OrderStatusInfo);
    // No activation pending: the hash goes with the Order itself (no final call for it).
    const hashField = this.hashField(setup);
    w.hashWritten = !!hashField && status.apiName === (w.target as OrderStatusInfo).apiName;
    return {
      [f.orderKey]: wanted.key,
      ...wanted.fields,
      ...(hashField && w.hashWritten ? { [hashField]: w.hash } : {}),
      Status: status.apiName,
      Pricebook2Id: setup.pricebookId,
      ...(setup.multiCurrency ? { CurrencyIsoCode: wanted.currency } : {}),
      Account: { [f.accountKey]: wanted.customer.key },
      ...(this.settings.contacts
        ? {
            BillToContact: { [f.contactKey]: wanted.customer.key },
            ShipToContact: { [f.contactKey]: wanted.customer.key },
          }
        : {}),
    };
  }

  /** Item deletes, updates (by Id, only what changed) and upserts (new keys) for one order. */
  private itemChanges(w: Work, entryIds: string[], deletes: Step, updates: Step, upserts: Step): void {
    const f = this.settings.fields;
    const wanted = w.wanted as WantedOrder;
    const existingItems = w.existing?.items ?? new Map<string, ExistingItem>();
    const wantedKeys = new Set(wanted.lines.map((l) => l.key.toLowerCase()));
    const prefix = `${wanted.key.toLowerCase()}-`;
    const remove = (id: string) => {
      if (deletes.op.kind === "delete") deletes.op.ids.push(id);
      deletes.owners.push(wanted.key);
    };
    for (const [key, item] of existingItems) {
      if (key.startsWith(prefix) && !wantedKeys.has(key)) remove(item.id);
    }
    wanted.lines.forEach((line, i) => {
      const entryId = entryIds[i];
      const old = existingItems.get(line.key.toLowerCase());
      if (old && old.entryId === entryId) {
        if (
          old.quantity !== line.quantity ||
          old.unitPrice !== line.unitPrice ||
          (old.description ?? "") !== line.description
        ) {
          if (updates.op.kind === "update") {
            updates.op.records.push({
              id: old.id,
              Quantity: line.quantity,
              UnitPrice: line.unitPrice,
              Description: line.description,
            });
          }
          updates.owners.push(wanted.key);
        }
        return;
      }
      if (old) remove(old.id); // another product or currency: PricebookEntryId cannot change on an item
      if (upserts.op.kind === "upsert") {
        upserts.op.records.push({
          [f.itemKey]: line.key,
          ...(w.existing ? { OrderId: w.existing.id } : { Order: { [f.orderKey]: wanted.key } }),
          PricebookEntryId: entryId,
          Quantity: line.quantity,
          UnitPrice: line.unitPrice,
          Description: line.description,
        });
      }
      upserts.owners.push(wanted.key);
    });
  }

  private async finalRound(conn: Connection, works: Work[], setup: OrgSetup): Promise<void> {
    const hashField = this.hashField(setup);
    const finalize: Work[] = [];
    const rollback: Work[] = [];
    const noted: { w: Work; note: WantedNote }[] = [];
    for (const w of works) {
      if (w.write && !w.error && w.sfId) finalize.push(w);
      if (w.write && w.error && w.sfId && !w.existedBefore) rollback.push(w);
      const ok = !w.error && w.sfId && (w.write || w.action);
      if (ok && this.settings.syncNotes) for (const note of w.notes ?? []) noted.push({ w, note });
    }
    const updates = finalize.filter(
      (w) =>
        !w.hashWritten &&
        (hashField || w.target?.apiName !== w.phase1?.apiName || w.existing?.statusCode === "Activated"),
    );
    // An order that failed after its Order record was written with the new hash: clear the
    // hash, so the next sync sees it as incomplete and writes it again (also before a rollback
    // delete, in case that delete fails).
    const unmark = works.filter((w) => hashField && w.error && w.orderWritten && w.hashWritten);
    const steps: Step[] = [
      {
        op: {
          kind: "update",
          sobject: "Order",
          records: [
            ...updates.map((w) => ({
              id: w.sfId,
              Status: (w.target as OrderStatusInfo).apiName,
              ...(hashField ? { [hashField]: w.hash } : {}),
            })),
            ...unmark.map((w) => ({ id: w.sfId, [hashField as string]: null })),
          ],
        },
        owners: [...updates, ...unmark].map((w) => (w.wanted as WantedOrder).key),
      },
      {
        op: { kind: "delete", sobject: "Order", ids: rollback.map((w) => w.sfId as string) },
        owners: rollback.map((w) => (w.wanted as WantedOrder).key),
      },
      {
        op: {
          kind: "create",
          sobject: "Note",
          records: noted.map(({ w, note }) => ({
            ParentId: w.sfId,
            Title: note.title,
            Body: note.body,
            IsPrivate: false,
          })),
        },
        owners: noted.map(({ w }) => (w.wanted as WantedOrder).key),
      },
    ];
    if (steps.every((s) => s.owners.length === 0)) return;
    const outcomes = await runSteps(conn, steps, () => (this.calls += 1));
    const byKey = new Map(works.map((w) => [(w.wanted as WantedOrder).key, w]));
    outcomes[0].forEach((o, i) => {
      const w = byKey.get(steps[0].owners[i]);
      if (!w || o.ok) return;
      if (i >= updates.length) {
        if (w.error)
          w.error = {
            ...w.error,
            message: `${w.error.message} Marking its Salesforce Order ${w.sfId} as incomplete failed too (${recordErrorText(o.error)}); check it in Salesforce.`,
          };
        return;
      }
      const target = (w.target as OrderStatusInfo).apiName;
      w.error = {
        code: o.error.code,
        message:
          `Magento order ${w.label}: the Salesforce Order and its products were written in status ${(w.phase1 as OrderStatusInfo).apiName}, ` +
          `but setting status ${target}${hashField ? " and the sync hash" : ""} was refused: ${recordErrorText(o.error)} (it will be retried on the next sync).`,
        ...(o.error.fields?.[0] ? { field: o.error.fields[0] } : {}),
      };
      if (RETRYABLE_RECORD_CODES.has(o.error.code)) w.retryable = true;
    });
    outcomes[1].forEach((o, i) => {
      const w = byKey.get(steps[1].owners[i]);
      if (!w?.error) return;
      w.error = {
        ...w.error,
        message: o.ok
          ? `${w.error.message} The new Salesforce Order was deleted again, so no partial order is left.`
          : `${w.error.message} Removing the partly written Salesforce Order ${w.sfId} failed too (${recordErrorText(o.error)}); it is marked incomplete and the next sync completes it.`,
      };
      if (o.ok) w.sfId = undefined;
    });
    outcomes[2].forEach((o, i) => {
      const w = byKey.get(steps[2].owners[i]);
      if (!w) return;
      if (o.ok) {
        if (w.action === "unchanged" || w.action === "skipped") w.action = "updated";
        return;
      }
      if (w.error) return;
      w.error = {
        code: o.error.code,
        message: `Magento order ${w.label}: a note could not be added to the Salesforce Order: ${recordErrorText(o.error)}`,
      };
      if (RETRYABLE_RECORD_CODES.has(o.error.code)) w.retryable = true;
    });
  }

  private resultOf(w: Work): SyncResult {
    const base = { ...w.identity, target: "salesforce" as const };
    const link = w.sfId ? { targetId: w.sfId, url: this.session.recordUrl("Order", w.sfId) } : {};
    if (w.error)
      return {
        ...base,
        action: "failed",
        ...link,
        ...(w.existing ? { state: w.existing.status } : {}),
        error: w.error,
      };
    // Written in this push (now, or by an attempt whose answer was lost and that a retry found done).
    if (w.write || w.wroteEarlier) {
      const state = w.write ? (w.target as OrderStatusInfo).apiName : w.existing?.status;
      const adjustments = adjustmentsOf(w.wanted);
      return {
        ...base,
        action: w.existedBefore ? "updated" : "created",
        ...link,
        state,
        ...(adjustments.length ? { adjustments } : {}),
      };
    }
    return { ...base, action: w.action ?? "unchanged", ...link, state: w.existing?.status };
  }

  private failedResult(w: Work, error: SyncError): SyncResult {
    return { ...w.identity, target: "salesforce", action: "failed", error };
  }
}

/** How the Order's amounts were made to equal Magento's, when not by the plain mapping (docs/money.md). */
function adjustmentsOf(wanted: WantedOrder | undefined): string[] {
  if (!wanted) return [];
  const rounding = wanted.lines.find((l) => l.kind === "rounding");
  return [
    ...(wanted.readings ?? []).map((r) => `read ${r}`),
    ...(wanted.payableNote ? [wanted.payableNote] : []),
    ...(rounding ? [`rounding line ${rounding.unitPrice}`] : []),
  ];
}
