import assert from "node:assert/strict";
import type { SyncResult } from "../../src/sync/result";
import { forgetSecret, registerSecret } from "../../src/sync/secrets";
import * as shared from "../../src/sync/sync-log";
import { intakeOf, SyncLog, type SyncLogEvent } from "../../src/sync/sync-log";

const tryton = { nodeId: "sale-out", nodeType: "tryton-sale-out", magentoConfigId: "shop" };
const salesforce = { nodeId: "sf-out", nodeType: "salesforce-order-out" };
const intake = { nodeId: "in", nodeType: "magento-order-in", magentoConfigId: "shop" };

function result(orderId: number, over: Partial<SyncResult> = {}): SyncResult {
  return {
    orderId,
    incrementId: String(100000000 + orderId),
    target: "tryton",
    action: "created",
    targetId: `SO${orderId}`,
    ...over,
  };
}

describe("sync log (the Order sync panel's record of recent results)", () => {
  it("keeps the latest result per order and target, newest first, and every result in the history", () => {
    const log = new SyncLog();
    log.recordResults(tryton, [
      result(1, { action: "failed", error: { code: "http_500", message: "boom" } }),
    ]);
    log.recordResults(tryton, [result(2)]);
    log.recordResults(salesforce, [result(1, { target: "salesforce", targetId: "801xx0000000001AAA" })]);
    log.recordResults(tryton, [result(1, { action: "updated", state: "confirmed" })]);

    const latest = log.query();
    assert.deepEqual(
      latest.map((e) => [e.target, e.orderId, e.action]),
      [
        ["tryton", 1, "updated"],
        ["salesforce", 1, "created"],
        ["tryton", 2, "created"],
      ],
    );
    assert.equal(latest[0].state, "confirmed");
    assert.deepEqual(latest[0].source, tryton);
    assert.match(latest[0].at, /^\d{4}-\d\d-\d\dT/);
    assert.ok(latest[0].seq > latest[1].seq);

    const history = log.query({ history: true });
    assert.equal(history.length, 4);
    assert.equal(history[3].action, "failed", "the first failure is still in the history");
    assert.deepEqual(log.counts(), { created: 2, updated: 1, unchanged: 0, skipped: 0, failed: 0, held: 0 });
    assert.deepEqual(log.counts("salesforce"), {
      created: 1,
      updated: 0,
      unchanged: 0,
      skipped: 0,
      failed: 0,
      held: 0,
    });
  });

  it("filters by target, action (one or several) and increment id, and honours the limit", () => {
    const log = new SyncLog();
    log.recordResults(tryton, [
      result(1),
      result(2, { action: "failed", error: { code: "x", message: "bad" } }),
      result(3, { action: "skipped" }),
    ]);
    log.recordResults(salesforce, [result(4, { target: "salesforce", incrementId: "SHOP-B-77" })]);

    assert.deepEqual(
      log.query({ target: "tryton" }).map((e) => e.orderId),
      [3, 2, 1],
    );
    assert.deepEqual(
      log.query({ action: "failed" }).map((e) => e.orderId),
      [2],
    );
    assert.deepEqual(
      log.query({ action: ["failed", "skipped"] }).map((e) => e.orderId),
      [3, 2],
    );
    assert.deepEqual(
      log.query({ search: "shop-b" }).map((e) => e.orderId),
      [4],
      "search is case-insensitive on the increment id",
    );
    assert.deepEqual(
      log.query({ search: "SO2" }).map((e) => e.orderId),
      [2],
      "and matches the target id",
    );
    assert.equal(log.query({ limit: 2 }).length, 2);
  });

  it("stays bounded: the history keeps the last N entries, the latest view drops the oldest orders", () => {
    const log = new SyncLog({ history: 50, latest: 20 });
    for (let i = 1; i <= 120; i++) log.recordResults(tryton, [result(i)]);
    const history = log.query({ history: true, limit: 1_000 });
    assert.equal(history.length, 50);
    assert.equal(history[0].orderId, 120);
    assert.equal(history[49].orderId, 71);
    const latest = log.query({ limit: 1_000 });
    assert.equal(latest.length, 20);
    assert.deepEqual(
      latest.map((e) => e.orderId),
      Array.from({ length: 20 }, (_, i) => 120 - i),
    );
    // an old order that is synced again comes back to the top and is not dropped first
    log.recordResults(tryton, [result(101, { action: "updated" })]);
    log.recordResults(tryton, [result(121)]);
    assert.equal(log.query({ limit: 1_000 }).length, 20);
    assert.deepEqual(
      log.query({ limit: 2 }).map((e) => e.orderId),
      [121, 101],
    );
    assert.ok(!log.query({ limit: 1_000 }).some((e) => e.orderId === 102), "the oldest order went");
  });

  it("redacts secrets and keeps only safe links, the known fields and bounded text", () => {
    const secret = "sk-live-0123456789";
    registerSecret(secret);
    try {
      const log = new SyncLog();
      const evil = {
        ...result(7, {
          action: "failed",
          url: "javascript:alert(1)",
          error: {
            code: "http_401",
            message: `Authorization: Bearer ${secret} rejected; token=${secret}`,
            field: "customer_email",
          },
        }),
        rawOrder: { password: "x" },
      } as SyncResult;
      log.recordResults(tryton, [evil]);
      log.recordResults(tryton, [
        result(8, { url: "https://example.lightning.force.com/lightning/r/Order/801/view" }),
        result(9, { url: "tryton://erp.example/db/model/sale.sale/9" }),
        result(10, { error: { code: "x", message: "y".repeat(10_000) }, action: "failed" }),
      ]);
      const [ten, nine, eight, seven] = log.query();
      assert.ok(!JSON.stringify(log.query({ history: true })).includes(secret), "no secret kept");
      assert.equal(seven.url, undefined, "a javascript: link is dropped");
      assert.equal(eight.url, "https://example.lightning.force.com/lightning/r/Order/801/view");
      assert.equal(nine.url, "tryton://erp.example/db/model/sale.sale/9");
      assert.equal(seven.error?.field, "customer_email");
      assert.equal((seven as unknown as Record<string, unknown>).rawOrder, undefined);
      assert.ok((ten.error?.message.length ?? 0) <= 2_000);
    } finally {
      forgetSecret(secret);
    }
  });

  it("ignores results that are not results and copies what it keeps", () => {
    const log = new SyncLog();
    const input = result(1);
    log.recordResults(tryton, [
      input,
      null as unknown as SyncResult,
      { ...result(2), target: "odoo" } as unknown as SyncResult,
      { ...result(3), action: "exploded" } as unknown as SyncResult,
    ]);
    input.action = "failed";
    const [only] = log.query();
    assert.equal(log.query().length, 1);
    assert.equal(only.action, "created", "later changes by the caller do not leak in");
    only.action = "skipped";
    assert.equal(log.query()[0].action, "created", "nor do changes to what query returned");
  });

  it("keeps orders without an entity id apart by increment id, and results without either apart", () => {
    const log = new SyncLog();
    log.recordResults(intake, [
      { orderId: null, incrementId: "A1", target: "magento", action: "failed" },
      { orderId: null, incrementId: "A1", target: "magento", action: "failed" },
      { orderId: null, incrementId: "A2", target: "magento", action: "failed" },
      { orderId: null, incrementId: null, target: "magento", action: "failed" },
      { orderId: null, incrementId: null, target: "magento", action: "failed" },
    ]);
    assert.equal(log.query().length, 4);
  });

  it("drops an order's intake failure once the order reached a target", () => {
    const log = new SyncLog();
    log.recordResults(intake, [
      result(5, { target: "magento", action: "failed", error: { code: "invalid_order", message: "bad" } }),
    ]);
    assert.equal(log.query({ target: "magento" }).length, 1);
    log.recordResults(tryton, [result(5)]);
    assert.equal(log.query({ target: "magento" }).length, 0);
    assert.equal(log.query({ history: true, target: "magento" }).length, 1, "still in the history");
  });

  it("tells subscribers about new results and clearing; a failing subscriber breaks nothing", () => {
    const log = new SyncLog();
    const events: SyncLogEvent[] = [];
    log.subscribe(() => {
      throw new Error("listener bug");
    });
    const unsubscribe = log.subscribe((e) => events.push(e));
    log.recordResults(tryton, [result(1), result(2)]);
    log.recordResults(tryton, []);
    log.clear();
    unsubscribe();
    log.recordResults(tryton, [result(3)]);
    assert.deepEqual(
      events.map((e) => (e.kind === "recorded" ? e.entries.map((x) => x.orderId) : e.kind)),
      [[1, 2], "cleared"],
    );
    assert.equal(log.query().length, 1);
    assert.equal(log.lastSeq, 3);
  });

  it("is one log per process behind the module functions", () => {
    shared.clear();
    shared.recordResults(tryton, [result(11)]);
    assert.deepEqual(
      shared.query().map((e) => e.orderId),
      [11],
    );
    assert.equal(
      shared.syncLog,
      (globalThis as unknown as Record<symbol, unknown>)[
        Symbol.for("@orderbridge/node-red-order-sync/sync-log")
      ],
    );
    shared.clear();
    assert.equal(shared.query().length, 0);
  });

  it("reads the intake node and Magento config a message came from", () => {
    assert.deepEqual(intakeOf({ magento: { node: "in1", config: "shop", page: 1 } }), {
      intakeNodeId: "in1",
      magentoConfigId: "shop",
    });
    assert.deepEqual(intakeOf({ payload: [] }), {});
    assert.deepEqual(intakeOf(null), {});
  });
});
