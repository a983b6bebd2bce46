import type { Node, NodeAPI, NodeDef } from "node-red";
import type { Request, Response } from "express";
import { OrderPusher, type PushSummary } from "../salesforce/order-pusher";
import type { SalesforceSession } from "../salesforce/session";
import type { PushSettingsInput } from "../salesforce/settings";
import type { SalesforceConfigNode } from "./salesforce-config";
import { handleOrderBatches } from "./shared/order-batch";
import { openNodeQueue, type RetryDef } from "./shared/node-queue";
import { errorText, safeError } from "./shared/report";

export interface OrderOutDef extends NodeDef, RetryDef {
  salesforce: string;
  defaultStatus: string;
  /** JSON: Magento status → Salesforce status. */
  statusMap: string;
  activatedOrders: "report" | "reopen";
  updateOrders: boolean;
  syncNotes: boolean;
  pricebook: string;
  accountMatch: "email" | "customer";
  contacts: boolean;
  instanceKey: string;
  orderKeyField: string;
  itemKeyField: string;
  accountKeyField: string;
  contactKeyField: string;
  skuField: string;
  hashField: string;
  shippingSku: string;
  discountSku: string;
  taxSku: string;
  roundingSku: string;
  bundle: "parent" | "children";
  amounts: "order" | "base";
  timeZone: string;
}

/** The node's settings as pusher settings (bad JSON or an unknown time zone throw, naming the setting). */
export function pushSettingsOf(def: Partial<OrderOutDef>): PushSettingsInput {
  const flag = (v: unknown, fallback: boolean) => (typeof v === "boolean" ? v : fallback);
  const text = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    defaultStatus: text(def.defaultStatus),
    statusMap: text(def.statusMap),
    activatedOrders: def.activatedOrders,
    updateOrders: flag(def.updateOrders, true),
    syncNotes: flag(def.syncNotes, true),
    pricebook: text(def.pricebook),
    accountMatch: def.accountMatch,
    contacts: flag(def.contacts, true),
    instanceKey: text(def.instanceKey),
    fields: {
      orderKey: text(def.orderKeyField),
      itemKey: text(def.itemKeyField),
      accountKey: text(def.accountKeyField),
      contactKey: text(def.contactKeyField),
      sku: text(def.skuField),
      hash: text(def.hashField),
    } as PushSettingsInput["fields"],
    shippingSku: text(def.shippingSku),
    discountSku: text(def.discountSku),
    taxSku: text(def.taxSku),
    roundingSku: text(def.roundingSku),
    bundle: def.bundle,
    amounts: def.amounts,
    timeZone: text(def.timeZone),
  };
}

function apiUsage(session: SalesforceSession): string | undefined {
  const usage = session.lastApiUsage();
  return usage ? `API ${usage.used}/${usage.limit}` : undefined;
}

export default function register(RED: NodeAPI): void {
  function SalesforceOrderOut(this: Node, def: OrderOutDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.salesforce) as SalesforceConfigNode | null;
    let pusher: OrderPusher | undefined;
    let problem: Error | undefined;
    try {
      if (!config) throw new Error("salesforce-order-out: choose a Salesforce configuration node.");
      if (!config.session) throw config.problem ?? new Error("The Salesforce configuration is incomplete.");
      pusher = new OrderPusher(config.session, pushSettingsOf(def));
    } catch (err) {
      problem = safeError(err);
    }
    const queue = openNodeQueue(RED, this, "salesforce-order-out", "salesforce", def);
    const { runner, status } = handleOrderBatches<PushSummary>(this, {
      nodeType: "salesforce-order-out",
      problem: () => problem,
      queue,
      run: (orders, progress, signal) =>
        (pusher as OrderPusher).push(orders, (p) => progress(`${p.done}/${p.total} orders`), { signal }),
      suffix: () => (pusher ? apiUsage(pusher.session) : undefined),
    });

    if (problem) status.error(problem);
    else if (pusher) {
      // Setup check at start: a wrong Default Status or a missing field shows at once, before any order.
      const checking = pusher;
      status.busy("checking setup…");
      checking.checkSetup().then(
        (setup) => {
          for (const warning of setup.warnings) this.warn(warning);
          void queue.queue.ready.then(() => {
            if (!runner.busy) status.idle(`ready · ${setup.pricebookName}${queue.statusSuffix()}`);
          });
        },
        (err: unknown) => {
          status.error(err);
          this.error(errorText(err));
        },
      );
    }

    this.on("close", (_removed: boolean, done: () => void) => {
      runner.stop().finally(() => {
        queue.close();
        done();
      });
    });
  }
  RED.nodes.registerType("salesforce-order-out", SalesforceOrderOut);

  // The editor's "Check setup" button: the setup check with the settings in the dialog, saved or not.
  RED.httpAdmin.post(
    "/orderbridge/salesforce/:id/setup-check",
    RED.auth.needsPermission("salesforce-order-out.write"),
    async (req: Request, res: Response) => {
      const config = RED.nodes.getNode(String(req.params.id)) as SalesforceConfigNode | null;
      if (!config) {
        res.status(404).json({ ok: false, problems: ["Deploy the Salesforce configuration first."] });
        return;
      }
      try {
        if (!config.session) throw config.problem ?? new Error("The Salesforce configuration is incomplete.");
        const pusher = new OrderPusher(
          config.session,
          pushSettingsOf((req.body ?? {}) as Partial<OrderOutDef>),
        );
        const setup = await pusher.checkSetup();
        res.json({
          ok: true,
          warnings: setup.warnings,
          statuses: setup.statuses,
          pricebook: setup.pricebookName,
          multiCurrency: setup.multiCurrency,
          currencies: setup.currencies,
        });
      } catch (err) {
        const problems = (err as { problems?: string[] }).problems;
        res.json({ ok: false, problems: problems ?? [errorText(err)] });
      }
    },
  );
}
