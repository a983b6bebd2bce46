/**
 * Contract suites: the same tests run against every Tryton implementation the pack talks
 * to — the real Tryton 6.0 server and (later) the simulator in `src/sandbox`. A difference
 * between them is a bug in the simulator.
 *
 *   describeContract("real Tryton 6.0", realTrytonServer, trytonRpcContract);
 *   describeContract("Tryton simulator", simulatorServer, trytonRpcContract);
 */
import { TrytonClient, type TrytonClientOptions } from "../../src/tryton/rpc";
import {
  startTrytonSimulator,
  type TrytonSimulator,
  type TrytonSimulatorOptions,
} from "../../src/sandbox/tryton";
import { flavourTitle, realTrytonServer, TRYTON_MATRIX, type TrytonFixtures } from "../support/tryton-server";

export type { TrytonFixtures } from "../support/tryton-server";

/** What a contract suite needs to know about the server under test. */
export interface TrytonServerDescriptor {
  kind: "real" | "simulator";
  /** Tryton series the server runs ("6.0", "7.0"); the simulator follows its version switch. */
  series?: string;
  backend?: "sqlite" | "postgresql";
  /** A trytond-worker runs queued tasks: `sale.process` after `confirm` happens later, outside the request. */
  worker?: boolean;
  url: string;
  database: string;
  username: string;
  password: string;
  fixtures: TrytonFixtures;
  /**
   * With a worker: resolves once the tasks buttons queued (`process` after `confirm` or after a
   * shipment is done) have run. Absent or at once when they run inside the call.
   */
  settle?(): Promise<void>;
  /** Back to the initial data, when the implementation can do it. */
  reset?(): Promise<void>;
}

/** Resolves undefined when the server is unavailable and the suite may be skipped. */
export type ServerProvider = () => Promise<TrytonServerDescriptor | undefined>;

export interface ContractContext {
  /** The server under test (available inside tests and hooks). */
  readonly server: TrytonServerDescriptor;
  readonly fixtures: TrytonFixtures;
  /** A new client for the server, logged out after the suite. Retries off unless given. */
  client(overrides?: Partial<TrytonClientOptions>): TrytonClient;
  /** A short unique text for references and names, so tests never depend on each other. */
  unique(prefix: string): string;
}

export type ContractSuite = (ctx: ContractContext) => void;

let counter = 0;

export function describeContract(name: string, getServer: ServerProvider, suite: ContractSuite): void {
  describe(name, function () {
    let current: TrytonServerDescriptor | undefined;
    const clients: TrytonClient[] = [];
    const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;

    const ctx: ContractContext = {
      get server() {
        if (!current) throw new Error(`${name}: server not provisioned`);
        return current;
      },
      get fixtures() {
        return ctx.server.fixtures;
      },
      client(overrides = {}) {
        const s = ctx.server;
        const client = new TrytonClient({
          url: s.url,
          database: s.database,
          username: s.username,
          password: s.password,
          retry: false,
          timeoutMs: 60_000,
          ...overrides,
        });
        clients.push(client);
        return client;
      },
      unique(prefix) {
        counter += 1;
        return `${prefix}-${runId}-${counter}`;
      },
    };

    before(async function () {
      // From scratch: apt-get install + database activation + fixtures, about 30 s.
      this.timeout(15 * 60_000);
      current = await getServer();
      if (!current) this.skip();
    });

    after(async function () {
      this.timeout(30_000);
      await Promise.allSettled(clients.splice(0).map((c) => c.logout()));
    });

    suite(ctx);
  });
}

/**
 * The suite on the Tryton simulator (started on first use, stopped after the enclosing
 * `describe`) and on every real server of the matrix (`TRYTON_FLAVOURS`), each titled
 * `<title>: Tryton simulator`, `<title>: real Tryton 7.0 on PostgreSQL …`.
 */
export function describeOnEveryTryton(
  title: string,
  suite: ContractSuite,
  simulatorOptions: TrytonSimulatorOptions = {},
): void {
  let sim: TrytonSimulator | undefined;
  const simulator = async (): Promise<TrytonServerDescriptor> => {
    sim ??= await startTrytonSimulator(simulatorOptions);
    return {
      kind: "simulator",
      url: sim.url,
      database: sim.database,
      username: sim.username,
      password: sim.password,
      fixtures: sim.fixtures,
    };
  };
  after(async () => {
    await sim?.stop();
  });
  describeContract(`${title}: Tryton simulator`, simulator, suite);
  for (const flavour of TRYTON_MATRIX)
    describeContract(`${title}: real ${flavourTitle(flavour)}`, () => realTrytonServer(flavour), suite);
}
