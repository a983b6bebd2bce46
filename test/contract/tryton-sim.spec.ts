import {
  startTrytonSimulator,
  type TrytonSimulator,
  type TrytonSimulatorOptions,
} from "../../src/sandbox/tryton";
import { flavourTitle, realTrytonServer, TRYTON_MATRIX, type TrytonFlavour } from "../support/tryton-server";
import { describeContract, type ServerProvider, type TrytonServerDescriptor } from "./harness";
import { trytonFidelityContract } from "./tryton-sim-fidelity.contract";
import { trytonRpcContract } from "./tryton-rpc.contract";

// Not the default "admin": clients register passwords as secrets process-wide, and "admin"
// would then be redacted from every later message of the mocha run (the user name too).
const PASSWORD = "sim-contract-Pw-7315";

/** The simulator configuration held to each real server (src/sandbox/tryton/series.ts). */
const TWINS: Record<TrytonFlavour, { title: string; options: TrytonSimulatorOptions }> = {
  "6.0-sqlite": { title: "simulator 6.0", options: { series: "6.0" } },
  "7.0-sqlite": { title: "simulator 7.0", options: { series: "7.0" } },
  "7.0-postgresql": { title: "simulator 7.0 with a worker", options: { series: "7.0", worker: true } },
};

/** One simulator per configuration, started when a suite first needs it, stopped after the run. */
function simulatorProvider(options: TrytonSimulatorOptions, running: Set<TrytonSimulator>): ServerProvider {
  let sim: TrytonSimulator | undefined;
  const start = async () => {
    sim = await startTrytonSimulator({ ...options, password: PASSWORD });
    running.add(sim);
    return sim;
  };
  const descriptor = (s: TrytonSimulator): TrytonServerDescriptor => ({
    kind: "simulator",
    series: s.series,
    // The simulator follows SQLite's semantics whatever the series (src/sandbox/tryton/README.md).
    backend: "sqlite",
    worker: s.worker,
    url: s.url,
    database: s.database,
    username: s.username,
    password: s.password,
    fixtures: s.fixtures,
    settle: () => s.settle(),
    async reset() {
      running.delete(s);
      await s.stop();
      Object.assign(this, descriptor(await start()));
    },
  });
  return async () => descriptor(sim ?? (await start()));
}

// The simulator under the pack's client contract (tryton-rpc.spec.ts runs it against the real
// servers), and a finer-grained fidelity contract: each simulator configuration against the
// real server it imitates. Any test that passes on the real server and fails on its
// simulator twin is a simulator bug.
describe("Tryton simulator", function () {
  const running = new Set<TrytonSimulator>();

  after(async function () {
    await Promise.all([...running].map((s) => s.stop()));
  });

  for (const twin of Object.values(TWINS)) {
    const provider = simulatorProvider(twin.options, running);
    describeContract(`Tryton JSON-RPC contract: ${twin.title}`, provider, trytonRpcContract);
    describeContract(`Tryton fidelity contract: ${twin.title}`, provider, trytonFidelityContract);
  }
  for (const flavour of TRYTON_MATRIX)
    describeContract(
      `Tryton fidelity contract: real ${flavourTitle(flavour)}`,
      () => realTrytonServer(flavour),
      trytonFidelityContract,
    );
});
