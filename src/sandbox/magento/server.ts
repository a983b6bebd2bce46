/**
 * The HTTP side of the Magento simulator (node:http): routing, authentication, counters,
 * latency, faults, JSON in and out. Binds to 127.0.0.1 by default; `stop()` closes every socket.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Authenticator } from "./auth";
import { clock as sharedClock } from "./clock";
import { badRequest, bodies, internalError, MagentoHttpError, notAuthorized } from "./errors";
import { FaultInjector } from "./faults";
import { applyFields, parseFields } from "./fields";
import { routes } from "./handlers";
import { parsePhpQuery, splitOnce } from "./query";
import { matchRoute } from "./routes";
import { generateOrders } from "./seed";
import { OrderStore } from "./store";
import type { IntegrationOptions, MagentoSimulator, MagentoSimulatorOptions, StoreView } from "./types";

export const defaultStoreViews: StoreView[] = [
  { id: 1, code: "default", name: "Default Store View", website_id: 1, store_group_id: 1, is_active: 1 },
  { id: 2, code: "fr", name: "French Store View", website_id: 1, store_group_id: 1, is_active: 1 },
];

/** StoreRepository::getList includes the admin store (id 0). */
const adminStoreView: StoreView = {
  id: 0,
  code: "admin",
  name: "Admin",
  website_id: 0,
  store_group_id: 0,
  is_active: 1,
};

/** Integration credentials when none are given: 32 characters, like Magento's. */
export const defaultIntegration: Required<IntegrationOptions> = {
  consumerKey: "simconsumerkey000000000000000001",
  consumerSecret: "simconsumersecret000000000000001",
  accessToken: "simaccesstoken000000000000000001",
  accessTokenSecret: "simaccesstokensecret000000000001",
  bearerEnabled: true,
};

export const defaultAdmin = { username: "admin", password: "admin123" };

const restMethods = new Set(["GET", "POST", "PUT", "DELETE"]);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Rest\Request::getBodyParams: only a non-empty body is decoded, and only from JSON. */
function parseBody(raw: string, contentTypeHeader: string | undefined): unknown {
  if (raw === "") return undefined;
  const [type, ...params] = (contentTypeHeader ?? "").split(";").map((s) => s.trim().toLowerCase());
  if (!type) throw badRequest("Content-Type header is empty.");
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8);
  if (charset && charset !== "utf-8") throw badRequest("UTF-8 is the only supported charset.");
  if (type !== "application/json") {
    throw badRequest("Server cannot understand Content-Type HTTP header media type %1", [type]);
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw badRequest("Decoding error.");
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

export async function startMagentoSimulator(opts: MagentoSimulatorOptions = {}): Promise<MagentoSimulator> {
  const host = opts.host ?? "127.0.0.1";
  const clock = opts.clock ?? sharedClock;
  const seed = opts.seed ?? 1;
  const seedOptions = { taxSettings: opts.taxSettings };
  const store = new OrderStore(
    generateOrders(opts.orders ?? 60, seed, seedOptions),
    clock,
    seed,
    seedOptions,
  );
  const auth = new Authenticator(
    opts.admin ?? defaultAdmin,
    { ...defaultIntegration, ...opts.integration },
    clock,
  );
  const faults = new FaultInjector(opts.faults);
  const storeViews = [adminStoreView, ...(opts.stores ?? defaultStoreViews)];
  const storeCodes = new Set(["default", ...storeViews.filter((s) => s.id !== 0).map((s) => s.code)]);
  const counters: Record<string, number> = {};
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const count = (key: string) => {
    counters[key] = (counters[key] ?? 0) + 1;
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const [rawPath, rawQuery = ""] = splitOnce(req.url ?? "/", "?");
    const rawBody = await readBody(req);
    if (opts.latencyMs) await sleep(opts.latencyMs);
    // Rest\Request::getHttpMethod accepts only these four.
    if (!restMethods.has(method)) return send(res, 400, { message: "Request method is invalid." });
    const match = matchRoute(routes, method, rawPath, storeCodes);
    if (match.kind !== "route") {
      count("unmatched");
      return send(res, match.kind === "none" ? 404 : 405, bodies.routeNotFound);
    }
    count(match.key);
    sim.onRequest?.(match.key);
    const fault = faults.decide(match.key);
    if (fault) {
      count("faults");
      if (fault.kind === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault.kind === "slow") await sleep(fault.delayMs);
      else return send(res, fault.status, fault.body, fault.headers);
    }
    try {
      if (match.route.acl.length > 0) {
        const caller = auth.identify({
          method,
          scheme: "http",
          host: req.headers.host ?? `${host}:${sim.port}`,
          rawPath,
          rawQuery,
          authorization: req.headers.authorization,
        });
        if (caller === "guest") throw notAuthorized(match.route.acl);
      }
      const query = parsePhpQuery(rawQuery);
      const result = match.route.handle({
        params: match.params,
        query,
        body: parseBody(rawBody, req.headers["content-type"]),
        store,
        storeViews,
        inputLimit: opts.inputLimit ?? true,
        overflowMode: opts.overflowMode ?? "empty",
        issueAdminToken: (body) => auth.issueAdminToken(body),
      });
      const fields = typeof query.fields === "string" ? parseFields(query.fields) : null;
      send(res, 200, fields && typeof result === "object" ? applyFields(result, fields) : result);
    } catch (err) {
      if (err instanceof MagentoHttpError) return send(res, err.status, err.body, err.headers);
      console.error("magento simulator:", err);
      const e = internalError(Date.now().toString(16));
      send(res, e.status, e.body);
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error("magento simulator:", err);
      res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;

  const sim: MagentoSimulator = {
    url: `http://${host}:${port}`,
    port,
    orders: store.orders,
    shipments: store.shipments,
    invoices: store.invoices,
    counters,
    clock,
    resetCounters: () => {
      for (const key of Object.keys(counters)) delete counters[key];
    },
    setFaults: (f) => faults.set(f),
    touchOrder: (entityId, patch) => store.touch(entityId, patch),
    addOrder: (partial) => store.add(partial),
    expireTokens: () => auth.expireTokens(),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return stopping;
    },
  };
  return sim;
}
