import { realTrytonServer } from "../support/tryton-server";
import { describeContract } from "./harness";
import { trytonRpcContract } from "./tryton-rpc.contract";

describeContract("Tryton JSON-RPC contract: real Tryton 6.0", realTrytonServer, trytonRpcContract);
