import type { Node, NodeAPI, NodeDef } from "node-red";
import { SaleImporter, type ImportSettings } from "../tryton/sale-import";
import type { TrytonConfigNode } from "./tryton-config";
import { handleOrderBatches } from "./shared/order-batch";
import { openNodeQueue, type RetryDef } from "./shared/node-queue";
import { safeError } from "./shared/report";

export interface SaleOutDef extends NodeDef, RetryDef {
  tryton: string;
  shippingProduct: string;
  discountProduct: string;
  roundingProduct?: string;
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

/** The node's settings as importer settings; the importer refuses bad JSON or an unknown time zone, naming the setting. */
export function importSettings(def: Partial<SaleOutDef>): ImportSettings {
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const category = text(def.accountCategory);
  return {
    shippingProduct: text(def.shippingProduct) || undefined,
    discountProduct: text(def.discountProduct) || undefined,
    roundingProduct: text(def.roundingProduct) || undefined,
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

export default function register(RED: NodeAPI): void {
  function TrytonSaleOut(this: Node, def: SaleOutDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.tryton) as TrytonConfigNode | null;
    let importer: SaleImporter | undefined;
    let problem: Error | undefined;
    try {
      if (!config?.client) throw new Error("tryton-sale-out: choose a complete Tryton configuration node.");
      importer = new SaleImporter(config.client, importSettings(def));
    } catch (err) {
      problem = safeError(err);
    }
    const queue = openNodeQueue(RED, this, "tryton-sale-out", "tryton", def);
    const { runner, status } = handleOrderBatches(this, {
      nodeType: "tryton-sale-out",
      problem: () => problem,
      queue,
      run: (orders, progress, signal) =>
        (importer as SaleImporter).importOrders(orders, (p) => progress(`${p.phase} ${p.done}/${p.total}`), {
          signal,
        }),
    });
    if (problem) status.error(problem);
    else
      void queue.queue.ready.then(() => {
        if (!runner.busy && queue.queue.size) status.idle(`ready${queue.statusSuffix()}`);
      });

    this.on("close", (_removed: boolean, done: () => void) => {
      runner
        .stop()
        .then(() => importer?.stop())
        .finally(() => {
          queue.close();
          done();
        });
    });
  }
  RED.nodes.registerType("tryton-sale-out", TrytonSaleOut);
}
