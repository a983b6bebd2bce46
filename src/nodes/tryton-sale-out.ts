import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import type { SyncResult } from "../sync/result";
import { SaleImporter, type ImportSettings } from "../tryton/sale-import";
import type { TrytonConfigNode } from "./tryton-config";
import { progressStatus, safeError } from "./shared/report";
import { SerialRunner } from "./shared/serial";

export interface SaleOutDef extends NodeDef {
  tryton: string;
  shippingProduct: string;
  discountProduct: string;
  /** JSON: Magento tax percent → Tryton tax ids. */
  taxMap: string;
  bundle: "parent" | "children";
  referencePrefix: string;
  timeZone: string;
  /** JSON: Magento state → Tryton target (merged over the defaults). */
  stateMap: string;
  mismatch: "hold" | "proceed";
  accountCategory: string;
  productType: "auto" | "goods" | "service";
}

/** The node's settings as importer settings (bad JSON or an unknown time zone throw, naming the setting). */
export function importSettings(def: Partial<SaleOutDef>): ImportSettings {
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const category = text(def.accountCategory);
  return {
    shippingProduct: text(def.shippingProduct) || undefined,
    discountProduct: text(def.discountProduct) || undefined,
    taxMap: text(def.taxMap),
    bundle: def.bundle === "children" ? "children" : "parent",
    referencePrefix: typeof def.referencePrefix === "string" ? def.referencePrefix : "",
    timeZone: text(def.timeZone) || "UTC",
    stateMap: text(def.stateMap),
    mismatch: def.mismatch === "proceed" ? "proceed" : "hold",
    accountCategory: /^\d+$/.test(category) ? Number(category) : category || null,
    productType: def.productType === "goods" || def.productType === "service" ? def.productType : "auto",
  };
}

/** msg.payload: one order or a page of them. */
function ordersOf(payload: unknown): unknown[] {
  if (Array.isArray(payload)) return payload;
  if (payload && typeof payload === "object") return [payload];
  throw new Error("tryton-sale-out: msg.payload must be a Magento order or an array of orders.");
}

function counts(results: SyncResult[]): { text: string; warn: boolean } {
  const n = (a: string) => results.filter((r) => r.action === a && !r.error).length;
  const attention = results.filter((r) => r.error).length;
  const parts = [
    [n("created"), "new"],
    [n("updated"), "upd"],
    [n("unchanged") + n("skipped"), "same"],
    [attention, "failed"],
  ].filter(([count]) => count);
  const text = parts.map(([count, what]) => `${count} ${what}`).join(", ") || "0 orders";
  return { text, warn: attention > 0 };
}

export default function register(RED: NodeAPI): void {
  function TrytonSaleOut(this: Node, def: SaleOutDef) {
    RED.nodes.createNode(this, def);
    const status = progressStatus(this);
    const config = RED.nodes.getNode(def.tryton) as TrytonConfigNode | null;
    let importer: SaleImporter | undefined;
    let problem: Error | undefined;
    try {
      if (!config?.client) throw new Error("tryton-sale-out: choose a complete Tryton configuration node.");
      importer = new SaleImporter(config.client, importSettings(def));
    } catch (err) {
      problem = safeError(err);
      status.error(problem);
    }
    const runner = new SerialRunner();

    this.on("input", (msg: NodeMessageInFlow, send, done) => {
      let orders: unknown[];
      try {
        if (!importer) throw problem ?? new Error("tryton-sale-out is not configured");
        orders = ordersOf(msg.payload);
      } catch (err) {
        status.error(err);
        done(safeError(err));
        return;
      }
      const run = importer;
      runner
        .run((signal) => {
          status.busy(`importing ${orders.length}…`);
          return run.importOrders(orders, (p) => status.busy(`${p.phase} ${p.done}/${p.total}`), { signal });
        })
        .then(({ results, failures }) => {
          const shown = counts(results);
          status.done(shown.text, shown.warn);
          const base = msg as NodeMessage;
          send([{ ...base, payload: results }, failures.length ? { ...base, payload: failures } : null]);
          done();
        })
        .catch((err: unknown) => {
          status.error(err);
          done(safeError(err));
        });
    });

    this.on("close", (_removed: boolean, done: () => void) => {
      runner
        .stop()
        .then(() => importer?.stop())
        .finally(done);
    });
  }
  RED.nodes.registerType("tryton-sale-out", TrytonSaleOut);
}
