/**
 * Real Tryton servers for a mocha run, provisioned by `scripts/tryton.sh` (through
 * `src/sandbox/tryton-instance.ts`): installed when missing (root only), restored from the
 * template snapshot (or built once), started on a free port on 127.0.0.1, and stopped by PID
 * when the run ends. One server per flavour, provisioned when a spec first asks for it:
 *
 *   const server = await realTrytonServer();                   // Tryton 6.0 on SQLite
 *   for (const flavour of TRYTON_MATRIX) await realTrytonServer(flavour);
 *
 * `undefined` means skipped (never with CI=true). TRYTON_FLAVOURS=7.0-postgresql (a comma
 * list) narrows the matrix for a quicker local run.
 */
import {
  flavourTitle,
  isTrytonFlavour,
  startTrytonInstance,
  TRYTON_FLAVOURS,
  type TrytonFlavour,
  type TrytonInstance,
} from "../../src/sandbox/tryton-instance";

export { flavourTitle, type TrytonFlavour } from "../../src/sandbox/tryton-instance";

export interface TrytonFixtures {
  database: string;
  company: number;
  companyParty: number;
  companyCurrency: number;
  currency: Record<"USD" | "EUR" | "GBP" | "JPY", number>;
  country: Record<"US" | "DE" | "GB" | "FR" | "JP", number>;
  subdivision: Record<string, number>;
  unit: number;
  warehouse: number;
  accounts: Record<"receivable" | "payable" | "tax" | "revenue" | "expense", number>;
  accountTypes: Record<"receivable" | "payable" | "tax" | "revenue" | "expense", number>;
  paymentTerm: number;
  fiscalYears: Record<string, number>;
  accountCategory: number;
  tax: Record<"us_ca_sales_8_25" | "de_vat_19" | "de_vat_7" | "gb_vat_20", number>;
  products: Record<"shipping" | "sampleGoods", { template: number; product: number; code: string }>;
  customer: { party: number; address: number };
  users: { admin: number; clerk: { id: number; login: string; password: string } };
}

export interface RealTrytonServer {
  kind: "real";
  flavour: TrytonFlavour;
  /** "Tryton 7.0 on PostgreSQL with a worker". */
  title: string;
  series: string;
  backend: "sqlite" | "postgresql";
  /** A trytond-worker runs `sale.process` after `confirm` (the sale reaches `processing` later). */
  worker: boolean;
  url: string;
  database: string;
  username: string;
  password: string;
  fixtures: TrytonFixtures;
  pid: number;
  /** Put the database back to the snapshot (server restarted on the same port). */
  reset(): Promise<void>;
  /** With a worker: resolves once every queued task (`process` after confirm/shipment) has run. */
  settle(): Promise<void>;
}

const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

/** The configurations the contract suite holds the pack to (all three unless TRYTON_FLAVOURS narrows). */
export const TRYTON_MATRIX: TrytonFlavour[] = (() => {
  const wanted = (process.env.TRYTON_FLAVOURS ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = wanted.filter((f) => !isTrytonFlavour(f));
  if (unknown.length)
    throw new Error(`TRYTON_FLAVOURS: unknown ${unknown.join(", ")} (known: ${TRYTON_FLAVOURS.join(", ")})`);
  return wanted.length ? (wanted as TrytonFlavour[]) : [...TRYTON_FLAVOURS];
})();

/** The production configuration: what reliability and status-export tests also run against. */
export const PRODUCTION_FLAVOUR: TrytonFlavour = "7.0-postgresql";

const provisioning = new Map<TrytonFlavour, Promise<RealTrytonServer | undefined>>();
const instances = new Map<TrytonFlavour, TrytonInstance>();

async function provision(flavour: TrytonFlavour): Promise<RealTrytonServer> {
  const instance = await startTrytonInstance(flavour, "mocha", (line) =>
    console.log(`      [tryton] ${line}`),
  );
  instances.set(flavour, instance);
  const server: RealTrytonServer = {
    kind: "real",
    flavour,
    title: flavourTitle(flavour),
    series: instance.series,
    backend: instance.backend,
    worker: instance.worker,
    url: instance.url,
    database: instance.database,
    username: instance.username,
    password: instance.password,
    fixtures: instance.fixtures as TrytonFixtures,
    pid: instance.pid,
    settle: () => instance.settle(),
    async reset() {
      await instance.restore();
      server.pid = instance.pid;
      server.url = instance.url;
    },
  };
  return server;
}

/**
 * The shared real server of this mocha run for the flavour. Resolves undefined when it cannot
 * be provisioned outside CI (after printing a SKIPPED line); with CI=true it rejects.
 */
export function realTrytonServer(
  flavour: TrytonFlavour = "6.0-sqlite",
): Promise<RealTrytonServer | undefined> {
  let pending = provisioning.get(flavour);
  if (!pending) {
    pending = provision(flavour).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      if (isCI)
        throw new Error(`CI=true and no real ${flavourTitle(flavour)} could be provisioned: ${reason}`);
      console.warn(
        `\n  SKIPPED real Tryton tests: cannot provision ${flavourTitle(flavour)}.\n  ${reason.replace(/\n/g, "\n  ")}\n`,
      );
      return undefined;
    });
    provisioning.set(flavour, pending);
  }
  return pending;
}

/**
 * Wait until the real server at `url` (if it is one of this run's) has run its queued tasks:
 * with a worker, `process` after confirm happens after the import returned. Other URLs
 * (simulators, proxies) resolve at once.
 */
export async function settleServerAt(url: string): Promise<void> {
  for (const instance of instances.values()) if (instance.url === url) await instance.settle();
}

/** Stop every server of this run (worker, trytond, PostgreSQL; by PID) and remove their instances. */
export async function stopRealTrytonServers(): Promise<void> {
  const running = [...instances.values()];
  instances.clear();
  provisioning.clear();
  await Promise.all(running.map((i) => i.stop()));
}

// Root-level hook: registered when a spec first imports this module, runs once at the end.
if (typeof after === "function") {
  after(async function () {
    this.timeout(60_000);
    await stopRealTrytonServers();
  });
}
