/**
 * What the scenarios measure with: wall time, a per-method profile of Tryton RPC calls (the
 * time between sending a request and its answer), peak RSS of a process, and small number
 * formatting.
 */
import { readFileSync } from "node:fs";
import type { InternalAxiosRequestConfig } from "axios";
import type { TrytonClient } from "../src/tryton/rpc";

export const now = (): number => performance.now();

/** Seconds, from a `now()` start. */
export const since = (start: number): number => (now() - start) / 1000;

/** Every JSON-RPC call a client sends, by method (`model.sale.sale.confirm`): count and time. */
export class RpcProfile {
  readonly calls = new Map<string, { count: number; ms: number }>();
  private readonly starts = new WeakMap<object, number>();
  total = 0;

  constructor(client: TrytonClient) {
    client.http.interceptors.request.use((config: InternalAxiosRequestConfig) => {
      this.starts.set(config, now());
      return config;
    });
    const done = (config: InternalAxiosRequestConfig | undefined) => {
      if (!config) return;
      const started = this.starts.get(config);
      if (started === undefined) return;
      this.starts.delete(config);
      const method = (JSON.parse(String(config.data)) as { method: string }).method;
      const entry = this.calls.get(method) ?? { count: 0, ms: 0 };
      entry.count += 1;
      entry.ms += now() - started;
      this.calls.set(method, entry);
      this.total += 1;
    };
    client.http.interceptors.response.use(
      (res) => {
        done(res.config);
        return res;
      },
      (err: { config?: InternalAxiosRequestConfig }) => {
        done(err.config);
        return Promise.reject(err);
      },
    );
  }

  reset(): void {
    this.calls.clear();
    this.total = 0;
  }

  /** The methods that took the most time: `[method, count, seconds, share of the wall time]`. */
  top(wallSeconds: number, n = 6): Array<{ method: string; calls: number; seconds: number; share: number }> {
    return [...this.calls.entries()]
      .map(([method, v]) => ({
        method,
        calls: v.count,
        seconds: v.ms / 1000,
        share: v.ms / 1000 / wallSeconds,
      }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, n);
  }
}

/** Peak resident set size (VmHWM) of a process, in MB; undefined when it is gone. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current resident set size (VmRSS) of a process, in MB. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** 3 significant digits, e.g. 1234 → 1230, 0.01234 → 0.0123. */
export function sig(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}
