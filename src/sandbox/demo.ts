/**
 * `npm start`: the Magento simulator plus a real Node-RED with this pack and the example flows,
 * ready in the browser; no account needed. Run through scripts/start.mjs (builds first, loads tsx).
 *
 * Environment (all optional):
 *   PORT                  Node-RED editor port (default 1880)
 *   MAGENTO_SIM_PORT      port of the Magento simulator (default 18811)
 *   MAGENTO_URL           use this real Magento instead of the simulator, with one of:
 *     MAGENTO_TOKEN         integration access token (Bearer)
 *     MAGENTO_CONSUMER_KEY, MAGENTO_CONSUMER_SECRET, MAGENTO_ACCESS_TOKEN, MAGENTO_ACCESS_TOKEN_SECRET
 *                           integration OAuth 1.0a
 *     MAGENTO_USERNAME, MAGENTO_PASSWORD   admin user
 *   MAGENTO_STORE_CODE    store code (default "default")
 *   DEMO_FLOWS            flow file to deploy (default examples/flows.json, else examples/magento-intake.json)
 *   NODE_RED_USER_DIR     keep Node-RED's userDir here (default: a temp dir removed on exit); when it
 *                         already holds flows, those are kept unless DEMO_RESET=1
 *
 * Credentials are never read from the example files: they are added to the config nodes at deploy
 * time (the simulator's demo values, or the variables above) and Node-RED stores them encrypted.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, startNodeRed, type NodeRedInstance } from "./node-red-runtime";
import { defaultIntegration, startMagentoSimulator } from "./magento";

export const DEFAULT_MAGENTO_SIM_PORT = 18811;
export const DEFAULT_NODE_RED_PORT = 1880;

type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface MagentoTarget {
  url: string;
  storeCode: string;
  authMode: "bearer" | "oauth1" | "admin";
  credentials: Record<string, string>;
  /** Where it comes from: "simulator" or "MAGENTO_URL". */
  kind: string;
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}=${raw} is not a port number`);
  return n;
}

/** A real Magento from MAGENTO_* variables, or null when MAGENTO_URL is unset. */
export function magentoFromEnv(env: NodeJS.ProcessEnv = process.env): MagentoTarget | null {
  const url = env.MAGENTO_URL?.trim();
  if (!url) return null;
  const storeCode = env.MAGENTO_STORE_CODE?.trim() || "default";
  if (env.MAGENTO_TOKEN) {
    return {
      url,
      storeCode,
      kind: "MAGENTO_URL",
      authMode: "bearer",
      credentials: { token: env.MAGENTO_TOKEN },
    };
  }
  const oauth = [
    "MAGENTO_CONSUMER_KEY",
    "MAGENTO_CONSUMER_SECRET",
    "MAGENTO_ACCESS_TOKEN",
    "MAGENTO_ACCESS_TOKEN_SECRET",
  ];
  if (oauth.every((k) => env[k])) {
    return {
      url,
      storeCode,
      kind: "MAGENTO_URL",
      authMode: "oauth1",
      credentials: {
        consumerKey: env.MAGENTO_CONSUMER_KEY ?? "",
        consumerSecret: env.MAGENTO_CONSUMER_SECRET ?? "",
        accessToken: env.MAGENTO_ACCESS_TOKEN ?? "",
        accessTokenSecret: env.MAGENTO_ACCESS_TOKEN_SECRET ?? "",
      },
    };
  }
  if (env.MAGENTO_USERNAME && env.MAGENTO_PASSWORD) {
    return {
      url,
      storeCode,
      kind: "MAGENTO_URL",
      authMode: "admin",
      credentials: { username: env.MAGENTO_USERNAME, password: env.MAGENTO_PASSWORD },
    };
  }
  throw new Error(
    "MAGENTO_URL is set but no credentials: set MAGENTO_TOKEN, or the four MAGENTO_CONSUMER_KEY/" +
      "MAGENTO_CONSUMER_SECRET/MAGENTO_ACCESS_TOKEN/MAGENTO_ACCESS_TOKEN_SECRET, or MAGENTO_USERNAME and MAGENTO_PASSWORD",
  );
}

/** The flow file the demo deploys. */
export function demoFlowFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DEMO_FLOWS) return path.resolve(env.DEMO_FLOWS);
  const main = path.join(REPO_ROOT, "examples", "flows.json");
  return existsSync(main) ? main : path.join(REPO_ROOT, "examples", "magento-intake.json");
}

/**
 * Point the flows' config nodes at the demo's servers and attach their credentials
 * (returned by node id, for a deploy through the admin API).
 */
export function configureFlows(
  flows: FlowNode[],
  magento: MagentoTarget,
): { flows: FlowNode[]; credentials: Record<string, object> } {
  const credentials: Record<string, object> = {};
  const out = flows.map((node) => {
    if (node.type !== "magento-config") return node;
    credentials[node.id] = { ...magento.credentials };
    return { ...node, baseUrl: magento.url, storeCode: magento.storeCode, authMode: magento.authMode };
  });
  return { flows: out, credentials };
}

function readFlows(file: string): FlowNode[] {
  const flows = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (!Array.isArray(flows)) throw new Error(`${file}: a flow file is a JSON array of nodes`);
  return flows as FlowNode[];
}

function hasFlows(userDir: string): boolean {
  const file = path.join(userDir, "flows.json");
  return existsSync(file) && statSync(file).size > 2;
}

export interface Demo {
  editorUrl: string;
  magentoUrl: string;
  nodeRed: NodeRedInstance;
  stop(): Promise<void>;
}

export async function startDemo(env: NodeJS.ProcessEnv = process.env): Promise<Demo> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    while (stops.length > 0)
      await stops
        .pop()?.()
        .catch((err: Error) => console.error(err.message));
  };
  try {
    let magento = magentoFromEnv(env);
    if (!magento) {
      const sim = await startMagentoSimulator({
        port: intFromEnv("MAGENTO_SIM_PORT", DEFAULT_MAGENTO_SIM_PORT),
        seed: 1,
        integration: defaultIntegration,
      });
      stops.push(() => sim.stop());
      magento = {
        url: sim.url,
        storeCode: "default",
        kind: "simulator",
        // the simulator's integration, used as a bearer token (Magento's enable_integration_as_bearer)
        authMode: "bearer",
        credentials: { token: defaultIntegration.accessToken },
      };
    }

    const userDir = env.NODE_RED_USER_DIR ? path.resolve(env.NODE_RED_USER_DIR) : undefined;
    const keep = userDir !== undefined && hasFlows(userDir) && env.DEMO_RESET !== "1";
    const flowFile = demoFlowFile(env);
    const { flows, credentials } = configureFlows(readFlows(flowFile), magento);

    const nodeRed = await startNodeRed({
      userDir,
      port: intFromEnv("PORT", DEFAULT_NODE_RED_PORT),
      flows: keep ? undefined : flows,
      credentials: keep ? undefined : credentials,
      log: (line) => console.log(`node-red | ${line}`),
    });
    stops.push(() => nodeRed.stop());

    console.log("");
    console.log(`OrderBridge demo is running.`);
    console.log(`  Node-RED editor : ${nodeRed.url}/`);
    console.log(`  Magento         : ${magento.url} (${magento.kind})`);
    console.log(`  Flows           : ${keep ? `kept from ${userDir}` : path.relative(REPO_ROOT, flowFile)}`);
    console.log(`  Node-RED userDir: ${nodeRed.userDir}${userDir ? "" : " (removed on exit)"}`);
    console.log(`Press Ctrl-C to stop.`);
    console.log("");
    return { editorUrl: `${nodeRed.url}/`, magentoUrl: magento.url, nodeRed, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Start the demo and stop everything on SIGINT/SIGTERM (a second signal kills at once). */
export async function main(): Promise<void> {
  let demo: Demo | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // the runtime's exit hook SIGKILLs the Node-RED process group
      console.error(`\n${signal} again: exiting now.`);
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping the demo…`);
    if (demo) void shutdown(demo);
    // else: main() stops it as soon as it has started
  };
  const shutdown = async (d: Demo) => {
    try {
      await d.stop();
      process.exit(0);
    } catch (err) {
      console.error((err as Error).message);
      process.exit(1);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    demo = await startDemo();
  } catch (err) {
    console.error(`The demo could not start: ${(err as Error).message}`);
    process.exit(1);
  }
  if (stopping) await shutdown(demo);
}

if (require.main === module) void main();
