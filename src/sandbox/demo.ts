/**
 * `npm start`: the Magento, Tryton and Salesforce simulators plus a real Node-RED with this pack
 * and the example flows (examples/flows.json), ready in the browser; no account needed. Run
 * through scripts/start.mjs (builds first, loads tsx). The end-to-end tests start the same demo.
 *
 * Environment (all optional; the README has the same table):
 *   PORT                    Node-RED editor port (default 1880)
 *   MAGENTO_SIM_PORT        Magento simulator port (default 18811)
 *   TRYTON_SIM_PORT         Tryton simulator port (default 18812)
 *   SALESFORCE_SIM_PORT     Salesforce simulator port (default 18813)
 *   DEMO_ACTIVITY_SECONDS   every N seconds (default 30; 0 = never) the simulated shop takes an order or
 *                           the simulated Tryton ships a sale or cancels a quotation (src/sandbox/demo-activity.ts)
 *   MAGENTO_URL             a real Magento instead of the simulator, with one of:
 *     MAGENTO_TOKEN           integration access token (Bearer)
 *     MAGENTO_CONSUMER_KEY, MAGENTO_CONSUMER_SECRET, MAGENTO_ACCESS_TOKEN, MAGENTO_ACCESS_TOKEN_SECRET
 *                             integration OAuth 1.0a
 *     MAGENTO_USERNAME, MAGENTO_PASSWORD   admin user
 *   MAGENTO_STORE_CODE      store code (default "default")
 *   TRYTON_URL              a real Tryton (server root, e.g. http://erp:8000) instead of the simulator, with
 *     TRYTON_DATABASE, TRYTON_USERNAME (default admin), TRYTON_PASSWORD
 *     TRYTON_COMPANY          company id (default: the user's current company)
 *     TRYTON_TAX_MAP          JSON, Magento tax percent → Tryton tax ids, e.g. {"20":[4]}
 *   SALESFORCE_LOGIN_URL    a real org instead of the simulator: production, sandbox or a My Domain URL, with
 *     SALESFORCE_AUTH         password (default), client_credentials, jwt or refresh_token
 *     SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET   the connected app
 *     SALESFORCE_USERNAME, SALESFORCE_PASSWORD, SALESFORCE_SECURITY_TOKEN
 *     SALESFORCE_PRIVATE_KEY_FILE (PEM, jwt), SALESFORCE_REFRESH_TOKEN (refresh_token)
 *     SALESFORCE_API_VERSION  default 60.0
 *   DEMO_FLOWS              flow file to deploy (default examples/flows.json)
 *   NODE_RED_USER_DIR       keep Node-RED's userDir here (default: a temp dir removed on exit); when it
 *                           already holds flows, those are kept unless DEMO_RESET=1
 *
 * Credentials are never read from the example files: they are added to the config nodes at deploy
 * time (the simulators' demo values, or the variables above) and Node-RED stores them encrypted.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { AUTH_MODES, missingCredentials, type AuthMode } from "../salesforce/session";
import { startActivity } from "./demo-activity";
import { REPO_ROOT, startNodeRed, type FlowNode, type NodeRedInstance } from "./node-red-runtime";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "./magento";
import { startSalesforceSimulator, type SalesforceSimulator } from "./salesforce";
import { startTrytonSimulator, type TrytonSimulator } from "./tryton";

export const DEFAULT_PORTS = { nodeRed: 1880, magento: 18811, tryton: 18812, salesforce: 18813 } as const;

/** Seed of the simulated shop: the example flows name some of its orders (e.g. #000000011). */
export const DEMO_SHOP_SEED = 1;
export const DEMO_SHOP_ORDERS = 60;
/** The simulated Tryton's password: not "admin", which the pack would then redact from every text. */
const DEMO_TRYTON_PASSWORD = "Demo-Tryton-Pass-1";

export interface MagentoTarget {
  url: string;
  storeCode: string;
  authMode: "bearer" | "oauth1" | "admin";
  credentials: Record<string, string>;
  /** Where it comes from: "simulator" or "MAGENTO_URL". */
  kind: string;
}

export interface TrytonTarget {
  url: string;
  database: string;
  /** Company id, "" for the user's current company. */
  company: string;
  credentials: { username: string; password: string };
  /** Tax map for the tryton-sale-out nodes; undefined keeps what the flows say. */
  taxMap?: string;
  kind: string;
}

export interface SalesforceTarget {
  loginUrl: "production" | "sandbox" | "custom";
  customUrl: string;
  apiVersion: string;
  authMode: AuthMode;
  credentials: Record<string, string>;
  kind: string;
}

export interface DemoTargets {
  magento: MagentoTarget;
  tryton: TrytonTarget;
  salesforce: SalesforceTarget;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, max = 65535): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new Error(`${name}=${raw} is not a number from 0 to ${max}`);
  return n;
}

function required(env: NodeJS.ProcessEnv, because: string, names: string[]): void {
  const missing = names.filter((n) => !env[n]?.trim());
  if (missing.length > 0)
    throw new Error(`${because} but ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not set`);
}

/** A real Magento from MAGENTO_* variables, or null when MAGENTO_URL is unset. */
export function magentoFromEnv(env: NodeJS.ProcessEnv = process.env): MagentoTarget | null {
  const url = env.MAGENTO_URL?.trim();
  if (!url) return null;
  const storeCode = env.MAGENTO_STORE_CODE?.trim() || "default";
  const target = (
    authMode: MagentoTarget["authMode"],
    credentials: Record<string, string>,
  ): MagentoTarget => ({
    url,
    storeCode,
    kind: "MAGENTO_URL",
    authMode,
    credentials,
  });
  if (env.MAGENTO_TOKEN) return target("bearer", { token: env.MAGENTO_TOKEN });
  const oauth = [
    "MAGENTO_CONSUMER_KEY",
    "MAGENTO_CONSUMER_SECRET",
    "MAGENTO_ACCESS_TOKEN",
    "MAGENTO_ACCESS_TOKEN_SECRET",
  ];
  if (oauth.every((k) => env[k])) {
    return target("oauth1", {
      consumerKey: env.MAGENTO_CONSUMER_KEY ?? "",
      consumerSecret: env.MAGENTO_CONSUMER_SECRET ?? "",
      accessToken: env.MAGENTO_ACCESS_TOKEN ?? "",
      accessTokenSecret: env.MAGENTO_ACCESS_TOKEN_SECRET ?? "",
    });
  }
  if (env.MAGENTO_USERNAME && env.MAGENTO_PASSWORD) {
    return target("admin", { username: env.MAGENTO_USERNAME, password: env.MAGENTO_PASSWORD });
  }
  throw new Error(
    "MAGENTO_URL is set but no credentials: set MAGENTO_TOKEN, or the four MAGENTO_CONSUMER_KEY/" +
      "MAGENTO_CONSUMER_SECRET/MAGENTO_ACCESS_TOKEN/MAGENTO_ACCESS_TOKEN_SECRET, or MAGENTO_USERNAME and MAGENTO_PASSWORD",
  );
}

/** A real Tryton from TRYTON_* variables, or null when TRYTON_URL is unset. */
export function trytonFromEnv(env: NodeJS.ProcessEnv = process.env): TrytonTarget | null {
  const url = env.TRYTON_URL?.trim();
  if (!url) return null;
  required(env, "TRYTON_URL is set", ["TRYTON_DATABASE", "TRYTON_PASSWORD"]);
  const company = env.TRYTON_COMPANY?.trim() ?? "";
  if (company && !/^\d+$/.test(company)) throw new Error(`TRYTON_COMPANY=${company} is not a company id`);
  const taxMap = env.TRYTON_TAX_MAP?.trim();
  if (taxMap) {
    try {
      JSON.parse(taxMap);
    } catch {
      throw new Error(`TRYTON_TAX_MAP is not JSON (e.g. {"20":[4]}): ${taxMap}`);
    }
  }
  return {
    url,
    database: env.TRYTON_DATABASE?.trim() ?? "",
    company,
    credentials: { username: env.TRYTON_USERNAME?.trim() || "admin", password: env.TRYTON_PASSWORD ?? "" },
    // the examples' tax map holds the demo Tryton's tax ids: without TRYTON_TAX_MAP, start from none
    taxMap: taxMap || "",
    kind: "TRYTON_URL",
  };
}

/** A real Salesforce org from SALESFORCE_* variables, or null when SALESFORCE_LOGIN_URL is unset. */
export function salesforceFromEnv(env: NodeJS.ProcessEnv = process.env): SalesforceTarget | null {
  const login = env.SALESFORCE_LOGIN_URL?.trim();
  if (!login) return null;
  const authMode = (env.SALESFORCE_AUTH?.trim() || "password") as AuthMode;
  if (!AUTH_MODES.includes(authMode)) {
    throw new Error(`SALESFORCE_AUTH=${authMode}: use one of ${AUTH_MODES.join(", ")}`);
  }
  const keyFile = env.SALESFORCE_PRIVATE_KEY_FILE?.trim();
  const credentials: Record<string, string> = {};
  const put = (key: string, value: string | undefined) => {
    if (value?.trim()) credentials[key] = value.trim();
  };
  put("clientId", env.SALESFORCE_CLIENT_ID);
  put("clientSecret", env.SALESFORCE_CLIENT_SECRET);
  put("username", env.SALESFORCE_USERNAME);
  put("password", env.SALESFORCE_PASSWORD);
  put("securityToken", env.SALESFORCE_SECURITY_TOKEN);
  put("refreshToken", env.SALESFORCE_REFRESH_TOKEN);
  if (keyFile) put("privateKey", readFileSync(keyFile, "utf8"));
  const missing = missingCredentials(authMode, credentials);
  if (missing.length > 0) {
    throw new Error(
      `SALESFORCE_LOGIN_URL is set with SALESFORCE_AUTH=${authMode} but the ${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} missing`,
    );
  }
  const named = login === "production" || login === "sandbox";
  return {
    loginUrl: named ? login : "custom",
    customUrl: named ? "" : login,
    apiVersion: env.SALESFORCE_API_VERSION?.trim() || "60.0",
    authMode,
    credentials,
    kind: "SALESFORCE_LOGIN_URL",
  };
}

/** The flow file the demo deploys. */
export function demoFlowFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.DEMO_FLOWS ? path.resolve(env.DEMO_FLOWS) : path.join(REPO_ROOT, "examples", "flows.json");
}

export function readFlows(file: string): FlowNode[] {
  const flows = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (!Array.isArray(flows)) throw new Error(`${file}: a flow file is a JSON array of nodes`);
  return flows as FlowNode[];
}

/**
 * Point the flows' config nodes at the demo's servers and attach their credentials
 * (returned by node id, for a deploy through the admin API).
 */
export function configureFlows(
  flows: FlowNode[],
  targets: DemoTargets,
): { flows: FlowNode[]; credentials: Record<string, object> } {
  const credentials: Record<string, object> = {};
  const { magento, tryton, salesforce } = targets;
  const out = flows.map((node): FlowNode => {
    switch (node.type) {
      case "magento-config":
        credentials[node.id] = { ...magento.credentials };
        return { ...node, baseUrl: magento.url, storeCode: magento.storeCode, authMode: magento.authMode };
      case "tryton-config":
        credentials[node.id] = { ...tryton.credentials };
        return { ...node, url: tryton.url, database: tryton.database, company: tryton.company };
      case "salesforce-config":
        credentials[node.id] = { ...salesforce.credentials };
        return {
          ...node,
          loginUrl: salesforce.loginUrl,
          customUrl: salesforce.customUrl,
          apiVersion: salesforce.apiVersion,
          authMode: salesforce.authMode,
        };
      case "tryton-sale-out":
        return tryton.taxMap === undefined ? node : { ...node, taxMap: tryton.taxMap };
      default:
        return node;
    }
  });
  return { flows: out, credentials };
}

/** Countries the simulated shop sells to that the simulated Tryton lacks; China stays missing on purpose. */
const DEMO_COUNTRIES = [
  { code: "ES", code3: "ESP", code_numeric: "724", name: "Spain" },
  { code: "IE", code3: "IRL", code_numeric: "372", name: "Ireland" },
  { code: "SE", code3: "SWE", code_numeric: "752", name: "Sweden" },
  { code: "NO", code3: "NOR", code_numeric: "578", name: "Norway" },
];
/** VAT rates of the simulated shop that the simulated Tryton has no tax for. */
const DEMO_TAXES = [
  { rate: "21", name: "ES VAT 21%" },
  { rate: "23", name: "IE VAT 23%" },
  { rate: "25", name: "SE VAT 25%" },
];

/**
 * What a Tryton administrator does before the first import: the shop's countries and taxes.
 * Returns the tax map (Magento tax percent → Tryton tax ids) that the example flows carry.
 */
export function prepareTrytonSimulator(sim: TrytonSimulator): string {
  const f = sim.fixtures;
  sim.db.call("country.country", "create", [DEMO_COUNTRIES]);
  const ids = sim.db.call("account.tax", "create", [
    DEMO_TAXES.map((t) => ({
      name: t.name,
      description: t.name,
      type: "percentage",
      rate: { __class__: "Decimal", decimal: String(Number(t.rate) / 100) },
      company: f.company,
      invoice_account: f.accounts.tax,
      credit_note_account: f.accounts.tax,
    })),
  ]) as number[];
  const map: Record<string, number[]> = { "8.25": [f.tax.us_ca_sales_8_25], "20": [f.tax.gb_vat_20] };
  DEMO_TAXES.forEach((t, i) => (map[t.rate] = [ids[i]]));
  return JSON.stringify(map);
}

const key = (name: string) => ({ name, length: 80, unique: true });
/** The external-ID fields salesforce-order-out writes by default, as its setup check asks for them. */
const DEMO_SALESFORCE_FIELDS = {
  Account: [key("Magento_Customer_Key__c")],
  Contact: [key("Magento_Customer_Key__c")],
  Product2: [key("Magento_Sku__c")],
  Order: [key("Magento_Order_Key__c")],
  OrderItem: [key("Magento_Item_Key__c")],
};

export interface DemoSimulators {
  magento?: MagentoSimulator;
  tryton?: TrytonSimulator;
  salesforce?: SalesforceSimulator;
}

export interface DemoOptions {
  /** Where the demo's own lines go (default console.log). */
  log?: (line: string) => void;
  /** Receives Node-RED's log lines (default: prefixed with "node-red | " to `log`). */
  nodeRedLog?: (line: string) => void;
  /** Print the banner (default true). */
  banner?: boolean;
}

export interface Demo {
  editorUrl: string;
  /** Kept for callers of the first demo. */
  magentoUrl: string;
  nodeRed: NodeRedInstance;
  targets: DemoTargets;
  /** The simulators that run (none for a target configured by environment variables). */
  simulators: DemoSimulators;
  flowFile: string;
  stop(): Promise<void>;
}

export async function startDemo(
  env: NodeJS.ProcessEnv = process.env,
  options: DemoOptions = {},
): Promise<Demo> {
  const log = options.log ?? ((line: string) => console.log(line));
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    while (stops.length > 0)
      await stops
        .pop()?.()
        .catch((err: Error) => log(`stopping: ${err.message}`));
  };
  const simulators: DemoSimulators = {};
  try {
    // read every variable before starting anything, so a typo fails at once
    const realMagento = magentoFromEnv(env);
    const realTryton = trytonFromEnv(env);
    const realSalesforce = salesforceFromEnv(env);
    const activityMs = intFromEnv(env, "DEMO_ACTIVITY_SECONDS", 30, 86_400) * 1000;

    let magento = realMagento;
    if (!magento) {
      const sim = await startMagentoSimulator({
        port: intFromEnv(env, "MAGENTO_SIM_PORT", DEFAULT_PORTS.magento),
        seed: DEMO_SHOP_SEED,
        orders: DEMO_SHOP_ORDERS,
        integration: defaultIntegration,
      });
      stops.push(() => sim.stop());
      simulators.magento = sim;
      magento = {
        url: sim.url,
        storeCode: "default",
        kind: "simulator",
        // the simulator's integration, used as a bearer token (Magento's enable_integration_as_bearer)
        authMode: "bearer",
        credentials: { token: defaultIntegration.accessToken },
      };
    }

    let tryton = realTryton;
    if (!tryton) {
      const sim = await startTrytonSimulator({
        port: intFromEnv(env, "TRYTON_SIM_PORT", DEFAULT_PORTS.tryton),
        password: DEMO_TRYTON_PASSWORD,
      });
      stops.push(() => sim.stop());
      simulators.tryton = sim;
      tryton = {
        url: sim.url,
        database: sim.database,
        company: "",
        credentials: { username: sim.username, password: sim.password },
        taxMap: prepareTrytonSimulator(sim),
        kind: "simulator",
      };
    }

    let salesforce = realSalesforce;
    if (!salesforce) {
      const sim = await startSalesforceSimulator({
        port: intFromEnv(env, "SALESFORCE_SIM_PORT", DEFAULT_PORTS.salesforce),
        // the org as an admin prepares it for the pack (README): unique external-ID fields and the sync hash
        externalIdFields: DEMO_SALESFORCE_FIELDS,
        customFields: { Order: [{ name: "Magento_Sync_Hash__c", length: 64 }] },
        multiCurrency: true,
        currencies: ["USD", "EUR", "GBP", "JPY"],
      });
      stops.push(() => sim.stop());
      simulators.salesforce = sim;
      const c = sim.credentials;
      salesforce = {
        loginUrl: "custom",
        customUrl: sim.url,
        apiVersion: "60.0",
        authMode: "password",
        credentials: {
          clientId: c.clientId,
          clientSecret: c.clientSecret,
          username: c.username,
          password: c.password,
          securityToken: c.securityToken,
        },
        kind: "simulator",
      };
    }
    const targets: DemoTargets = { magento, tryton, salesforce };
    if (activityMs > 0 && (simulators.magento || simulators.tryton)) {
      const stop = startActivity({
        shop: simulators.magento,
        tryton: simulators.tryton,
        everyMs: activityMs,
        log: (line) => log(`demo | ${line}`),
      });
      stops.push(async () => stop());
    }

    const userDir = env.NODE_RED_USER_DIR ? path.resolve(env.NODE_RED_USER_DIR) : undefined;
    const keep = userDir !== undefined && hasFlows(userDir) && env.DEMO_RESET !== "1";
    const flowFile = demoFlowFile(env);
    const { flows, credentials } = configureFlows(readFlows(flowFile), targets);

    const nodeRed = await startNodeRed({
      userDir,
      port: intFromEnv(env, "PORT", DEFAULT_PORTS.nodeRed),
      flows: keep ? undefined : flows,
      credentials: keep ? undefined : credentials,
      // jsforce ignores NO_PROXY (reference/salesforce-rest.md §6.6): keep the local simulator direct
      env: simulators.salesforce ? noProxy(env) : undefined,
      log: options.nodeRedLog ?? ((line) => log(`node-red | ${line}`)),
    });
    stops.push(() => nodeRed.stop());

    if (options.banner !== false) {
      const where = (url: string, kind: string) => `${url} (${kind})`;
      log("");
      log("OrderBridge demo is running.");
      log(`  Node-RED editor : ${nodeRed.url}/`);
      log(`  Magento         : ${where(magento.url, magento.kind)}`);
      log(`  Tryton          : ${where(`${tryton.url}/${tryton.database}`, tryton.kind)}`);
      log(
        `  Salesforce      : ${where(salesforce.loginUrl === "custom" ? salesforce.customUrl : salesforce.loginUrl, salesforce.kind)}`,
      );
      log(`  Flows           : ${keep ? `kept from ${userDir}` : path.relative(REPO_ROOT, flowFile)}`);
      log(`  Node-RED userDir: ${nodeRed.userDir}${userDir ? "" : " (removed on exit)"}`);
      if (activityMs > 0 && (simulators.magento || simulators.tryton)) {
        log(
          `  Every ${activityMs / 1000} s the simulated shop takes an order or the simulated Tryton ships or cancels a sale.`,
        );
      }
      log("Open the editor, pick a tab and click the inject buttons. Press Ctrl-C to stop.");
      log("");
    }
    return {
      editorUrl: `${nodeRed.url}/`,
      magentoUrl: magento.url,
      nodeRed,
      targets,
      simulators,
      flowFile,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function hasFlows(userDir: string): boolean {
  const file = path.join(userDir, "flows.json");
  return existsSync(file) && statSync(file).size > 2;
}

function noProxy(env: NodeJS.ProcessEnv): Record<string, string> | undefined {
  const names = ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"];
  if (!names.some((n) => env[n])) return undefined;
  return Object.fromEntries(names.map((n) => [n, ""]));
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
      console.log("Demo stopped.");
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
    const message = (err as Error).message;
    console.error(`The demo could not start: ${message}`);
    if (/EADDRINUSE/.test(message)) {
      console.error(
        "A port is taken (another demo still running?): choose others with PORT, MAGENTO_SIM_PORT, TRYTON_SIM_PORT, SALESFORCE_SIM_PORT.",
      );
    }
    process.exit(1);
  }
  if (stopping) await shutdown(demo);
}

if (require.main === module) void main();
