/**
 * The demo's simulated people, so the polling and status-export flows have something new to
 * show: customers who keep ordering in the simulated shop, and a Tryton clerk who ships sales
 * (with a tracking number in the shipment's Reference, where Tryton 6.0 keeps it) and cancels
 * quotations. They act through the simulators' own data API, never through the pack.
 */
import type { MagentoSimulator } from "./magento";
import type { TrytonSimulator } from "./tryton";

export interface SaleTouched {
  saleId: number;
  /** The sale's reference: the Magento order number. */
  reference: string;
}

/** A customer places an order in the simulated shop; returns its increment id. */
export function placeOrder(shop: MagentoSimulator): string {
  return shop.addOrder().increment_id;
}

function sales(tryton: TrytonSimulator, match: (s: Record<string, unknown>) => boolean) {
  return tryton.db.rows("sale.sale").filter(match);
}

/** Cancels a sale Tryton still lets one cancel (draft or quotation): `saleId`, or the oldest quotation. */
export function cancelSale(tryton: TrytonSimulator, saleId?: number): SaleTouched | null {
  const [sale] = sales(tryton, (s) =>
    saleId === undefined
      ? s.state === "quotation"
      : s.id === saleId && ["draft", "quotation"].includes(String(s.state)),
  );
  if (!sale) return null;
  tryton.db.call("sale.sale", "cancel", [[sale.id]]);
  return { saleId: sale.id as number, reference: String(sale.reference ?? "") };
}

/**
 * Ships the open customer shipment of a processing sale with `tracking` as its Reference, as a
 * warehouse clerk does: assign, pick, pack, done. The sale is `saleId`, or the oldest one whose
 * reference `wanted` accepts (default: any).
 */
export function shipSale(
  tryton: TrytonSimulator,
  options: { saleId?: number; tracking?: string; wanted?: (reference: string) => boolean } = {},
): (SaleTouched & { shipmentId: number; tracking: string }) | null {
  const { saleId, wanted = () => true } = options;
  const candidates = sales(
    tryton,
    (s) =>
      (saleId === undefined ? wanted(String(s.reference ?? "")) : s.id === saleId) &&
      s.state === "processing" &&
      s.shipment_state === "waiting",
  );
  for (const sale of candidates) {
    const [read] = tryton.db.call("sale.sale", "read", [[sale.id], ["shipments"]]) as Array<{
      shipments: number[];
    }>;
    const open = read.shipments.find(
      (id) => !["done", "cancelled"].includes(String(tryton.db.get("stock.shipment.out", id)?.state)),
    );
    if (open === undefined) continue;
    const tracking =
      options.tracking ?? `1ZOB${String(Date.now()).slice(-8)}${String(open).padStart(4, "0")}`;
    tryton.db.call("stock.shipment.out", "write", [[open], { reference: tracking }]);
    for (const button of ["assign_force", "pick", "pack", "done"]) {
      tryton.db.call("stock.shipment.out", button, [[open]]);
    }
    return { saleId: sale.id as number, reference: String(sale.reference ?? ""), shipmentId: open, tracking };
  }
  return null;
}

/**
 * Every `everyMs`: a new shop order on even ticks; on odd ticks the Tryton clerk ships a sale
 * or cancels a quotation, in turn. Returns the stop function.
 */
export function startActivity(options: {
  shop?: MagentoSimulator;
  tryton?: TrytonSimulator;
  everyMs: number;
  log: (line: string) => void;
}): () => void {
  const { shop, tryton, everyMs, log } = options;
  let tick = 0;
  const act = () => {
    tick += 1;
    try {
      if (tick % 2 === 0) {
        if (shop) log(`shop: a customer placed order #${placeOrder(shop)}`);
      } else if (tryton && tick % 4 === 1) {
        // ship what the shop has not shipped yet, so the export has something to send
        const unshipped = (ref: string) =>
          !shop || [...shop.orders.values()].some((o) => o.increment_id === ref && o.state === "processing");
        const shipped = shipSale(tryton, { wanted: unshipped });
        if (shipped) log(`Tryton: sale ${shipped.reference} shipped, tracking ${shipped.tracking}`);
      } else if (tryton) {
        const cancelled = cancelSale(tryton);
        if (cancelled) log(`Tryton: quotation ${cancelled.reference} cancelled`);
      }
    } catch (err) {
      log(`demo activity: ${(err as Error).message}`);
    }
  };
  const timer = setInterval(act, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
