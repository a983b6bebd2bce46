/**
 * A fault-injecting HTTP proxy for servers that cannot inject faults themselves (the real
 * Tryton 6.0): put it between a client and the server and it answers a share of the
 * requests with a fault instead of (or after) forwarding them. Seeded, so a run replays.
 *
 * Faults, and what the server did when the client sees them:
 * - `500`, `502`, `503`: an HTML error page; the request was not forwarded.
 * - `429`: `Retry-After: <retryAfterSeconds>`; not forwarded.
 * - `reset`: the connection is dropped before forwarding.
 * - `drop-answer`: forwarded and processed (a write is committed), then the connection is
 *   dropped: the client cannot tell whether its write happened (what keys are for).
 * - `slow-answer`: forwarded and processed, then the answer is held until the client gives up
 *   (its timeout) and closes the connection: "answered past the timeout" whatever the timeout
 *   and however slow the machine, as long as the client's timeout is above the server's own
 *   answer time (`slowest` tells how close a run came).
 * - `expire`: the request's session (its Authorization header) expires: HTTP 401 with an
 *   empty body as trytond sends it, now and for every later request carrying it.
 *
 * `expireSessions()` expires every session seen so far (mid-run expiry). With `tls` the proxy
 * listens on HTTPS (e.g. a self-signed certificate in front of a plain-HTTP simulator).
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";

/**
 * The client timeout to pair with `slow-answer`: far above a real Tryton's answer times on a busy
 * machine (a run prints its `slowest`), so that the server has acted before the client gives up.
 * Each held answer costs this long.
 */
export const HELD_ANSWER_TIMEOUT_MS = 30_000;

export type ProxyFault = "500" | "502" | "503" | "429" | "reset" | "drop-answer" | "slow-answer" | "expire";

export interface FaultProxyOptions {
  /** The server behind the proxy, e.g. `http://127.0.0.1:8000`. */
  target: string;
  rate?: number;
  kinds?: ProxyFault[];
  seed?: number;
  retryAfterSeconds?: number;
  /** Whether a request may get `kind` (gets the JSON-RPC method when the body has one, else the path). */
  eligible?: (kind: ProxyFault, call: string) => boolean;
  tls?: { key: string; cert: string };
  /** Deterministic faults: asked first for every request (with the call and how often it was seen). */
  plan?: (call: string, seen: number) => ProxyFault | undefined;
}

export interface FaultProxy {
  url: string;
  /** Requests seen, and faults injected by kind. */
  requests: number;
  faults: Record<string, number>;
  /** Forwarded calls by JSON-RPC method (or path). */
  calls: Record<string, number>;
  /** `slow-answer`s the client gave up on after the server had answered (closed the connection). */
  readonly abandoned: number;
  /** The server's longest answer time of the run, and for which call. */
  readonly slowest: { call: string; ms: number };
  setFaults(rate: number, kinds?: ProxyFault[]): void;
  expireSessions(): void;
  stop(): Promise<void>;
}

function dice(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function callOf(body: string, path: string): string {
  try {
    const parsed = JSON.parse(body) as { method?: unknown };
    if (typeof parsed.method === "string") return parsed.method;
  } catch {
    // not JSON-RPC
  }
  return path.split("?")[0] ?? path;
}

const errorPage = (status: number) =>
  `<!DOCTYPE html>\n<html><head><title>${status}</title></head><body><h1>${status}</h1><p>proxy fault</p></body></html>\n`;

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  let rate = options.rate ?? 0;
  let kinds: ProxyFault[] = options.kinds ?? ["500", "503", "reset"];
  const roll = dice(options.seed ?? 1);
  const expired = new Set<string>();
  const seenSessions = new Set<string>();
  const sockets = new Set<Socket>();
  let stopping = false;
  const state = {
    requests: 0,
    faults: {} as Record<string, number>,
    calls: {} as Record<string, number>,
    seen: {} as Record<string, number>,
    abandoned: 0,
    slowest: { call: "", ms: 0 },
  };
  const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      const out = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on("error", reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        state.requests += 1;
        const body = Buffer.concat(chunks);
        const call = callOf(body.toString("utf8"), req.url ?? "/");
        const auth = req.headers.authorization;
        if (auth) seenSessions.add(auth);
        const seen = count(state.seen, call);
        let fault: ProxyFault | undefined = options.plan?.(call, seen);
        if (fault === "expire" && !auth) fault = undefined;
        if (!fault && rate > 0 && roll() < rate) {
          const kind = kinds[Math.floor(roll() * kinds.length)]!;
          const applicable = kind !== "expire" || auth !== undefined;
          if (applicable && (options.eligible?.(kind, call) ?? true)) fault = kind;
        }
        if (fault === "expire" && auth) expired.add(auth);
        if (auth && expired.has(auth)) {
          count(state.faults, fault === "expire" ? "expire" : "expired-session");
          res.writeHead(401, { "Content-Length": "0" });
          res.end();
          return;
        }
        if (fault) count(state.faults, fault);
        switch (fault) {
          case "500":
          case "502":
          case "503": {
            const page = errorPage(Number(fault));
            res.writeHead(Number(fault), {
              "Content-Type": "text/html; charset=utf-8",
              "Content-Length": Buffer.byteLength(page),
            });
            res.end(page);
            return;
          }
          case "429":
            res.writeHead(429, {
              "Content-Type": "text/html; charset=utf-8",
              "Retry-After": String(options.retryAfterSeconds ?? 1),
            });
            res.end(errorPage(429));
            return;
          case "reset":
            req.socket.destroy();
            return;
          default:
            break;
        }
        count(state.calls, call);
        let answer: Awaited<ReturnType<typeof forward>>;
        const sent = Date.now();
        try {
          answer = await forward(req, body);
        } catch {
          req.socket.destroy();
          return;
        }
        const ms = Date.now() - sent;
        if (ms > state.slowest.ms) state.slowest = { call, ms };
        if (fault === "drop-answer") {
          req.socket.destroy();
          return;
        }
        if (fault === "slow-answer") {
          // Held until the client gives up and closes the connection (or the proxy stops).
          if (req.socket.destroyed) return; // it gave up before the server answered
          await new Promise<void>((resolve) => req.socket.once("close", () => resolve()));
          if (!stopping) state.abandoned += 1;
          return;
        }
        if (res.destroyed || req.socket.destroyed) return;
        const headers = { ...answer.headers };
        delete headers["transfer-encoding"];
        delete headers.connection;
        headers["content-length"] = String(answer.body.length);
        res.writeHead(answer.status, headers);
        res.end(answer.body);
      })();
    });
  };

  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler)
    : http.createServer(handler);
  server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    faults: state.faults,
    calls: state.calls,
    get abandoned() {
      return state.abandoned;
    },
    get slowest() {
      return state.slowest;
    },
    setFaults(r, k) {
      rate = r;
      if (k) kinds = k;
    },
    expireSessions() {
      for (const s of seenSessions) expired.add(s);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
