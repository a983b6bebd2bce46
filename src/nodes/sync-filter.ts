import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import {
  filterOrders,
  parseFilterRules,
  type FilterOutcome,
  type FilterSettings,
} from "../sync/filter-rules";
import { progressStatus, safeError } from "./shared/report";
import { intakeOf, recordResults } from "../sync/sync-log";

export interface SyncFilterDef extends NodeDef, FilterSettings {
  /** Optional: only the editor uses it, to list the store views. */
  magento?: string;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}

function counts(outcome: FilterOutcome): { text: string; warn: boolean } {
  const invalid = outcome.held.filter((h) => h.result.action === "failed").length;
  const skipped = outcome.held.length - invalid;
  const text = `${outcome.passed.length} passed, ${skipped} skipped${invalid ? `, ${invalid} invalid` : ""}`;
  return { text, warn: invalid > 0 };
}

export default function register(RED: NodeAPI): void {
  function SyncFilter(this: Node, def: SyncFilterDef) {
    RED.nodes.createNode(this, def);
    const status = progressStatus(this);
    let rules: ReturnType<typeof parseFilterRules>;
    try {
      rules = parseFilterRules(def);
    } catch (err) {
      const problem = safeError(err);
      status.error(problem);
      this.on("input", (_msg: NodeMessageInFlow, _send, done) => {
        status.error(problem);
        done(problem);
      });
      return;
    }

    this.on("input", (msg, send, done) => {
      const payload = msg.payload;
      const single = !Array.isArray(payload);
      if (single && (payload === null || typeof payload !== "object")) {
        const err = new Error(
          `sync-filter: msg.payload must be a Magento order or an array of orders (got ${describe(payload)}).`,
        );
        status.error(err);
        done(err);
        return;
      }
      const outcome = filterOrders(single ? [payload] : payload, rules);
      const invalid = single ? outcome.held.find((h) => h.result.action === "failed") : undefined;
      if (invalid?.result.error) {
        const err = new Error(`sync-filter: ${invalid.result.error.message}`);
        status.error(err);
        done(err);
        return;
      }
      const base = msg as NodeMessage;
      const pass = outcome.passed.length
        ? { ...base, payload: single ? outcome.passed[0] : outcome.passed }
        : null;
      const held = outcome.held.length
        ? {
            ...base,
            payload: outcome.held.map((h) => h.result),
            skipped: outcome.held.map((h) => h.order),
          }
        : null;
      recordResults(
        { nodeId: this.id, nodeType: "sync-filter", ...intakeOf(msg) },
        outcome.held.map((h) => h.result),
      );
      const shown = counts(outcome);
      status.done(shown.text, shown.warn);
      if (pass || held) send([pass, held]);
      done();
    });
  }
  RED.nodes.registerType("sync-filter", SyncFilter);
}
