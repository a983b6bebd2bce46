import assert from "node:assert/strict";

import { validateOrder, type MagentoOrder } from "../../src/magento/schema";
import { exportTriggerOf } from "../../src/sync/status-export";
import {
  defaultPlanOptions,
  hasSaleComment,
  isCancelledInMagento,
  itemQuantities,
  linkSaleLines,
  planExport,
  type PlanOptions,
} from "../../src/sync/status-plan";
import { defaultMappingOptions, mapOrder } from "../../src/tryton/sale-mapping";
import type { SaleLineInfo, SaleStatus, ShipmentInfo } from "../../src/tryton/status-reader";
import { fixtureOrder } from "./magento-fixtures";

type RawItem = Record<string, unknown>;

/** The fixture order (simple 3, downloadable 4, bundle 5 with children 6–9, configurable 10 with child 11). */
function order(change: (raw: Record<string, unknown>) => void = () => undefined): MagentoOrder {
  const raw = fixtureOrder();
  Object.assign(raw, { state: "processing", status: "processing" });
  change(raw);
  const checked = validateOrder(raw);
  if (!checked.ok) throw new Error(checked.error.message);
  return checked.order;
}

const item = (raw: Record<string, unknown>, id: number) =>
  (raw.items as RawItem[]).find((i) => i.item_id === id) as RawItem;

/** The sale lines the importer creates for the order (same mapping, same sequence), ids from 100. */
function importedLines(o: MagentoOrder, bundle: "parent" | "children" = "parent"): SaleLineInfo[] {
  const mapped = mapOrder(o, { ...defaultMappingOptions, bundle });
  if (!mapped.ok) throw new Error(mapped.error.message);
  return mapped.draft.lines.map((l, i) => ({
    id: 100 + i,
    sequence: i + 1,
    productCode: l.productCode,
    quantity: l.quantity,
  }));
}

const lineOf = (lines: SaleLineInfo[], code: string) => lines.find((l) => l.productCode === code)!.id;

function shipment(id: number, quantities: Array<[number, number]>, tracking: string[] = []): ShipmentInfo {
  return {
    id,
    number: String(id),
    effectiveDate: "2024-05-01",
    tracking,
    carrier: null,
    quantities: new Map(quantities),
  };
}

function sale(o: MagentoOrder, over: Partial<SaleStatus> = {}): SaleStatus {
  return {
    saleId: 7,
    number: "12",
    reference: `MAG-${o.increment_id}`,
    state: "processing",
    orderId: o.entity_id,
    lines: importedLines(o),
    shipments: [],
    invoices: [],
    changedAt: 0,
    fingerprint: "",
    ...over,
  };
}

const options = (over: Partial<PlanOptions> = {}): PlanOptions => ({ ...defaultPlanOptions, ...over });

/** Every goods line of the imported sale shipped in full, as one Tryton shipment. */
function fullShipment(lines: SaleLineInfo[], id = 1, tracking = ["1Z999"]): ShipmentInfo {
  const goods = ["WS12-M-Orange", "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086", "MH01-S-Gray"];
  return shipment(
    id,
    lines.filter((l) => goods.includes(l.productCode!)).map((l) => [l.id, l.quantity]),
    tracking,
  );
}

describe("status export plan", () => {
  describe("sale lines → Magento items", () => {
    it("links each imported line to its row: configurable by its parent, bundle as its parent; shipping stays unlinked", () => {
      const o = order();
      const lines = importedLines(o);
      const links = linkSaleLines(o, lines);
      const linked = [...links.entries()].map(([line, l]) => [
        lines.find((x) => x.id === line)!.productCode,
        l.itemId,
      ]);
      assert.deepEqual(linked, [
        ["WS12-M-Orange", 3],
        ["240-LV08", 4],
        ["24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086", 5],
        ["MH01-S-Gray", 10],
      ]);
      assert.equal(links.has(lineOf(lines, "SHIPPING")), false);
    });

    it("links bundle children (importer option) to the bundle parent with their share per bundle", () => {
      const o = order((raw) => {
        item(raw, 5).qty_ordered = 2;
        for (const id of [6, 7, 8, 9]) item(raw, id).qty_ordered = id === 7 ? 4 : 2;
      });
      const lines = importedLines(o, "children");
      const links = linkSaleLines(o, lines);
      assert.deepEqual(links.get(lineOf(lines, "24-WG084")), { itemId: 5, perUnit: 2, bundleChild: true });
      assert.deepEqual(links.get(lineOf(lines, "24-WG086")), { itemId: 5, perUnit: 1, bundleChild: true });
    });

    it("tells two rows with the same SKU apart by quantity, then by order", () => {
      const o = order((raw) => {
        const tee = item(raw, 3);
        (raw.items as RawItem[]).push({ ...tee, item_id: 12, qty_ordered: 2, row_total: 44 });
      });
      const lines: SaleLineInfo[] = [
        { id: 1, sequence: 1, productCode: "WS12-M-Orange", quantity: 2 },
        { id: 2, sequence: 2, productCode: "WS12-M-Orange", quantity: 1 },
      ];
      const links = linkSaleLines(o, lines);
      assert.equal(links.get(1)!.itemId, 12);
      assert.equal(links.get(2)!.itemId, 3);
    });

    it("counts a bundle shipped as children only once every child reached a whole bundle", () => {
      const o = order();
      const lines = importedLines(o, "children");
      const links = linkSaleLines(o, lines);
      const children = ["24-WG082-blue", "24-WG084", "24-WG086", "24-WG088"].map((c) => lineOf(lines, c));
      const some = new Map(children.slice(0, 3).map((id) => [id, 1]));
      assert.equal(itemQuantities(some, links).get(5), 0);
      const all = new Map(children.map((id) => [id, 1]));
      assert.equal(itemQuantities(all, links).get(5), 1);
    });
  });

  describe("shipments", () => {
    it("ships a done Tryton shipment: goods per Magento item (bundle parent, configurable parent), not the download, with its tracking", () => {
      const o = order();
      const s = sale(o);
      s.shipments = [fullShipment(s.lines)];
      const [ship, ...rest] = planExport(s, o, options());
      assert.deepEqual(rest, []);
      assert.equal(ship!.kind, "ship");
      if (ship!.kind !== "ship") return;
      assert.deepEqual(ship.items, [
        { order_item_id: 3, qty: 1 },
        { order_item_id: 5, qty: 1 },
        { order_item_id: 10, qty: 1 },
      ]);
      assert.deepEqual(ship.tracks, [
        { track_number: "1Z999", title: "Tracking number", carrier_code: "custom" },
      ]);
      assert.match(ship.comment, /Tryton shipment 1 of sale 12/);
    });

    it("names the Tryton carrier as track title when the shipment has one, and sends no track without a number", () => {
      const o = order();
      const s = sale(o);
      s.shipments = [{ ...fullShipment(s.lines), carrier: "UPS Ground" }, fullShipment(s.lines, 2, [])];
      const actions = planExport(
        { ...s, shipments: [s.shipments[0]!] },
        o,
        options({ carrierCode: "ups", carrierTitle: "x" }),
      );
      assert.deepEqual(actions[0]!.kind === "ship" && actions[0].tracks, [
        { track_number: "1Z999", title: "UPS Ground", carrier_code: "ups" },
      ]);
      const untracked = planExport({ ...s, shipments: [s.shipments[1]!] }, o, options());
      assert.deepEqual(untracked[0]!.kind === "ship" && untracked[0].tracks, []);
    });

    it("ships only what Magento has not shipped yet: nothing when it already has everything", () => {
      const o = order((raw) => {
        for (const id of [3, 5, 6, 7, 8, 9, 10, 11]) item(raw, id).qty_shipped = 1;
      });
      const s = sale(o);
      s.shipments = [fullShipment(s.lines)];
      assert.deepEqual(planExport(s, o, options()), []);
    });

    it("partial shipments: each Tryton shipment ships its own quantities; the ones Magento has are skipped", () => {
      const o = order((raw) => Object.assign(item(raw, 3), { qty_ordered: 3, row_total: 66 }));
      const s = sale(o);
      const tee = lineOf(s.lines, "WS12-M-Orange");
      s.shipments = [shipment(1, [[tee, 1]], ["A"]), shipment(2, [[tee, 2]], ["B"])];
      const both = planExport(s, o, options());
      assert.deepEqual(
        both.map((a) => a.kind === "ship" && [a.items, a.tracks.map((t) => t.track_number)]),
        [
          [[{ order_item_id: 3, qty: 1 }], ["A"]],
          [[{ order_item_id: 3, qty: 2 }], ["B"]],
        ],
      );
      const shippedOne = order((raw) =>
        Object.assign(item(raw, 3), { qty_ordered: 3, row_total: 66, qty_shipped: 1 }),
      );
      const second = planExport(s, shippedOne, options());
      assert.deepEqual(
        second.map((a) => a.kind === "ship" && a.items),
        [[{ order_item_id: 3, qty: 2 }]],
      );
    });

    it("never ships more than Magento still has open (cancelled or refunded quantities)", () => {
      const o = order((raw) =>
        Object.assign(item(raw, 3), { qty_ordered: 3, row_total: 66, qty_canceled: 1 }),
      );
      const s = sale(o);
      s.shipments = [shipment(1, [[lineOf(s.lines, "WS12-M-Orange"), 3]])];
      const [ship] = planExport(s, o, options());
      assert.deepEqual(ship!.kind === "ship" && ship.items, [{ order_item_id: 3, qty: 2 }]);
    });

    it("ships nothing when shipments are switched off", () => {
      const o = order();
      const s = sale(o);
      s.shipments = [fullShipment(s.lines)];
      assert.deepEqual(planExport(s, o, options({ ship: false })), []);
    });
  });

  describe("invoices", () => {
    const invoiced = (s: SaleStatus, qty = 1) => ({
      id: 3,
      number: "2024/1",
      quantities: new Map(s.lines.map((l) => [l.id, l.quantity * qty])),
    });

    it("invoices what posted Tryton invoices hold, per item, only when switched on", () => {
      const o = order();
      const s = sale(o);
      s.invoices = [invoiced(s)];
      assert.deepEqual(planExport(s, o, options()), [], "off by default");
      const [invoice] = planExport(s, o, options({ invoice: "offline" }));
      assert.equal(invoice!.kind, "invoice");
      assert.deepEqual(invoice!.kind === "invoice" && invoice.items, [
        { order_item_id: 3, qty: 1 },
        { order_item_id: 4, qty: 1 },
        { order_item_id: 5, qty: 1 },
        { order_item_id: 10, qty: 1 },
      ]);
      assert.match(invoice!.kind === "invoice" ? invoice.comment : "", /Tryton invoice 2024\/1 of sale 12/);
    });

    it("subtracts Magento's qty_invoiced and credit notes", () => {
      const o = order((raw) => {
        item(raw, 3).qty_invoiced = 1;
        item(raw, 4).qty_invoiced = 1;
      });
      const s = sale(o);
      s.invoices = [
        invoiced(s),
        { id: 4, number: "2024/2", quantities: new Map([[lineOf(s.lines, "MH01-S-Gray"), -1]]) },
      ];
      const [invoice] = planExport(s, o, options({ invoice: "offline" }));
      assert.deepEqual(invoice!.kind === "invoice" && invoice.items, [{ order_item_id: 5, qty: 1 }]);
    });
  });

  describe("cancel and comment", () => {
    it("cancels a cancelled sale's order once: not when Magento has it canceled or nothing is left to cancel", () => {
      const o = order((raw) => Object.assign(raw, { state: "new", status: "pending" }));
      const s = sale(o, { state: "cancelled" });
      assert.deepEqual(planExport(s, o, options()), [{ kind: "cancel" }]);
      const canceled = order((raw) => Object.assign(raw, { state: "canceled", status: "canceled" }));
      assert.deepEqual(planExport(s, canceled, options()), []);
      const rest = order((raw) => {
        item(raw, 3).qty_invoiced = 1;
        for (const id of [4, 5, 10]) item(raw, id).qty_canceled = 1;
      });
      assert.equal(isCancelledInMagento(rest), true, "invoiced part kept, the rest cancelled");
      assert.deepEqual(planExport(s, rest, options()), []);
      assert.deepEqual(planExport(s, o, options({ cancel: false })), [], "cancel switched off");
    });

    it("writes the comment naming the sale first and only once; sale 1 is not sale 12", () => {
      const o = order();
      const s = sale(o);
      s.shipments = [fullShipment(s.lines)];
      const actions = planExport(s, o, options({ comment: true }));
      assert.deepEqual(
        actions.map((a) => a.kind),
        ["comment", "ship"],
      );
      assert.deepEqual(actions[0], {
        kind: "comment",
        text: `Tryton sale 12 (reference MAG-${o.increment_id})`,
        status: "processing",
      });
      const commented = order((raw) => {
        raw.status_histories = [
          { comment: "Tryton sale 12 (reference MAG-000000003)", status: "processing" },
        ];
      });
      assert.equal(hasSaleComment(commented, "12"), true);
      assert.equal(hasSaleComment(commented, "1"), false);
      assert.deepEqual(
        planExport(sale(commented), commented, options({ comment: true })),
        [],
        "no second comment",
      );
      assert.deepEqual(planExport(sale(o, { number: null }), o, options({ comment: true })), []);
    });
  });

  describe("trigger", () => {
    it("reads the trigger from msg.payload", () => {
      assert.deepEqual(exportTriggerOf("go"), { kind: "incremental" });
      assert.deepEqual(exportTriggerOf({ reset: true }), { kind: "reset" });
      assert.deepEqual(exportTriggerOf({ orderIds: [3, "4"] }), { kind: "orders", orderIds: [3, 4] });
      assert.deepEqual(exportTriggerOf({ orderIds: 5 }), { kind: "orders", orderIds: [5] });
      assert.deepEqual(exportTriggerOf({ since: "2024-05-01 10:00:00" }), {
        kind: "since",
        since: Date.UTC(2024, 4, 1, 10) * 1000,
      });
      assert.throws(() => exportTriggerOf({ orderIds: ["x"] }), /orderIds/);
      assert.throws(() => exportTriggerOf({ since: "yesterday" }), /not a date/);
    });
  });
});
