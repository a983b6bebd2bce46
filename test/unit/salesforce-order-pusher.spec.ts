/**
 * OrderPusher against the strict Salesforce simulator, driven with realistic Magento orders:
 * what lands in Salesforce, what a re-sync costs, and how each failure stays with its order.
 */
import assert from "node:assert/strict";
import { payableOf } from "../../src/magento/order-amounts";
import { lineItems, type MagentoOrder } from "../../src/magento/schema";
import { amount, amountText } from "../../src/sync/amounts";
import { DailyLimitError, SetupError } from "../../src/salesforce/errors";
import type { PushSummary } from "../../src/salesforce/order-pusher";
import type { FaultOptions, SalesforceSimulator } from "../../src/sandbox/salesforce";
import {
  apiCallsOf,
  byKey,
  clone,
  orders,
  pusher,
  rebalanced,
  simulator,
  stopAll,
  writtenRecords,
  type Rec,
} from "./salesforce-fixtures";

const STATUS_MAP = { complete: "Activated", closed: "Shipped", processing: "In Progress" };

function actions(summary: PushSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of summary.results) out[r.action] = (out[r.action] ?? 0) + 1;
  return out;
}

function commented(order: MagentoOrder): number {
  return (order.status_histories ?? []).filter((h) => (h.comment ?? "").trim() !== "").length;
}

/** 120 orders pushed through seeded faults (8 attempts): every one created once, as in Magento. */
async function createdThroughFaults(faults: FaultOptions, ordersSeed: number): Promise<SalesforceSimulator> {
  const sim = await simulator();
  sim.setFaults(faults);
  const list = orders(120, ordersSeed);
  const summary = await pusher(sim, {
    batchSize: 40,
    retry: { attempts: 8, baseDelayMs: 5, maxDelayMs: 20 },
  }).push(list);
  sim.setFaults(undefined);
  assert.deepEqual(actions(summary), { created: 120 }, JSON.stringify(summary.failures.slice(0, 2)));
  assert.equal(sim.db.count("Order"), 120, "no duplicates after retried writes");
  assertInSalesforce(sim, list, () => "Draft");
  return sim;
}

/** Checks every order against Salesforce, from the Magento data (not from the mapping code). */
function assertInSalesforce(
  sim: SalesforceSimulator,
  list: MagentoOrder[],
  statusOf: (o: MagentoOrder) => string,
  withNotes = true,
) {
  const sfOrders = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
  const accounts = new Map(sim.db.records("Account").map((a) => [a.Id as string, a]));
  const items = new Map<string, Rec[]>();
  for (const item of sim.db.records("OrderItem")) {
    items.set(item.OrderId as string, [...(items.get(item.OrderId as string) ?? []), item]);
  }
  const notes = new Map<string, number>();
  for (const n of sim.db.records("Note"))
    notes.set(n.ParentId as string, (notes.get(n.ParentId as string) ?? 0) + 1);
  for (const o of list) {
    const sf = sfOrders.get(`magento-${o.entity_id}`);
    assert.ok(sf, `order #${o.increment_id} is in Salesforce`);
    assert.equal(sf.Name, `Magento #${o.increment_id}`);
    assert.equal(sf.OrderReferenceNumber, o.increment_id);
    assert.equal(sf.EffectiveDate, o.created_at.slice(0, 10));
    assert.equal(sf.Status, statusOf(o), `status of #${o.increment_id}`);
    assert.equal(sf.Pricebook2Id, sim.db.standardPricebookId);
    const account = accounts.get(sf.AccountId as string) as Rec;
    assert.equal(account.Magento_Customer_Key__c, `email:${o.customer_email.toLowerCase()}`);
    // Exactly Magento's grand total at the currency's smallest unit (fractional yen are not charged).
    assert.equal(
      amountText(amount(sf.TotalAmount as number)),
      amountText(payableOf(amount(o.grand_total), o.order_currency_code)),
      `total of #${o.increment_id} (${String(sf.TotalAmount)}) equals Magento's grand total ${o.grand_total}`,
    );
    const lines = byKey(items.get(sf.Id as string) ?? [], "Magento_Item_Key__c");
    for (const line of lineItems(o)) {
      const item = lines.get(`magento-${o.entity_id}-${line.itemId}`);
      assert.ok(item, `item ${line.itemId} of #${o.increment_id}`);
      assert.equal(item.Quantity, line.qty);
      assert.equal(item.UnitPrice, line.price);
    }
    assert.equal(
      notes.get(sf.Id as string) ?? 0,
      withNotes ? commented(o) : 0,
      `notes of #${o.increment_id}`,
    );
  }
}

describe("Salesforce order push (OrderPusher against the simulator)", function () {
  this.timeout(120_000);
  afterEach(stopAll);

  it("pushes 1,000 orders in a few calls per page, and an unchanged re-sync costs only the lookup", async () => {
    const sim = await simulator();
    const push = pusher(sim, { statusMap: STATUS_MAP });
    const list = orders(1000);
    const first = await apiCallsOf(sim, () => push.push(list));
    assert.deepEqual(actions(first.value), { created: 1000 });
    const again = await apiCallsOf(sim, () => push.push(list));
    assert.deepEqual(actions(again.value), { unchanged: 1000 });
    console.log(
      `      API calls per order: import ${first.calls}/1000 = ${(first.calls / 1000).toFixed(3)}, ` +
        `unchanged re-sync ${again.calls}/1000 = ${(again.calls / 1000).toFixed(4)}`,
    );
    assert.ok(first.calls / 1000 <= 0.03, `import: ${first.calls} calls`);
    assert.ok(again.calls / 1000 <= 0.01, `re-sync: ${again.calls} calls`);
    assert.equal(sim.counters["oauth.token"], 1, "one login for both runs");
    assert.equal(sim.db.count("Order"), 1000);
    const statusOf = (o: MagentoOrder) => STATUS_MAP[o.status as keyof typeof STATUS_MAP] ?? "Draft";
    assertInSalesforce(sim, list, statusOf);
    const results = first.value.results;
    assert.ok(results.every((r) => r.target === "salesforce" && typeof r.targetId === "string"));
    assert.equal(results[0].url, `${sim.url}/lightning/r/Order/${results[0].targetId}/view`);
  });

  it("repeated guest e-mails (any case) give one Account, and a SKU used by many orders one Product2 and price", async () => {
    const sim = await simulator();
    const list = orders(300, 11);
    await pusher(sim).push(list);
    const emails = new Set(list.map((o) => o.customer_email.toLowerCase()));
    assert.ok(
      list.filter((o) => o.customer_is_guest === 1).length > emails.size,
      "guests repeat their e-mail",
    );
    assert.equal(sim.db.count("Account"), emails.size);
    assert.equal(sim.db.count("Contact"), emails.size);
    const skus = new Set(list.flatMap((o) => lineItems(o).map((l) => l.sku.toLowerCase())));
    const products = sim.db.records("Product2");
    // Calculator-priced orders (Magento's tax settings) include some that need the rounding line.
    assert.equal(
      products.length,
      skus.size + 4,
      "one per SKU plus the shipping, discount, tax and rounding products",
    );
    assert.equal(new Set(products.map((p) => String(p.Magento_Sku__c).toLowerCase())).size, products.length);
    assert.equal(sim.db.count("PricebookEntry"), products.length);
  });

  it("a changed order updates its Order and items; the others cost nothing", async () => {
    const sim = await simulator();
    const push = pusher(sim);
    const list = orders(50, 5);
    await push.push(list);
    const target = list.findIndex((o) => lineItems(o).length >= 2);
    const changed = clone(list);
    const order = changed[target];
    const [first, second] = lineItems(order);
    const row = order.items.find((i) => i.item_id === first.itemId) as {
      qty_ordered: number;
      row_total?: number;
    };
    row.qty_ordered += 2;
    order.items = order.items.filter(
      (i) => i.item_id !== second.itemId && i.parent_item_id !== second.itemId,
    );
    order.billing_address = { ...order.billing_address, city: "Valparaíso" };
    rebalanced(order, list[target]);
    const before = sim.db
      .records("Order")
      .find((o) => o.Magento_Order_Key__c === `magento-${order.entity_id}`) as Rec;
    const { value, calls } = await apiCallsOf(sim, () => push.push(changed));
    assert.deepEqual(actions(value), { unchanged: 49, updated: 1 });
    assert.equal(value.results[target].action, "updated");
    assert.equal(value.results[target].targetId, before.Id, "the same Salesforce Order");
    assert.ok(calls <= 4, `${calls} calls`);
    const after = sim.db.get(before.Id as string) as Rec;
    assert.equal(after.BillingCity, "Valparaíso");
    const items = byKey(
      sim.db.records("OrderItem").filter((i) => i.OrderId === before.Id),
      "Magento_Item_Key__c",
    );
    assert.equal(items.get(`magento-${order.entity_id}-${first.itemId}`)?.Quantity, first.qty + 2);
    assert.equal(
      items.has(`magento-${order.entity_id}-${second.itemId}`),
      false,
      "the removed line is deleted",
    );
    assert.deepEqual(actions(await push.push(changed)), { unchanged: 50 });
  });

  it("refuses a Default Status from the Activated group before writing anything", async () => {
    const sim = await simulator();
    const push = pusher(sim, { defaultStatus: "Activated" });
    await assert.rejects(push.push(orders(5)), (err: unknown) => {
      assert.ok(err instanceof SetupError);
      assert.match(err.message, /Default Status "Activated" is in Salesforce's Activated status group/);
      assert.match(err.message, /Draft, In Progress/);
      return true;
    });
    assert.equal(writtenRecords(sim), 0);
    await assert.rejects(
      pusher(sim, { defaultStatus: "Nope" }).checkSetup(),
      /not an Order status of this org/,
    );
  });

  it("writes an order mapped to an Activated status as Draft with its items, then activates it", async () => {
    const sim = await simulator();
    const list = orders(40, 9).filter((o) => o.status === "complete");
    assert.ok(list.length > 0);
    const summary = await pusher(sim, { statusMap: { complete: "Shipped" } }).push(list);
    assert.deepEqual(actions(summary), { created: list.length });
    for (const o of sim.db.records("Order")) {
      assert.equal(o.Status, "Shipped");
      assert.equal(o.StatusCode, "Activated");
      assert.ok(o.ActivatedDate);
      assert.ok((o.TotalAmount as number) > 0, "items were added before activation");
    }
    assert.ok(summary.results.every((r) => r.state === "Shipped"));
  });

  it("reports a change to an activated order instead of editing it, or reopens it when asked", async () => {
    const sim = await simulator();
    const list = orders(20, 9)
      .filter((o) => o.status === "complete")
      .slice(0, 2);
    await pusher(sim, { statusMap: { complete: "Activated" } }).push(list);
    const changed = clone(list);
    for (const o of changed) o.items[0].qty_ordered += 1;

    const report = await pusher(sim, { statusMap: { complete: "Activated" } }).push(changed);
    assert.deepEqual(actions(report), { failed: 2 });
    const error = report.failures[0].error;
    assert.equal(error?.code, "order_activated");
    assert.match(
      error?.message ?? "",
      /is activated \(status Activated\) and Salesforce does not allow editing activated orders/,
    );
    assert.match(error?.message ?? "", /#\d+/);

    const reopen = await pusher(sim, {
      statusMap: { complete: "Activated" },
      activatedOrders: "reopen",
    }).push(changed);
    assert.deepEqual(actions(reopen), { updated: 2 });
    for (const o of changed) {
      const sf = sim.db
        .records("Order")
        .find((r) => r.Magento_Order_Key__c === `magento-${o.entity_id}`) as Rec;
      assert.equal(sf.StatusCode, "Activated");
      const first = lineItems(o)[0];
      const item = sim.db
        .records("OrderItem")
        .find((i) => i.Magento_Item_Key__c === `magento-${o.entity_id}-${first.itemId}`);
      assert.equal(item?.Quantity, first.qty);
    }
  });

  it("a missing external-ID field fails the setup check with what to create, before any write", async () => {
    const sim = await simulator({
      externalIdFields: {
        Account: ["Magento_Customer_Key__c"],
        Contact: ["Magento_Customer_Key__c"],
        Product2: ["Magento_Sku__c"],
        OrderItem: ["Magento_Item_Key__c"],
      },
      customFields: {},
    });
    await assert.rejects(pusher(sim).push(orders(3)), (err: unknown) => {
      assert.ok(err instanceof SetupError);
      assert.equal(err.problems.length, 2, err.message);
      assert.match(
        err.problems[0],
        /On Order, create the custom field "Magento Order Key" with API name Magento_Order_Key__c: Text\(80\), External ID, Unique/,
      );
      assert.match(err.problems[0], /Setup → Object Manager → Order → Fields & Relationships → New/);
      assert.match(err.problems[1], /Magento_Sync_Hash__c: Text\(64\)/);
      return true;
    });
    assert.equal(writtenRecords(sim), 0);
    const noHashNeeded = await pusher(sim, { updateOrders: false })
      .checkSetup()
      .catch((e: SetupError) => e.problems);
    assert.equal(
      (noHashNeeded as string[]).length,
      1,
      "without Update Order Info the hash field is not required",
    );
  });

  it("a record Salesforce refuses fails only its order", async () => {
    const sim = await simulator();
    const list = orders(30, 4);
    const bad = clone(list[3]);
    bad.customer_email = "no-dot@localdomain";
    const summary = await pusher(sim).push(list.map((o, i) => (i === 3 ? bad : o)));
    assert.deepEqual(actions(summary), { created: 29, failed: 1 });
    assert.deepEqual(summary.failures, [summary.results[3]]);
    const error = summary.results[3].error;
    assert.equal(error?.code, "INVALID_EMAIL_ADDRESS");
    assert.match(
      error?.message ?? "",
      new RegExp(`^Magento order #${bad.increment_id}: the Contact .* was refused by Salesforce`),
    );
    assert.equal(sim.db.count("Order"), 29);
  });

  it("a new order whose items fail is deleted again, so no half order is left", async () => {
    const sim = await simulator();
    const list = orders(40, 4);
    const push = pusher(sim, { retry: { attempts: 1 } });
    await push.push(list.slice(0, 20));
    // An entry the pusher has cached is deactivated behind its back: the item write fails.
    const victim = list.slice(20).find((o) => lineItems(o).length > 0) as MagentoOrder;
    const sku = lineItems(victim)[0].sku.toLowerCase();
    const product = sim.db
      .records("Product2")
      .find((p) => String(p.Magento_Sku__c).toLowerCase() === sku) as Rec;
    const entry = sim.db.records("PricebookEntry").find((e) => e.Product2Id === product.Id) as Rec;
    sim.db.update("PricebookEntry", entry.Id as string, { IsActive: false });
    const other = list
      .slice(20)
      .find((o) => lineItems(o).every((l) => l.sku.toLowerCase() !== sku)) as MagentoOrder;
    const summary = await push.push([victim, other]);
    assert.deepEqual(
      summary.results.map((r) => r.action),
      ["failed", "created"],
    );
    const message = summary.results[0].error?.message ?? "";
    assert.match(
      message,
      /order product magento-\d+-\d+ was refused by Salesforce: FIELD_INTEGRITY_EXCEPTION/,
    );
    assert.match(message, /deleted again, so no partial order is left/);
    assert.equal(
      sim.db.records("Order").some((o) => o.Magento_Order_Key__c === `magento-${victim.entity_id}`),
      false,
    );
    assert.equal(summary.results[0].targetId, undefined);
  });

  it("adds notes from the status history when Synchronize Order Notes is on, once, and none when off", async () => {
    const withNotes = await simulator();
    const list = orders(60, 2);
    const push = pusher(withNotes);
    await push.push(list);
    const expected = list.reduce((n, o) => n + commented(o), 0);
    assert.ok(expected > 0);
    assert.equal(withNotes.db.count("Note"), expected);
    const note = withNotes.db.records("Note")[0];
    assert.match(String(note.Title), /^Magento note \d+: /);
    assert.ok(String(note.Title).length <= 80);

    const more = clone(list);
    more[0].status_histories = [
      ...(more[0].status_histories ?? []),
      {
        comment: "Customer asked to leave the parcel with a neighbour",
        entity_id: 999_001,
        created_at: "2024-06-01 10:00:00",
        status: more[0].status,
      },
    ];
    const summary = await push.push(more);
    assert.deepEqual(actions(summary), { updated: 1, unchanged: 59 });
    assert.equal(withNotes.db.count("Note"), expected + 1);

    const without = await simulator();
    await pusher(without, { syncNotes: false }).push(list);
    assert.equal(without.db.count("Note"), 0);
  });

  it("recovers from an expired session in the middle of a run", async () => {
    const sim = await simulator();
    const push = pusher(sim, { batchSize: 50 });
    let expired = false;
    const summary = await push.push(orders(200, 8), (p) => {
      if (!expired && p.done >= 50) {
        expired = true;
        sim.expireSessions();
      }
    });
    assert.ok(expired);
    assert.deepEqual(actions(summary), { created: 200 });
    assert.equal(sim.counters["session.invalid"], 1);
    assert.equal(sim.counters["oauth.token.password"], 2);
  });

  it("stops the run with a clear error when the daily API limit is reached, without retrying", async () => {
    const sim = await simulator({ dailyApiLimit: 8 });
    const push = pusher(sim, { batchSize: 50 });
    await assert.rejects(push.push(orders(400, 6)), (err: unknown) => {
      assert.ok(err instanceof DailyLimitError, String(err));
      assert.match(err.message, /daily API request limit is reached \(8\/8 API requests used/);
      return true;
    });
    assert.equal(sim.counters["limit.exceeded"], 1, "no retry loop");
  });

  it("stops at once with the daily-limit message when Salesforce answers TotalRequests, without retrying", async () => {
    const sim = await simulator();
    const push = pusher(sim);
    await push.checkSetup();
    sim.setFaults({ rate: 1, kinds: ["request_limit"] });
    await assert.rejects(push.push(orders(10, 6)), (err: unknown) => {
      assert.ok(err instanceof DailyLimitError, String(err));
      assert.match(err.message, /daily API request limit is reached.*TotalRequests Limit exceeded/);
      return true;
    });
    assert.equal(sim.counters["fault.request_limit"], 1, "no retry loop");
  });

  it("retries a concurrent request limit with backoff and creates every order once it clears", async () => {
    const sim = await simulator();
    const push = pusher(sim, { batchSize: 20 });
    await push.checkSetup();
    sim.setFaults({ rate: 1, kinds: ["concurrent_limit"] });
    const waits: number[] = [];
    const list = orders(40, 14);
    const summary = await push.push(list, undefined, {
      delay: (retry) => {
        waits.push(retry);
        // The long-running requests finish after the second wait: Salesforce accepts again.
        if (waits.length === 2) sim.setFaults(undefined);
        return 1;
      },
    });
    assert.deepEqual(actions(summary), { created: 40 });
    assert.deepEqual(waits, [1, 2], "the lookup was retried with the shared backoff");
    assert.equal(sim.counters["fault.concurrent_limit"], 2);
    assertInSalesforce(sim, list, () => "Draft");
  });

  it("retries concurrent limits hitting lookups, catalog queries and writes alike; no order fails", async () => {
    const sim = await createdThroughFaults({ rate: 0.3, kinds: ["concurrent_limit"], seed: 5 }, 15);
    assert.ok((sim.counters["fault.concurrent_limit"] ?? 0) >= 3, JSON.stringify(sim.counters));
  });

  it("a concurrent limit that does not clear ends the run without naming the daily limit", async () => {
    const sim = await simulator();
    sim.setFaults({ rate: 1, kinds: ["concurrent_limit"] });
    await assert.rejects(
      pusher(sim, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } }).push(orders(5, 6)),
      (err: unknown) => {
        assert.ok(!(err instanceof DailyLimitError), String(err));
        assert.doesNotMatch((err as Error).message, /daily API request limit is reached/);
        assert.match(
          (err as Error).message,
          /refused the request 3 times in a row for a request limit that is not the daily API limit.*ConcurrentPerOrgLongTxn Limit exceeded/,
        );
        return true;
      },
    );
    assert.equal(sim.counters["fault.concurrent_limit"], 3, "retried up to the policy's attempts");
  });

  it("retries lock conflicts, 5xx and dropped connections on writes until every order is in", async () => {
    const sim = await createdThroughFaults(
      { rate: 0.35, kinds: ["unable_to_lock_row", "record_error", "500", "503", "reset"], seed: 8 },
      12,
    );
    const faults = Object.entries(sim.counters).filter(([k]) => k.startsWith("fault."));
    assert.ok(faults.length >= 3, JSON.stringify(faults));
  });

  it("in a multi-currency org writes each order in its currency with a price per currency", async () => {
    const sim = await simulator({ multiCurrency: true, currencies: ["USD", "EUR", "GBP", "JPY"] });
    const list = orders(80, 3);
    const summary = await pusher(sim).push(list);
    assert.deepEqual(actions(summary), { created: 80 });
    const sfOrders = byKey(sim.db.records("Order"), "Magento_Order_Key__c");
    for (const o of list)
      assert.equal(sfOrders.get(`magento-${o.entity_id}`)?.CurrencyIsoCode, o.order_currency_code);
    const entries = sim.db.records("PricebookEntry");
    const pairs = new Set(entries.map((e) => `${String(e.Product2Id)}|${String(e.CurrencyIsoCode)}`));
    assert.equal(pairs.size, entries.length, "one entry per product and currency");
    assert.ok(new Set(entries.map((e) => e.CurrencyIsoCode)).size >= 3);

    const gbpOnly = await simulator({ multiCurrency: true, currencies: ["GBP"] });
    const refused = await pusher(gbpOnly).push(
      list.filter((o) => o.order_currency_code !== "GBP").slice(0, 1),
    );
    assert.equal(refused.results[0].error?.code, "currency_inactive");
  });

  it("uses a custom price book (standard price first), and adopts a product that already has the SKU as code", async () => {
    const sim = await simulator();
    sim.db.insert("Pricebook2", { Name: "Magento Store", IsActive: true });
    const list = orders(20, 13);
    const sku = lineItems(list[0])[0].sku;
    const existing = sim.db.insert("Product2", { Name: "Made by hand", ProductCode: sku, IsActive: true });
    const summary = await pusher(sim, { pricebook: "Magento Store" }).push(list);
    assert.deepEqual(actions(summary), { created: 20 });
    const custom = sim.db.records("Pricebook2").find((p) => p.Name === "Magento Store") as Rec;
    assert.ok(sim.db.records("Order").every((o) => o.Pricebook2Id === custom.Id));
    assert.equal(sim.db.get(existing)?.Magento_Sku__c, sku, "the hand-made product got the SKU key");
    assert.equal(
      sim.db.records("Product2").filter((p) => String(p.ProductCode).toLowerCase() === sku.toLowerCase())
        .length,
      1,
    );
    const entries = sim.db.records("PricebookEntry");
    assert.equal(entries.filter((e) => e.Pricebook2Id === custom.Id).length, entries.length / 2);
  });

  it("with Update Order Info off leaves existing orders alone", async () => {
    const sim = await simulator();
    const list = orders(10, 14);
    await pusher(sim).push(list);
    const changed = clone(list);
    changed[0].items[0].qty_ordered += 5;
    rebalanced(changed[0], list[0]);
    const summary = await pusher(sim, { updateOrders: false }).push(changed);
    assert.deepEqual(actions(summary), { unchanged: 9, skipped: 1 });
    assert.ok(summary.results[0].targetId);
  });

  it("fails invalid orders alone with the field named", async () => {
    const sim = await simulator();
    const list: unknown[] = clone(orders(5, 1));
    (list[2] as Rec).customer_email = "";
    list.push("not an order");
    const summary = await pusher(sim).push(list);
    assert.deepEqual(actions(summary), { created: 4, failed: 2 });
    assert.equal(summary.results[2].error?.code, "invalid_order");
    assert.equal(summary.results[2].error?.field, "customer_email");
  });

  it("with Accounts and products in place, 200 new orders cost one lookup and one write composite", async () => {
    const sim = await simulator();
    const list = orders(400, 9);
    const push = pusher(sim, { syncNotes: false });
    await push.push(list.slice(0, 200));
    const page = list.slice(200);
    const accounts = sim.db.count("Account");
    const { value, calls } = await apiCallsOf(sim, () => push.push(page));
    assert.deepEqual(actions(value), { created: 200 });
    assert.equal(sim.db.count("Account"), accounts, "every customer had an Account already");
    const items = sim.db.count("OrderItem");
    console.log(
      `      200 new orders (${(items / 400).toFixed(2)} OrderItems each): ${calls} API calls = ${(calls / 200).toFixed(3)} per order`,
    );
    assert.equal(calls, 2, "one composite lookup (Orders, Accounts, Contacts) and one composite write");
    assertInSalesforce(sim, page, () => "Draft", false);
    // With notes on, the notes of new orders need one more composite.
    const withNotes = await simulator();
    const pushNotes = pusher(withNotes);
    await pushNotes.push(list.slice(0, 200));
    const noted = await apiCallsOf(withNotes, () => pushNotes.push(page));
    assert.ok(noted.calls <= 3, `${noted.calls} calls with notes`);
    assertInSalesforce(withNotes, page, () => "Draft");
  });

  it("an Order that lost an item in Salesforce is completed by the next sync, the others cost nothing", async () => {
    const sim = await simulator();
    const list = orders(10, 3);
    const push = pusher(sim);
    await push.push(list);
    const target = list.findIndex((o) => lineItems(o).length > 0);
    const key = `magento-${list[target].entity_id}-${lineItems(list[target])[0].itemId}`;
    const item = sim.db.records("OrderItem").find((i) => i.Magento_Item_Key__c === key) as Rec;
    const conn = await push.session.connection();
    await conn.sobject("OrderItem").destroy(item.Id as string);
    const again = await push.push(list);
    assert.deepEqual(
      again.results.map((r, i) => (i === target ? r.action : r.action === "unchanged")),
      list.map((_, i) => (i === target ? "updated" : true)),
    );
    assert.ok(sim.db.records("OrderItem").some((i) => i.Magento_Item_Key__c === key));
    assertInSalesforce(sim, list, () => "Draft");
  });

  it("a changed order whose new item fails is marked incomplete (no hash) and completed by the next sync", async () => {
    const sim = await simulator();
    const list = orders(40, 4);
    const push = pusher(sim, { retry: { attempts: 1 } });
    const simple = (o: MagentoOrder) => {
      const first = lineItems(o)[0];
      return first && !o.items.some((i) => i.parent_item_id === first.itemId) ? first : undefined;
    };
    const x = list.find((o) => simple(o)) as MagentoOrder;
    const xSku = (simple(x) as { sku: string }).sku.toLowerCase();
    const y = list.find((o) => lineItems(o).some((l) => l.sku.toLowerCase() !== xSku)) as MagentoOrder;
    const ySku = (lineItems(y).find((l) => l.sku.toLowerCase() !== xSku) as { sku: string }).sku;
    await push.push(list);
    const entryOf = (sku: string) => {
      const product = sim.db
        .records("Product2")
        .find((p) => String(p.Magento_Sku__c).toLowerCase() === sku.toLowerCase()) as Rec;
      return sim.db.records("PricebookEntry").find((e) => e.Product2Id === product.Id) as Rec;
    };
    sim.db.update("PricebookEntry", entryOf(ySku).Id as string, { IsActive: false });
    const changed = clone(x);
    const row = changed.items.find((i) => i.item_id === (simple(x) as { itemId: number }).itemId) as {
      sku: string;
    };
    row.sku = ySku;
    const failed = await push.push([changed]);
    assert.equal(failed.results[0].action, "failed");
    const sfOrder = () =>
      sim.db.records("Order").find((o) => o.Magento_Order_Key__c === `magento-${x.entity_id}`) as Rec;
    assert.equal(
      sfOrder().Magento_Sync_Hash__c ?? null,
      null,
      "the hash was cleared: the order is incomplete",
    );
    sim.db.update("PricebookEntry", entryOf(ySku).Id as string, { IsActive: true });
    const done = await push.push([changed]);
    assert.equal(done.results[0].action, "updated");
    assert.ok(sfOrder().Magento_Sync_Hash__c);
    const unchanged = await push.push([changed]);
    assert.equal(unchanged.results[0].action, "unchanged");
  });
});
