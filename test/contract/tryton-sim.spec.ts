import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import { flavourTitle, realTrytonServer, TRYTON_MATRIX } from "../support/tryton-server";
import { describeContract, type TrytonServerDescriptor } from "./harness";
import { trytonFidelityContract } from "./tryton-sim-fidelity.contract";
import { trytonRpcContract } from "./tryton-rpc.contract";

// Not the default "admin": clients register passwords as secrets process-wide, and "admin"
// would then be redacted from every later message of the mocha run (the user name too).
const PASSWORD = "sim-contract-Pw-7315";

// The simulator under the pack's client contract (tryton-rpc.spec.ts runs it against the
// real Tryton 6.0), and a finer-grained fidelity contract against both: any test that
// passes on the real server and fails on the simulator is a simulator bug.
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
      sim = await startTrytonSimulator({ password: PASSWORD });
      Object.assign(this, descriptor(sim));
    },
  });

  const simulator = async (): Promise<TrytonServerDescriptor> => {
    sim ??= await startTrytonSimulator({ password: PASSWORD });
    return descriptor(sim);
  };

  after(async function () {
    await sim?.stop();
  });

  describeContract("Tryton JSON-RPC contract: simulator", simulator, trytonRpcContract);
  describeContract("Tryton fidelity contract: simulator", simulator, trytonFidelityContract);
  for (const flavour of TRYTON_MATRIX)
    describeContract(
      `Tryton fidelity contract: real ${flavourTitle(flavour)}`,
      () => realTrytonServer(flavour),
      trytonFidelityContract,
    );
});
