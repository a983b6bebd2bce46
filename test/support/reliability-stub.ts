/**
 * A tiny local HTTP server that answers what broken servers and proxies answer: invalid JSON,
 * HTML error pages, bodies cut off mid-way, the wrong content type, nothing at all. Optionally
 * it forwards everything else to a real server (a simulator), so that a client can log in
 * first and meet the broken answer on a data call.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export const malformedKinds = [
  "invalid-json",
  "html-200",
  "html-502",
  "truncated",
  "cut-json",
  "wrong-content-type",
  "empty",
  "wrong-shape",
] as const;
export type Malformed = (typeof malformedKinds)[number];

const html = `<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>We'll be back soon</h1><p>Maintenance in progress.</p></body></html>`;

/** Writes one malformed answer. `valid` is a well-formed JSON body for the route (used by the kinds that damage it). */
export function sendMalformed(res: http.ServerResponse, kind: Malformed, valid: string): void {
  switch (kind) {
    case "invalid-json":
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{items: [nope], 'total_count': NaN}");
      return;
    case "html-200":
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(html);
      return;
    case "html-502":
      res.writeHead(502, { "Content-Type": "text/html; charset=utf-8" });
      res.end(html.replace("Service Unavailable", "502 Bad Gateway"));
      return;
    case "truncated": {
      // Promises more than it sends, then hangs up.
      const half = valid.slice(0, Math.max(1, Math.floor(valid.length / 2)));
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": String(Buffer.byteLength(valid) + 100),
      });
      res.write(half);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    case "cut-json": {
      const cut = valid.slice(0, Math.max(1, Math.floor(valid.length / 2)));
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": String(Buffer.byteLength(cut)),
      });
      res.end(cut);
      return;
    }
    case "wrong-content-type":
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(valid);
      return;
    case "empty":
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "0" });
      res.end();
      return;
    case "wrong-shape":
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(["unexpected", { shape: true }]));
      return;
  }
}

export interface Stub {
  url: string;
  /** Requests answered malformed. */
  hits: number;
  set(kind: Malformed | undefined): void;
  stop(): Promise<void>;
}

/**
 * `valid(req)` gives a well-formed body for the route; `breaks(req)` says whether this request gets
 * the malformed answer (default every request). With `forward`, other requests go to that server.
 */
export async function startStub(opts: {
  valid: (path: string, body: string) => string;
  breaks?: (path: string, body: string) => boolean;
  forward?: string;
  /** Told every request path (a spy). */
  seen?: (path: string) => void;
}): Promise<Stub> {
  let kind: Malformed | undefined;
  let hits = 0;
  const sockets = new Set<Socket>();
  const target = opts.forward ? new URL(opts.forward) : undefined;
  let self = "";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = req.url ?? "/";
      opts.seen?.(url);
      if (kind && (opts.breaks?.(url, body) ?? true)) {
        hits += 1;
        sendMalformed(res, kind, opts.valid(url, body));
        return;
      }
      if (!target) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(opts.valid(url, body));
        return;
      }
      const out = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: url,
          method: req.method,
          headers: { ...req.headers, host: target.host, "accept-encoding": "identity" },
        },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            // Links in the answer (instance_url, nextRecordsUrl …) point back through the stub.
            const text = Buffer.concat(parts).toString("utf8").split(target.origin).join(self);
            const headers = { ...answer.headers, "content-length": String(Buffer.byteLength(text)) };
            delete headers["transfer-encoding"];
            res.writeHead(answer.statusCode ?? 502, headers);
            res.end(text);
          });
        },
      );
      out.on("error", () => res.socket?.destroy());
      out.end(body);
    });
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    get hits() {
      return hits;
    },
    set(k) {
      kind = k;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
