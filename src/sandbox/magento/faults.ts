/**
 * Seeded fault injection: a fault replaces the normal answer of a matched route with a
 * Magento-like 500 / 503 JSON body, a 429 with `Retry-After`, a reset socket, or a slow answer.
 * The admin-token route only gets faults when `routes` matches it explicitly.
 */
import { Prng } from "./prng";
import type { FaultKind, FaultOptions } from "./types";

const defaultKinds: FaultKind[] = ["500", "503", "429", "reset"];
const tokenRoute = "POST /V1/integration/admin/token";

export type Fault =
  | { kind: "500" | "503" | "429"; status: number; body: unknown; headers: Record<string, string> }
  | { kind: "reset" }
  | { kind: "slow"; delayMs: number };

export class FaultInjector {
  private options: FaultOptions | undefined;
  private rng = new Prng(1);

  constructor(options: FaultOptions | undefined) {
    this.set(options);
  }

  set(options: FaultOptions | undefined): void {
    this.options = options;
    this.rng = new Prng(options?.seed ?? 1);
  }

  /** The fault for this request, if any. */
  decide(routeKey: string): Fault | undefined {
    const o = this.options;
    if (!o || o.rate <= 0) return undefined;
    if (o.routes ? !o.routes.test(routeKey) : routeKey === tokenRoute) return undefined;
    if (!this.rng.chance(o.rate)) return undefined;
    const kind = this.rng.pick(o.kinds && o.kinds.length > 0 ? o.kinds : defaultKinds);
    switch (kind) {
      case "reset":
        return { kind };
      case "slow":
        return { kind, delayMs: o.slowMs ?? 15_000 };
      case "429":
        return {
          kind,
          status: 429,
          body: { message: "Too Many Requests" },
          headers: { "Retry-After": String(o.retryAfterSeconds ?? 1) },
        };
      case "503":
        return { kind, status: 503, body: { message: "Service Unavailable" }, headers: {} };
      default:
        return {
          kind: "500",
          status: 500,
          body: {
            message: `Internal Error. Details are available in Magento log file. Report ID: webapi-${this.rng.hex(13)}`,
          },
          headers: {},
        };
    }
  }
}
