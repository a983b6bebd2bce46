import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import { describeContract, type TrytonServerDescriptor } from "./harness";
import { trytonRpcContract } from "./tryton-rpc.contract";

// The same contract as tryton-rpc.spec.ts (real Tryton 6.0), against the simulator:
// any test that passes there and fails here is a simulator bug.
describe("Tryton simulator", function () {
  let sim: TrytonSimulator | undefined;

  const descriptor = (s: TrytonSimulator): TrytonServerDescriptor => ({
    kind: "simulator",
    url: s.url,
    database: s.database,
    username: s.username,
    password: s.password,
    fixtures: s.fixtures,
    async reset() {
      await s.stop();
      sim = await startTrytonSimulator();
      Object.assign(this, descriptor(sim));
    },
  });

  after(async function () {
    await sim?.stop();
  });

  describeContract(
    "Tryton JSON-RPC contract: simulator",
    async () => {
      sim = await startTrytonSimulator();
      return descriptor(sim);
    },
    trytonRpcContract,
  );
});
