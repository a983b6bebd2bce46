/**
 * Scenario 2: Magento → Tryton (the real server: 6.0/SQLite, and 7.0/PostgreSQL with a
 * `trytond-worker`), N orders pulled in pages of 100.
 *
 * "Done" is the same for every run: the clock stops when the run's last request is answered
 * *and* the server's task queue is empty (`settle`: with a worker, `confirm` only queues
 * `sale.process`, so a run ends when the worker has taken every sale on to `processing`;
 * without a worker `process` ran inside `confirm` and settling costs nothing).
 *
 * Every measurement starts from the same database (the template snapshot, restored) and
 * the same Magento pages, in one run:
 *  - pack, workflow: `SaleImporter` with the default state map (quote, confirm in chunks);
 *  - naive, workflow: one RPC sequence per order through the same `TrytonClient` (search the
 *    sale, search/create party and addresses, search/create each product, create the sale,
 *    quote, confirm), with the pack's own mapping so both write the same sales;
 *  - pack, import only: the state map sends every order to `draft` (no workflow);
 *  - naive, import only: the same sequence per order without quote/confirm — the issue's
 *    baseline, "one search/create sequence per order": speed-up = pack import ÷ this;
 *  - the ceiling: a bare `create` of the same prepared sales, page by page, with parties and
 *    products already there: ratio = pack import rate ÷ bare create rate (same sales, same
 *    pages, same server);
 *  - the workflow ceiling: the same bare create, then per page one `quote` and `confirm` in
 *    the pack's chunk size of the sales the default state map moves on, nothing else: what
 *    the default workflow costs Tryton itself, to compare the pack's workflow run with.
 */
import type { MagentoOrder } from "../src/magento/schema";
import { PartyMatcher } from "../src/tryton/party-match";
import { ProductMatcher } from "../src/tryton/product-match";
import { ReferenceData } from "../src/tryton/reference-data";
import { decimal, TrytonClient, type TrytonRecord } from "../src/tryton/rpc";
import { SaleImporter, type ImportOptions, type ImportSettings } from "../src/tryton/sale-import";
import {
  mapOrder,
  saleValues,
  type AddressDraft,
  type ResolvedProduct,
  type SaleDraft,
} from "../src/tryton/sale-mapping";
import { stateMapFrom, targetFor } from "../src/tryton/state-map";
import { shopImportSettings } from "../src/sandbox/tryton/shop-settings";
import { itemsPerOrder, magentoClient, magentoWith, pages, prefetched } from "./magento";
import { now, RpcProfile, since } from "./measure";
import { cpuNow, cpuSince, queueProfile, type ServerProfile } from "./tryton-profile";
import type { BenchTrytonFixtures, BenchTrytonServer } from "./tryton-server";

export interface TrytonBenchOptions {
  orders: number;
  /** Orders in the naive run (the first ones of the same pull). */
  naiveOrders: number;
  pageSize: number;
  magentoLatencyMs: number;
  /** Also run the pack's workflow with this confirm chunk (the default is 5), to show the calls/time trade. */
  altConfirmChunk?: number;
  /** Confirm chunks in flight for the pack's runs (the importer's default when absent). */
  concurrency?: number;
  /** Also run the pack's default workflow with each of these concurrencies. */
  altConcurrency?: number[];
  log: (line: string) => void;
}

export interface ProfileRow {
  method: string;
  calls: number;
  seconds: number;
  share: number;
}

export interface RunFigures {
  orders: number;
  /** Sales written (created) in Tryton. */
  sales: number;
  failed: number;
  seconds: number;
  ordersPerSecond: number;
  salesPerSecond: number;
  calls: number;
  callsPerOrder: number;
  /** Of `seconds`: waiting, after the last request, for the worker to finish the queued tasks. */
  settleSeconds: number;
  profile: ProfileRow[];
  /** Server side: CPU seconds of trytond, worker and PostgreSQL; the worker's tasks. */
  server: ServerProfile;
}

export interface TrytonBenchResult {
  flavour: string;
  /** Whether a trytond-worker ran `process` (off the request path), and its pool size. */
  worker: boolean;
  workerPool: number | null;
  /** Confirm chunks in flight in the pack's default-workflow run. */
  concurrency: number;
  orders: number;
  linesPerOrder: number;
  itemsPerOrder: number;
  pack: RunFigures & { steadyCallsPerOrder: number };
  naive: RunFigures;
  packImport: RunFigures & { steadyCallsPerOrder: number };
  /** The naive sequence per order with the import-only state map (search/create, no workflow). */
  naiveImport: RunFigures;
  ceiling: {
    sales: number;
    seconds: number;
    salesPerSecond: number;
    calls: number;
    settleSeconds: number;
    server: ServerProfile;
  };
  /** Bare create + quote + confirm (same chunks) of the same sales: what the default workflow costs Tryton itself. */
  workflowCeiling: TrytonBenchResult["ceiling"];
  /** The pack's workflow with `altConfirmChunk` sales per confirm call. */
  altChunk?: {
    confirmChunk: number;
    seconds: number;
    ordersPerSecond: number;
    callsPerOrder: number;
    steadyCallsPerOrder: number;
  };
  /** The pack's default workflow with other numbers of confirm chunks in flight. */
  altConcurrency: Array<{
    concurrency: number;
    seconds: number;
    settleSeconds: number;
    ordersPerSecond: number;
    speedupVsNaiveWorkflow: number;
    failed: number;
  }>;
  /** The speed-up if everything but the pack's confirm calls cost nothing (Amdahl bound). */
  speedupBoundByConfirm: number;
  /** Import (search/create, no workflow): pack ÷ naive — the definition of the baseline. */
  speedupVsNaive: number;
  /** Default workflow (quote, confirm + process in Tryton): pack ÷ naive. */
  speedupVsNaiveWorkflow: number;
  ratioToBatchCeiling: number;
  /** Pack with the default workflow ÷ the workflow ceiling. */
  ratioToWorkflowCeiling: number;
  callsPerOrder: number;
}

const importOnly = stateMapFrom({
  new: "draft",
  holded: "draft",
  processing: "draft",
  complete: "draft",
  closed: "draft",
});

function clientFor(server: BenchTrytonServer): TrytonClient {
  // No retries: a failure must show, not be hidden in the timing.
  return new TrytonClient({
    url: server.url,
    database: server.database,
    username: server.username,
    password: server.password,
    retry: false,
    timeoutMs: 600_000,
  });
}

/**
 * Until the server's task queue is empty. `scripts/tryton.sh settle` gives up after 120 s even
 * while the worker is still making progress, so it is asked again (up to 10 times).
 */
/** The run's server side, from `cpu` (taken when its clock started) to now. */
function serverSince(server: BenchTrytonServer, cpu: ReturnType<typeof cpuNow>): ServerProfile {
  const queue = queueProfile(server);
  return { cpu: cpuSince(cpu, cpuNow(server)), ...(queue ? { queue } : {}) };
}

async function settle(server: BenchTrytonServer): Promise<number> {
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      await server.settle();
      return since(started);
    } catch (err) {
      if (attempt >= 10 || !/unfinished after/.test((err as Error).message)) throw err;
    }
  }
}

/** Countries and VAT rates the generated customers need beyond the fixtures (as the contract tests set up). */
function shopSetup(client: TrytonClient, f: BenchTrytonFixtures): Promise<ImportSettings> {
  return shopImportSettings(client, f, { taxLabel: "Bench VAT", referencePrefix: "MAG-" });
}

function figures(
  orders: number,
  sales: number,
  failed: number,
  seconds: number,
  profile: RpcProfile,
  settleSeconds: number,
  serverSide: ServerProfile,
): RunFigures {
  return {
    settleSeconds,
    server: serverSide,
    orders,
    sales,
    failed,
    seconds,
    ordersPerSecond: orders / seconds,
    salesPerSecond: sales / seconds,
    calls: profile.total,
    callsPerOrder: profile.total / orders,
    profile: profile.top(seconds),
  };
}

/** The pack: pull a page, import it, next page (as magento-order-in → tryton-sale-out). */
async function runPack(
  server: BenchTrytonServer,
  pull: () => AsyncGenerator<{ orders: MagentoOrder[] }>,
  settings: ImportSettings,
): Promise<RunFigures & { steadyCallsPerOrder: number; saleOrders: number[] }> {
  const client = clientFor(server);
  await client.login();
  const profile = new RpcProfile(client);
  const importer = new SaleImporter(client, settings);
  let orders = 0;
  let failed = 0;
  let firstPage: { orders: number; calls: number } | undefined;
  const saleOrders: number[] = [];
  const cpu = cpuNow(server);
  const started = now();
  for await (const page of prefetched(pull())) {
    const { results } = await importer.importOrders(page.orders);
    orders += page.orders.length;
    for (const r of results) {
      if (r.action === "failed") failed += 1;
      if (r.action === "created" && r.orderId !== null) saleOrders.push(r.orderId);
    }
    firstPage ??= { orders, calls: profile.total };
  }
  const settleSeconds = await settle(server);
  const seconds = since(started);
  const steadyOrders = orders - (firstPage?.orders ?? 0);
  const steadyCalls = profile.total - (firstPage?.calls ?? 0);
  return {
    ...figures(orders, saleOrders.length, failed, seconds, profile, settleSeconds, serverSince(server, cpu)),
    steadyCallsPerOrder: steadyOrders > 0 ? steadyCalls / steadyOrders : profile.total / orders,
    saleOrders,
  };
}

/**
 * What a hand-wired flow does per order, one call at a time (reference data — currency,
 * country, subdivision, unit — cached, so the baseline is not penalised for lookups).
 */
class NaiveTrytonFlow {
  private readonly reference: ReferenceData;

  constructor(
    private readonly client: TrytonClient,
    private readonly options: Readonly<ImportOptions>,
    private readonly product: { unit: number; accountCategory: number | null },
  ) {
    this.reference = new ReferenceData(client);
  }

  async order(order: MagentoOrder): Promise<"created" | "skipped" | "unchanged"> {
    const mapped = mapOrder(order, this.options);
    if (!mapped.ok) throw new Error(mapped.error.message);
    const d = mapped.draft;
    const target = targetFor(this.options.stateMap, order.state);
    if (target === "skip" || target === "cancelled") return "skipped";
    const c = this.client;
    const [existing] = await c.search("sale.sale", [["reference", "=", d.reference]], { limit: 1 });
    if (existing !== undefined) return "unchanged";

    const [mechanism] = await c.searchRead(
      "party.contact_mechanism",
      [
        ["type", "=", "email"],
        ["value", "ilike", d.party.email],
      ],
      ["party"],
      { limit: 1, order: [["party", "ASC"]] },
    );
    const party =
      (mechanism?.party as number | undefined) ??
      ((
        await c.create("party.party", [
          {
            name: d.party.name,
            contact_mechanisms: [
              [
                "create",
                [
                  { type: "email", value: d.party.email },
                  ...(d.party.phone ? [{ type: "phone", value: d.party.phone }] : []),
                ],
              ],
            ],
          },
        ])
      )[0] as number);
    const invoiceAddress = await this.address(party, d.invoiceAddress);
    const shipmentAddress =
      d.shipmentAddress === d.invoiceAddress ? invoiceAddress : await this.address(party, d.shipmentAddress);
    const currency = (await this.reference.currenciesFor([d.currencyCode])).get(d.currencyCode);
    if (!currency) throw new Error(`no currency ${d.currencyCode}`);

    const products = new Map<string, ResolvedProduct>();
    for (const line of d.lines) {
      if (products.has(line.productCode)) continue;
      const [found] = await c.searchRead(
        "product.product",
        [["code", "=", line.productCode]],
        ["sale_uom", "default_uom"],
        { limit: 1 },
      );
      if (found) {
        products.set(line.productCode, {
          id: found.id,
          unit: (found.sale_uom as number | null) ?? (found.default_uom as number),
        });
        continue;
      }
      const [template] = await c.create("product.template", [
        {
          name: line.productName,
          type: line.productType,
          default_uom: this.product.unit,
          salable: true,
          sale_uom: this.product.unit,
          list_price: decimal(line.kind === "item" && !line.unitPrice.startsWith("-") ? line.unitPrice : "0"),
          ...(this.product.accountCategory ? { account_category: this.product.accountCategory } : {}),
          products: [["create", [{ suffix_code: line.productCode }]]],
        },
      ]);
      const [row] = await c.read("product.template", [template as number], ["products"]);
      products.set(line.productCode, {
        id: ((row as TrytonRecord).products as number[])[0] as number,
        unit: this.product.unit,
      });
    }

    const [sale] = await c.create("sale.sale", [
      saleValues(d, { party, invoiceAddress, shipmentAddress, currency: currency.id, products }),
    ]);
    if (target !== "draft") await c.button("sale.sale", "quote", [sale as number]);
    if (target === "confirmed" || target === "processing")
      await c.button("sale.sale", "confirm", [sale as number]);
    return "created";
  }

  private async address(party: number, a: AddressDraft): Promise<number> {
    const country = (await this.reference.countriesFor([a.countryCode])).get(a.countryCode);
    if (country === undefined) throw new Error(`no country ${a.countryCode}`);
    const sub = await this.reference.subdivisionsFor([
      { country, codes: a.subdivisionCodes, name: a.regionName },
    ]);
    const subdivision = [...sub.values()][0] ?? null;
    const values = {
      party,
      party_name: a.partyName,
      street: a.street,
      postal_code: a.postalCode,
      city: a.city,
      country,
      subdivision,
    };
    const [found] = await this.client.search(
      "party.address",
      Object.entries(values).map(([k, v]) => [k, "=", v]),
      { limit: 1 },
    );
    return found ?? ((await this.client.create("party.address", [values]))[0] as number);
  }
}

async function runNaive(
  server: BenchTrytonServer,
  pull: () => AsyncGenerator<{ orders: MagentoOrder[] }>,
  settings: ImportSettings,
  limit: number,
): Promise<RunFigures> {
  const client = clientFor(server);
  await client.login();
  const reference = new ReferenceData(client);
  const options = new SaleImporter(client, settings).options;
  const unit = await reference.unitBySymbol("u");
  const [category] = await client.search("product.category", [["accounting", "=", true]], {
    limit: 1,
    order: [["id", "ASC"]],
  });
  const flow = new NaiveTrytonFlow(client, options, { unit: unit.id, accountCategory: category ?? null });
  const profile = new RpcProfile(client);
  let orders = 0;
  let sales = 0;
  let failed = 0;
  const cpu = cpuNow(server);
  const started = now();
  outer: for await (const page of pull()) {
    for (const order of page.orders) {
      if (orders >= limit) break outer;
      orders += 1;
      try {
        if ((await flow.order(order)) === "created") sales += 1;
      } catch {
        failed += 1;
      }
    }
  }
  const settleSeconds = await settle(server);
  const seconds = since(started);
  return figures(orders, sales, failed, seconds, profile, settleSeconds, serverSince(server, cpu));
}

/**
 * Bare `create` of the same prepared sales, page by page; parties, addresses and products made
 * beforehand (untimed). With `workflow`, each page then gets what the pack's default state map
 * asks for and nothing else: one `quote` of the page, `confirm` in the pack's chunk size.
 */
async function runCeiling(
  server: BenchTrytonServer,
  salePages: MagentoOrder[][],
  settings: ImportSettings,
  workflow = false,
): Promise<TrytonBenchResult["ceiling"]> {
  const client = clientFor(server);
  await client.login();
  const options = new SaleImporter(client, settings).options;
  const reference = new ReferenceData(client);
  const parties = new PartyMatcher(client, reference);
  const catalog = new ProductMatcher(client, reference);
  const unit = await reference.unitBySymbol("u");
  const [category] = await client.search("product.category", [["accounting", "=", true]], { limit: 1 });
  const prepared: Array<Array<{ values: Record<string, unknown>; confirm: boolean; quote: boolean }>> = [];
  for (const page of salePages) {
    const drafts: SaleDraft[] = [];
    for (const order of page) {
      const mapped = mapOrder(order, options);
      if (mapped.ok) drafts.push(mapped.draft);
    }
    const { products } = await catalog.resolve(ProductMatcher.wanted(drafts.flatMap((d) => d.lines)), {
      unit,
      accountCategory: category ?? null,
    });
    const { resolved } = await parties.resolve(drafts);
    const currencies = await reference.currenciesFor(drafts.map((d) => d.currencyCode));
    prepared.push(
      drafts.flatMap((d) => {
        const ids = resolved.get(d.orderId);
        const currency = currencies.get(d.currencyCode);
        const target = targetFor(options.stateMap, d.magentoState);
        return ids && currency
          ? [
              {
                values: saleValues(d, { ...ids, currency: currency.id, products }),
                quote: target !== "draft",
                confirm: target === "confirmed" || target === "processing",
              },
            ]
          : [];
      }),
    );
  }
  const profile = new RpcProfile(client);
  const cpu = cpuNow(server);
  const started = now();
  let sales = 0;
  for (const page of prepared) {
    const ids = await client.create(
      "sale.sale",
      page.map((p) => p.values),
    );
    sales += ids.length;
    if (!workflow) continue;
    const quote = ids.filter((_, i) => page[i]?.quote);
    if (quote.length) await client.button("sale.sale", "quote", quote);
    const confirm = ids.filter((_, i) => page[i]?.confirm);
    for (let i = 0; i < confirm.length; i += options.confirmChunk) {
      await client.button("sale.sale", "confirm", confirm.slice(i, i + options.confirmChunk));
    }
  }
  const settleSeconds = await settle(server);
  const seconds = since(started);
  return {
    sales,
    seconds,
    salesPerSecond: sales / seconds,
    calls: profile.total,
    settleSeconds,
    server: serverSince(server, cpu),
  };
}

export async function benchTryton(
  server: BenchTrytonServer,
  opts: TrytonBenchOptions,
): Promise<TrytonBenchResult> {
  const magento = await magentoWith(opts.orders, opts.magentoLatencyMs);
  try {
    const client = magentoClient(magento, opts.pageSize);
    const pull = () => pages(client, opts.pageSize);
    const all: MagentoOrder[] = [];
    for await (const page of pull()) all.push(...page.orders);

    const fresh = async () => {
      await server.restore();
      const admin = clientFor(server);
      const settings = await shopSetup(admin, server.fixtures);
      await admin.logout();
      return settings;
    };

    const packSettings = (s: ImportSettings): ImportSettings =>
      opts.concurrency === undefined ? s : { ...s, concurrency: opts.concurrency };
    // The importer presses chunks concurrently only where Tryton queues `process` (a worker).
    const setting = new SaleImporter(clientFor(server), packSettings({})).options.concurrency;
    const concurrency = server.worker ? setting : 1;
    const settled = (f: { settleSeconds: number }) =>
      server.worker ? `, of which ${f.settleSeconds.toFixed(1)} s waiting for the worker` : "";

    opts.log(`tryton: pack, default workflow, ${opts.orders} orders, concurrency ${concurrency}…`);
    const pack = await runPack(server, pull, packSettings(await fresh()));
    opts.log(`  ${pack.seconds.toFixed(1)} s${settled(pack)}, ${pack.calls} calls, ${pack.failed} failed`);

    opts.log(`tryton: naive, default workflow, ${opts.naiveOrders} orders…`);
    const naive = await runNaive(server, pull, await fresh(), opts.naiveOrders);
    opts.log(
      `  ${naive.seconds.toFixed(1)} s${settled(naive)}, ${naive.calls} calls, ${naive.failed} failed`,
    );

    opts.log(`tryton: pack, import only (state map → draft), ${opts.orders} orders…`);
    const importSettings = await fresh();
    const packImport = await runPack(server, pull, packSettings({ ...importSettings, stateMap: importOnly }));
    opts.log(`  ${packImport.seconds.toFixed(1)} s, ${packImport.calls} calls, ${packImport.failed} failed`);

    opts.log(`tryton: naive, import only (state map → draft), ${opts.naiveOrders} orders…`);
    const naiveImport = await runNaive(
      server,
      pull,
      { ...(await fresh()), stateMap: importOnly },
      opts.naiveOrders,
    );
    opts.log(
      `  ${naiveImport.seconds.toFixed(1)} s, ${naiveImport.calls} calls, ${naiveImport.failed} failed`,
    );

    // The same sales the import created, in the same pages.
    const created = new Set(packImport.saleOrders);
    const salePages: MagentoOrder[][] = [];
    for (let i = 0; i < all.length; i += opts.pageSize) {
      salePages.push(all.slice(i, i + opts.pageSize).filter((o) => created.has(o.entity_id)));
    }
    opts.log(`tryton: ceiling, bare create of the same ${created.size} sales…`);
    const ceilingSettings = await fresh();
    const ceiling = await runCeiling(server, salePages, ceilingSettings);
    opts.log(`  ${ceiling.seconds.toFixed(1)} s`);

    const workflowSales = new Set(pack.saleOrders);
    const workflowPages: MagentoOrder[][] = [];
    for (let i = 0; i < all.length; i += opts.pageSize) {
      workflowPages.push(all.slice(i, i + opts.pageSize).filter((o) => workflowSales.has(o.entity_id)));
    }
    opts.log(
      `tryton: workflow ceiling, bare create + quote + confirm of the same ${workflowSales.size} sales…`,
    );
    const workflowCeiling = await runCeiling(server, workflowPages, await fresh(), true);
    opts.log(`  ${workflowCeiling.seconds.toFixed(1)} s${settled(workflowCeiling)}`);

    let altChunk: TrytonBenchResult["altChunk"];
    if (opts.altConfirmChunk) {
      opts.log(
        `tryton: pack, default workflow, confirm chunk ${opts.altConfirmChunk}, ${opts.orders} orders…`,
      );
      const alt = await runPack(server, pull, {
        ...packSettings(await fresh()),
        confirmChunk: opts.altConfirmChunk,
      });
      opts.log(`  ${alt.seconds.toFixed(1)} s, ${alt.calls} calls, ${alt.failed} failed`);
      altChunk = {
        confirmChunk: opts.altConfirmChunk,
        seconds: alt.seconds,
        ordersPerSecond: alt.ordersPerSecond,
        callsPerOrder: alt.callsPerOrder,
        steadyCallsPerOrder: alt.steadyCallsPerOrder,
      };
    }

    const altConcurrency: TrytonBenchResult["altConcurrency"] = [];
    for (const c of server.worker ? (opts.altConcurrency ?? []) : []) {
      if (c === concurrency) continue;
      opts.log(`tryton: pack, default workflow, concurrency ${c}, ${opts.orders} orders…`);
      const alt = await runPack(server, pull, { ...(await fresh()), concurrency: c });
      opts.log(`  ${alt.seconds.toFixed(1)} s${settled(alt)}, ${alt.calls} calls, ${alt.failed} failed`);
      altConcurrency.push({
        concurrency: c,
        seconds: alt.seconds,
        settleSeconds: alt.settleSeconds,
        ordersPerSecond: alt.ordersPerSecond,
        speedupVsNaiveWorkflow: alt.ordersPerSecond / naive.ordersPerSecond,
        failed: alt.failed,
      });
    }

    const mapping = new SaleImporter(clientFor(server), ceilingSettings).options;
    const drafts = all.flatMap((o) => {
      const m = mapOrder(o, mapping);
      return m.ok ? [m.draft] : [];
    });
    const { saleOrders: _a, ...packFigures } = pack;
    const { saleOrders: _b, ...importFigures } = packImport;
    return {
      flavour: server.flavour,
      worker: server.worker,
      workerPool: server.worker ? Number(process.env.TRYTON_WORKERS || 1) : null,
      concurrency,
      altConcurrency,
      orders: opts.orders,
      linesPerOrder: drafts.reduce((n, d) => n + d.lines.length, 0) / Math.max(1, drafts.length),
      itemsPerOrder: itemsPerOrder(all),
      pack: packFigures,
      naive,
      packImport: importFigures,
      naiveImport,
      ceiling,
      workflowCeiling,
      ...(altChunk ? { altChunk } : {}),
      speedupBoundByConfirm:
        naive.seconds /
        naive.orders /
        ((pack.profile.find((p) => p.method === "model.sale.sale.confirm")?.seconds ?? 0) / pack.orders),
      speedupVsNaive: packImport.ordersPerSecond / naiveImport.ordersPerSecond,
      speedupVsNaiveWorkflow: pack.ordersPerSecond / naive.ordersPerSecond,
      ratioToBatchCeiling: packImport.salesPerSecond / ceiling.salesPerSecond,
      ratioToWorkflowCeiling: pack.salesPerSecond / workflowCeiling.salesPerSecond,
      callsPerOrder: pack.steadyCallsPerOrder,
    };
  } finally {
    await magento.stop();
  }
}
