import { flavourTitle, realTrytonServer, TRYTON_MATRIX } from "../support/tryton-server";
import { describeContract } from "./harness";
import { trytonRpcContract } from "./tryton-rpc.contract";

for (const flavour of TRYTON_MATRIX) {
  describeContract(
    `Tryton JSON-RPC contract: real ${flavourTitle(flavour)}`,
    () => realTrytonServer(flavour),
    trytonRpcContract,
  );
}
