/**
 * Shared setup of the status-export tests: Magento orders placed in the simulator (the
 * fixture order: simple, downloadable, bundle, configurable), and what a merchant does in
 * Tryton afterwards — cancel a quotation, complete a customer shipment (whole or partial,
 * with a tracking reference), post the invoice.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import type { MagentoSimulator } from "../../src/sandbox/magento";
import type { StatusCursor, CursorStore } from "../../src/sync/status-export";
import type { TrytonClient, TrytonRecord } from "../../src/tryton/rpc";

export type RawOrder = Record<string, unknown> & {
  entity_id: number;
  increment_id: string;
  items: Array<Record<string, unknown>>;
};

/** The fixture order as a new Magento order: its own entity and increment id, a state, the simple item's quantity. */
export function fixtureOrder(entityId: number, state: "new" | "processing", teeQty = 1): RawOrder {
  const file = path.join(__dirname, "..", "fixtures", "magento", "order-customer-bundle-downloadable.json");
  const o = JSON.parse(readFileSync(file, "utf8")) as RawOrder;
  const extra = 22 * (teeQty - 1);
  Object.assign(o, {
    entity_id: entityId,
    increment_id: `7${String(entityId).padStart(8, "0")}`,
    state,
    status: state === "new" ? "pending" : "processing",
    grand_total: (o.grand_total as number) + extra,
    base_grand_total: (o.base_grand_total as number) + extra,
    subtotal: (o.subtotal as number) + extra,
    base_subtotal: (o.base_subtotal as number) + extra,
  });
  for (const item of o.items) {
    item.order_id = entityId;
    if (item.item_id === 3)
      Object.assign(item, { qty_ordered: teeQty, row_total: 22 * teeQty, base_row_total: 22 * teeQty });
  }
  return o;
}

/** Places the order in the simulator and returns it as Magento serves it. */
export function placeOrder(sim: MagentoSimulator, raw: RawOrder): RawOrder {
  sim.addOrder(structuredClone(raw));
  return structuredClone(sim.orders.get(raw.entity_id)) as unknown as RawOrder;
}

/** A cursor kept in memory, as a node's context would keep it. */
export function memoryCursor(): CursorStore & { value: StatusCursor | null } {
  const store = {
    value: null as StatusCursor | null,
    load: async () => (store.value ? structuredClone(store.value) : null),
    save: async (cursor: StatusCursor | null) => {
      store.value = cursor ? structuredClone(cursor) : null;
    },
  };
  return store;
}

/** Magento's write routes and how often each was called. */
export function writes(sim: MagentoSimulator): Record<string, number> {
  return Object.fromEntries(Object.entries(sim.counters).filter(([route]) => route.startsWith("POST ")));
}

/**
 * What a merchant does in Tryton, over JSON-RPC. `settle` waits for the server's worker (the
 * sale's `process` after confirm, after a shipment): a clerk sees the shipment once it exists.
 */
export class TrytonDesk {
  constructor(
    readonly client: TrytonClient,
    private readonly settle: () => Promise<void> = async () => undefined,
  ) {}

  async cancel(saleId: number): Promise<void> {
    await this.client.button("sale.sale", "cancel", [saleId]);
    const [sale] = await this.client.read("sale.sale", [saleId], ["state"]);
    if (sale?.state !== "cancelled")
      throw new Error(`sale ${saleId} is ${String(sale?.state)}, not cancelled`);
  }

  /** Customer shipments of the sale that are not done or cancelled. */
  async openShipments(saleId: number): Promise<number[]> {
    await this.settle();
    const [sale] = await this.client.read("sale.sale", [saleId], ["shipments"]);
    const rows = await this.client.read("stock.shipment.out", (sale?.shipments as number[]) ?? [], ["state"]);
    return rows.filter((r) => !["done", "cancelled"].includes(String(r.state))).map((r) => r.id);
  }

  /**
   * Completes a customer shipment with `reference` as tracking number. `only` ships fewer
   * units of a product (by code): the inventory move is reduced before packing, as a
   * warehouse clerk does, and trytond 6.0 syncs the outgoing move to it and creates a
   * backorder for the rest. The outgoing move is reduced too, which trytond does itself on
   * pack, for servers that do not.
   */
  async ship(shipmentId: number, reference: string | null, only: Record<string, number> = {}): Promise<void> {
    const [shipment] = await this.client.read(
      "stock.shipment.out",
      [shipmentId],
      ["inventory_moves", "outgoing_moves"],
    );
    const moves: TrytonRecord[] = await this.client.read(
      "stock.move",
      [...((shipment?.inventory_moves as number[]) ?? []), ...((shipment?.outgoing_moves as number[]) ?? [])],
      ["product.code"],
    );
    for (const [code, qty] of Object.entries(only)) {
      const ids = moves
        .filter((m) => (m["product."] as { code?: string } | null)?.code === code)
        .map((m) => m.id);
      if (ids.length) await this.client.write("stock.move", ids, { quantity: qty });
    }
    if (reference !== null) await this.client.write("stock.shipment.out", [shipmentId], { reference });
    for (const button of ["assign_force", "pick", "pack", "done"]) {
      await this.client.button("stock.shipment.out", button, [shipmentId]);
    }
    const [done] = await this.client.read("stock.shipment.out", [shipmentId], ["state"]);
    if (done?.state !== "done") throw new Error(`shipment ${shipmentId} is ${String(done?.state)}, not done`);
    await this.settle();
  }

  async postInvoices(saleId: number): Promise<void> {
    await this.settle();
    const [sale] = await this.client.read("sale.sale", [saleId], ["invoices"]);
    const ids = (sale?.invoices as number[]) ?? [];
    await this.client.button("account.invoice", "validate_invoice", ids);
    await this.client.button("account.invoice", "post", ids);
    await this.settle();
  }
}
