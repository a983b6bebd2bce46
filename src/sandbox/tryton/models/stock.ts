/**
 * `stock.shipment.out` and `stock.move` (trytond 6.0 stock + sale/stock.py): the
 * customer shipment a processed sale creates, its button workflow
 * (waiting → assigned → picked → packed → done, cancel) with silent skips, and the sale
 * re-processing that follows `done` and `cancel`. 6.0 has no tracking number on a
 * shipment (that is the stock_package_shipping module): `reference` is free text.
 */
import { defineModel } from "../registry";
import type { Env, Rec } from "../orm";
import type { ModelDef } from "../schema";
import { char, date, float, fn, many2one, numeric, one2many, reference, selection, text } from "../schema";
import { companyDefault } from "./base";
import { queueSaleProcess } from "./sale";

const SHIPMENT_TRANSITIONS = new Set([
  "draft>waiting",
  "waiting>assigned",
  "waiting>picked",
  "assigned>picked",
  "waiting>packed",
  "picked>packed",
  "packed>done",
  "assigned>waiting",
  "waiting>waiting",
  "waiting>draft",
  "draft>cancelled",
  "waiting>cancelled",
  "assigned>cancelled",
  "picked>cancelled",
  "packed>cancelled",
  "cancelled>draft",
]);

const move = defineModel({
  name: "stock.move",
  string: "Stock Move",
  order: [["id", "DESC"]],
  company: (rec) => rec.num("company"),
  fields: {
    product: many2one("product.product", "Product", { required: true }),
    quantity: float("Quantity", { required: true }),
    uom: many2one("product.uom", "Uom", { required: true }),
    from_location: many2one("stock.location", "From Location", { required: true }),
    to_location: many2one("stock.location", "To Location", { required: true }),
    shipment_out: many2one("stock.shipment.out", "Customer Shipment", { ondelete: "CASCADE" }),
    shipment: fn(
      reference("Shipment"),
      (rec) => (rec.row.shipment_out ? `stock.shipment.out,${String(rec.row.shipment_out)}` : null),
      true,
    ),
    origin: reference("Origin"),
    state: selection(
      "State",
      [
        ["staging", "Staging"],
        ["draft", "Draft"],
        ["assigned", "Assigned"],
        ["done", "Done"],
        ["cancelled", "Cancelled"],
      ],
      { required: true, default: () => "draft" },
    ),
    planned_date: date("Planned Date"),
    effective_date: date("Effective Date"),
    unit_price: numeric("Unit Price", { digits: [16, 4] }),
    currency: many2one("currency.currency", "Currency"),
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
    sale: many2one("sale.sale", "Sale"),
  },
  recName: (rec) => {
    const uom = rec.ref("uom");
    const product = rec.ref("product");
    const digits = uom && uom.exists() ? (uom.num("digits") ?? 2) : 2;
    const symbol = uom && uom.exists() ? (uom.str("symbol") ?? "") : "";
    return `${(rec.num("quantity") ?? 0).toFixed(digits)}${symbol} ${product && product.exists() ? product.recName : ""}`;
  },
});

function movesOf(rec: Rec): Rec[] {
  return rec.refs("moves");
}

/** Outgoing moves go to a customer location; inventory moves go from storage to output. */
function isOutgoing(_shipment: Rec, m: Rec): boolean {
  const to = m.ref("to_location");
  return to !== null && to.exists() && to.get("type") === "customer";
}

const shipmentOut = defineModel({
  name: "stock.shipment.out",
  string: "Customer Shipment",
  order: [
    ["effective_date", "ASC NULLS LAST"],
    ["id", "ASC"],
  ],
  restricted: true,
  company: (rec) => rec.num("company"),
  recNameField: "number",
  fields: {
    number: char("Number", { readonly: true }),
    reference: char("Reference"),
    customer: many2one("party.party", "Customer", { required: true }),
    delivery_address: many2one("party.address", "Delivery Address", {
      required: true,
      domain: (rec) => [["party", "=", rec.get("customer")]],
    }),
    company: many2one("company.company", "Company", { required: true, default: companyDefault }),
    warehouse: many2one("stock.location", "Warehouse", { required: true }),
    effective_date: date("Effective Date"),
    planned_date: date("Planned Date"),
    state: selection(
      "State",
      [
        ["draft", "Draft"],
        ["waiting", "Waiting"],
        ["assigned", "Assigned"],
        ["picked", "Picked"],
        ["packed", "Packed"],
        ["done", "Done"],
        ["cancelled", "Cancelled"],
      ],
      { required: true, readonly: true, default: () => "draft" },
    ),
    moves: one2many("stock.move", "shipment_out", "Moves"),
    outgoing_moves: fn(one2many("stock.move", "shipment_out", "Outgoing Moves"), (rec) =>
      movesOf(rec)
        .filter((m) => isOutgoing(rec, m))
        .map((m) => m.id),
    ),
    inventory_moves: fn(one2many("stock.move", "shipment_out", "Inventory Moves"), (rec) =>
      movesOf(rec)
        .filter((m) => !isOutgoing(rec, m))
        .map((m) => m.id),
    ),
    origins: fn(text("Origins"), (rec) => origins(rec)),
  },
  beforeCreate: (env, row) => {
    if (!row.number) row.number = String(env.store.nextSequence("stock.shipment.out"));
  },
  methods: {
    wait: (env, [ids]) => {
      shipmentTransition(env, ids, "waiting", (recs) => {
        for (const rec of recs) createInventoryMoves(env, rec);
      });
      return null;
    },
    assign_try: (env, [ids]) => {
      // Nothing is ever in stock here: goods cannot be reserved; only empty shipments pass.
      const recs = browseShipments(env, ids);
      const assignable = recs.every((r) => inventoryMoves(r).length === 0);
      if (assignable) shipmentTransition(env, ids, "assigned");
      return env.series.assignTryAnswers ? assignable : null;
    },
    assign_force: (env, [ids]) => {
      shipmentTransition(env, ids, "assigned", (recs) =>
        setMoves(env, recs.flatMap(inventoryMoves), "assigned"),
      );
      return null;
    },
    pick: (env, [ids]) => {
      shipmentTransition(env, ids, "picked", (recs) => setMoves(env, recs.flatMap(inventoryMoves), "done"));
      return null;
    },
    pack: (env, [ids]) => {
      shipmentTransition(env, ids, "packed", (recs) => {
        setMoves(env, recs.flatMap(inventoryMoves), "done");
        setMoves(env, recs.flatMap(outgoingMoves), "assigned");
      });
      return null;
    },
    done: (env, [ids]) => {
      const done = shipmentTransition(env, ids, "done", (recs) => {
        for (const rec of recs) {
          setMoves(env, outgoingMoves(rec), "done");
          if (!rec.get("effective_date"))
            env.write("stock.shipment.out", [[rec.id], { effective_date: env.today() }]);
        }
      });
      queueSaleProcess(env, salesOf(done));
      return null;
    },
    cancel: (env, [ids]) => {
      const cancelled = shipmentTransition(env, ids, "cancelled", (recs) =>
        setMoves(env, recs.flatMap(movesOf), "cancelled"),
      );
      queueSaleProcess(env, salesOf(cancelled));
      return null;
    },
    draft: (env, [ids]) => {
      shipmentTransition(env, ids, "draft", (recs) => setMoves(env, recs.flatMap(movesOf), "draft"));
      return null;
    },
  },
});

function browseShipments(env: Env, ids: unknown): Rec[] {
  const list = Array.isArray(ids) ? ids.map(Number) : [Number(ids)];
  env.read("stock.shipment.out", list, ["state"]);
  return env.recs("stock.shipment.out", list);
}

function shipmentTransition(env: Env, ids: unknown, to: string, body?: (recs: Rec[]) => void): Rec[] {
  const recs = browseShipments(env, ids);
  const allowed = recs.filter((r) => SHIPMENT_TRANSITIONS.has(`${String(r.get("state"))}>${to}`));
  body?.(allowed);
  const moving = allowed.filter((r) => r.get("state") !== to);
  if (moving.length) env.write("stock.shipment.out", [moving.map((r) => r.id), { state: to }]);
  return allowed;
}

function outgoingMoves(rec: Rec): Rec[] {
  return movesOf(rec).filter((m) => isOutgoing(rec, m));
}

function inventoryMoves(rec: Rec): Rec[] {
  return movesOf(rec).filter((m) => !isOutgoing(rec, m));
}

function setMoves(env: Env, moves: Rec[], state: string): void {
  const ids = moves
    .filter((m) => m.get("state") !== state && m.get("state") !== "cancelled")
    .map((m) => m.id);
  if (state === "cancelled" || state === "draft")
    ids.push(...moves.filter((m) => !ids.includes(m.id)).map((m) => m.id));
  if (!ids.length) return;
  env.write("stock.move", [ids, { state }]);
  // Move.do: a move done without an effective date gets today's.
  if (state === "done") {
    const undated = ids.filter((id) => !env.store.get("stock.move", id)?.effective_date);
    if (undated.length) env.write("stock.move", [undated, { effective_date: env.today() }]);
  }
}

/** ShipmentOut.wait: one inventory move (storage → output) per outgoing move. */
function createInventoryMoves(env: Env, rec: Rec): void {
  if (inventoryMoves(rec).length) return;
  const warehouse = rec.ref("warehouse");
  if (!warehouse || !warehouse.exists()) return;
  const storage = warehouse.get("storage_location");
  const output = warehouse.get("output_location");
  const vlist = outgoingMoves(rec).map((m) => ({
    product: m.get("product"),
    quantity: m.get("quantity"),
    uom: m.get("uom"),
    from_location: storage,
    to_location: output,
    planned_date: m.get("planned_date"),
    company: m.get("company"),
    origin: `stock.move,${m.id}`,
    shipment_out: rec.id,
  }));
  if (vlist.length) env.create("stock.move", vlist);
}

function salesOf(shipments: Rec[]): number[] {
  const ids = new Set<number>();
  for (const s of shipments) {
    for (const m of outgoingMoves(s)) {
      const sale = m.get("sale");
      if (typeof sale === "number") ids.add(sale);
    }
  }
  return [...ids];
}

function origins(rec: Rec): string | null {
  const names: string[] = [];
  for (const m of outgoingMoves(rec)) {
    const sale = m.ref("sale");
    if (sale && sale.exists() && !names.includes(sale.recName)) names.push(sale.recName);
  }
  return names.length ? names.join(", ") : null;
}

const shipmentOutReturn = defineModel({
  name: "stock.shipment.out.return",
  string: "Customer Return Shipment",
  order: [["id", "ASC"]],
  restricted: true,
  recNameField: "number",
  fields: {
    number: char("Number", { readonly: true }),
    state: selection("State", [["draft", "Draft"]], { default: () => "draft" }),
  },
});

export const stockModels: ModelDef[] = [move, shipmentOut, shipmentOutReturn];
