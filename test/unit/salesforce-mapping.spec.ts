/**
 * The Magento → Salesforce mapping and the settings, without a server: keys, lines, fees,
 * dates, notes, the content hash, and settings that cannot work.
 */
import assert from "node:assert/strict";
import { chunkSteps } from "../../src/salesforce/composite";
import {
  clip,
  contentHash,
  customerKey,
  dateIn,
  mapOrder,
  noteMarkerOf,
} from "../../src/salesforce/order-mapping";
import { pushSettings } from "../../src/salesforce/settings";
import { defaultStatusProblem } from "../../src/salesforce/setup-check";
import { inLists, quote } from "../../src/salesforce/soql";
import { clone, orders } from "./salesforce-fixtures";

const settings = pushSettings();
const round2 = (n: number) => Math.round(n * 100) / 100;
const hashOf = (o: ReturnType<typeof mapOrder>) =>
  contentHash(o, { status: "Draft", pricebookId: "01s", customerKey: o.customer.key, contacts: true });

describe("Salesforce order mapping and settings", () => {
  const list = orders(200, 7);

  it("keys orders, items and customers stably: <instance>-<entity_id>, <order>-<item_id>, email:<lower-case>", () => {
    const o = list[0];
    const wanted = mapOrder(o, settings);
    assert.equal(wanted.key, `magento-${o.entity_id}`);
    assert.equal(wanted.customer.key, `email:${o.customer_email.toLowerCase()}`);
    for (const line of wanted.lines.filter((l) => l.kind === "item"))
      assert.match(line.key, new RegExp(`^magento-${o.entity_id}-\\d+$`));
    const registered = list.find((x) => x.customer_is_guest !== 1 && x.customer_id !== undefined);
    assert.ok(registered);
    assert.equal(
      customerKey(registered, pushSettings({ accountMatch: "customer", instanceKey: "eu" })),
      `eu-customer-${registered.customer_id}`,
    );
    const guest = list.find((x) => x.customer_is_guest === 1) as (typeof list)[number];
    assert.equal(
      customerKey(guest, pushSettings({ accountMatch: "customer" })),
      `email:${guest.customer_email.toLowerCase()}`,
    );
  });

  it("counts a configurable item once with the child's SKU, and a bundle once or per component", () => {
    const configurable = list.find((o) =>
      o.items.some((i) => i.product_type === "configurable"),
    ) as (typeof list)[number];
    const parent = configurable.items.find(
      (i) => i.product_type === "configurable",
    ) as (typeof configurable.items)[number];
    const child = configurable.items.find(
      (i) => i.parent_item_id === parent.item_id,
    ) as (typeof configurable.items)[number];
    const line = mapOrder(configurable, settings).lines.find((l) => l.key.endsWith(`-${parent.item_id}`));
    assert.equal(line?.sku, child.sku);
    assert.equal(line?.unitPrice, parent.price);
    assert.equal(line?.quantity, parent.qty_ordered);
    assert.equal(
      mapOrder(configurable, settings).lines.some((l) => l.key.endsWith(`-${child.item_id}`)),
      false,
    );

    const bundled = list.find((o) =>
      o.items.some((i) => i.product_type === "bundle"),
    ) as (typeof list)[number];
    const bundle = bundled.items.find((i) => i.product_type === "bundle") as (typeof bundled.items)[number];
    const components = bundled.items.filter((i) => i.parent_item_id === bundle.item_id);
    const asParent = mapOrder(bundled, settings).lines.filter((l) => l.kind === "item");
    const asChildren = mapOrder(bundled, pushSettings({ bundle: "children" })).lines.filter(
      (l) => l.kind === "item",
    );
    assert.equal(asChildren.length - asParent.length, components.length - 1);
  });

  it("adds shipping, a negative discount and tax as lines when non-zero, or leaves them out when their SKU is empty", () => {
    const o = list.find(
      (x) => (x.discount_amount ?? 0) !== 0 && (x.shipping_amount ?? 0) > 0 && (x.tax_amount ?? 0) > 0,
    ) as (typeof list)[number];
    const fees = mapOrder(o, settings).lines.filter((l) => l.kind !== "item");
    assert.deepEqual(
      fees.map((l) => [l.key, l.sku, l.quantity, l.unitPrice]),
      [
        [`magento-${o.entity_id}-shipping`, "MAGENTO-SHIPPING", 1, o.shipping_amount],
        // The discount without its tax: a discount on prices incl. tax carries its tax as compensation.
        [
          `magento-${o.entity_id}-discount`,
          "MAGENTO-DISCOUNT",
          1,
          -round2(
            Math.abs(o.discount_amount as number) -
              Number(o.discount_tax_compensation_amount ?? 0) -
              Number(o.shipping_discount_tax_compensation_amount ?? 0),
          ),
        ],
        [`magento-${o.entity_id}-tax`, "MAGENTO-TAX", 1, o.tax_amount],
      ],
    );
    const none = mapOrder(o, pushSettings({ shippingSku: "", discountSku: "", taxSku: "" }));
    assert.ok(none.lines.every((l) => l.kind === "item"));
    const base = mapOrder(o, pushSettings({ amounts: "base" }));
    assert.equal(base.currency, o.base_currency_code);
    assert.equal(base.lines.find((l) => l.kind === "shipping")?.unitPrice, o.base_shipping_amount);
  });

  it("dates the order in the chosen time zone", () => {
    assert.equal(dateIn("2024-03-31 23:30:00", "UTC"), "2024-03-31");
    assert.equal(dateIn("2024-03-31 23:30:00", "Europe/Paris"), "2024-04-01");
    assert.equal(dateIn("2024-04-01 03:00:00", "America/Los_Angeles"), "2024-03-31");
  });

  it("turns commented status-history entries into notes with a recognisable, ≤ 80-character title", () => {
    const o = clone(
      list.find((x) => (x.status_histories ?? []).some((h) => h.comment)) as (typeof list)[number],
    );
    o.status_histories = [
      {
        entity_id: 77,
        comment: "A".repeat(200),
        created_at: "2024-01-02 10:00:00",
        status: "processing",
        is_customer_notified: 1,
      },
      { entity_id: 78, comment: "   ", created_at: "2024-01-03 10:00:00" },
      { comment: "No id here", created_at: "2024-01-01 09:00:00" },
    ];
    const notes = mapOrder(o, settings).notes;
    assert.equal(notes.length, 2);
    assert.match(notes[0].marker, /^Magento note h[0-9a-f]{10}:$/, "no entity_id: a stable hash marker");
    assert.equal(notes[1].marker, "Magento note 77:");
    assert.ok(notes[1].title.length <= 80 && notes[1].title.endsWith("…"));
    assert.match(
      notes[1].body,
      /— Magento order #.+ · status processing · 2024-01-02 10:00:00 UTC · customer notified$/,
    );
    assert.equal(noteMarkerOf(notes[1].title), "Magento note 77:");
    assert.equal(noteMarkerOf("A note someone typed"), undefined);
    assert.equal(mapOrder(o, pushSettings({ syncNotes: false })).notes.length, 0);
  });

  it("hashes what is written: same order, same hash; a changed quantity or address, another hash; updated_at ignored", () => {
    const o = list[5];
    const h = hashOf(mapOrder(o, settings));
    assert.equal(hashOf(mapOrder(clone(o), settings)), h);
    const touched = clone(o);
    touched.updated_at = "2030-01-01 00:00:00";
    assert.equal(hashOf(mapOrder(touched, settings)), h);
    const qty = clone(o);
    qty.items[0].qty_ordered += 1;
    assert.notEqual(hashOf(mapOrder(qty, settings)), h);
    const moved = clone(o);
    moved.billing_address = { ...moved.billing_address, city: "Elsewhere" };
    assert.notEqual(hashOf(mapOrder(moved, settings)), h);
    assert.equal(h.length, 40);
  });

  it("clips text to Salesforce field lengths", () => {
    assert.equal(clip("  abc  ", 5), "abc");
    assert.equal(clip("abcdef", 5), "abcd…");
    assert.equal(clip("   ", 5), undefined);
  });

  it("reads settings and refuses the ones that cannot work, naming them", () => {
    assert.deepEqual(pushSettings({ statusMap: '{"complete":"Activated"}' }).statusMap, {
      complete: "Activated",
    });
    assert.throws(() => pushSettings({ statusMap: "{complete:" }), /status map is not valid JSON/);
    assert.throws(() => pushSettings({ statusMap: '["Activated"]' }), /must be an object/);
    assert.throws(
      () => pushSettings({ fields: { orderKey: "Magento Order Key" } }),
      /orderKey field "Magento Order Key" is not a Salesforce API name/,
    );
    assert.throws(() => pushSettings({ timeZone: "Mars/Olympus" }), /Unknown time zone "Mars\/Olympus"/);
    assert.throws(() => pushSettings({ instanceKey: "a b" }), /instance key/);
    assert.equal(pushSettings({ batchSize: 5000 }).batchSize, 200);
  });

  it("explains why a Default Status outside the Draft group cannot work", () => {
    const statuses = [
      { apiName: "Draft", label: "Draft", statusCode: "Draft", isDefault: true },
      { apiName: "Activated", label: "Activated", statusCode: "Activated", isDefault: false },
    ];
    assert.equal(defaultStatusProblem(statuses, "draft"), undefined, "labels and case are accepted");
    assert.match(
      defaultStatusProblem(statuses, "Activated") ?? "",
      /Activated status group.*Draft-group status \(Draft\)/,
    );
    assert.match(
      defaultStatusProblem(statuses, "Open") ?? "",
      /not an Order status of this org; it has: Draft \(Draft\), Activated \(Activated\)/,
    );
  });

  it("quotes SOQL literals and cuts IN lists to a safe length; splits collections at 200 records", () => {
    assert.equal(quote("O'Brien\\x"), "'O\\'Brien\\\\x'");
    const lists = inLists(
      Array.from({ length: 1000 }, (_, i) => `magento-${i}`),
      2000,
    );
    assert.ok(lists.length > 1 && lists.every((l) => l.length <= 2000));
    assert.equal(lists.join(",").split(",").length, 1000);
    const records = Array.from({ length: 450 }, (_, i) => ({ n: i }));
    const chunks = chunkSteps([
      { op: { kind: "create", sobject: "Note", records }, owners: records.map(String) },
    ]);
    assert.deepEqual(
      chunks.map((c) => c.owners.length),
      [200, 200, 50],
    );
  });
});
