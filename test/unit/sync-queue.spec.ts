import assert from "node:assert/strict";
import { MagentoError } from "../../src/magento/errors";
import { DailyLimitError, SalesforceError, SetupError } from "../../src/salesforce/errors";
import type { SyncResult } from "../../src/sync/result";
import {
  retryClassOf,
  SyncQueue,
  type QueueEntry,
  type QueueStorage,
  type RetryPolicy,
} from "../../src/sync/sync-queue";
import { TrytonError } from "../../src/tryton/rpc";

/** A storage that keeps what was saved as JSON text, like a file store does. */
class TextStorage implements QueueStorage {
  text: string | undefined;
  saves = 0;
  async load(): Promise<unknown> {
    return this.text === undefined ? undefined : JSON.parse(this.text);
  }
  async save(entries: Record<string, QueueEntry>): Promise<void> {
    await new Promise((r) => setImmediate(r));
    this.text = JSON.stringify(entries);
    this.saves += 1;
  }
}

const policy: RetryPolicy = {
  firstDelayMs: 1_000,
  maxDelayMs: 60_000,
  limitWaitMs: 3_600_000,
  maxAttempts: 5,
  maxAgeMs: 86_400_000,
  leaseMs: 120_000,
  maxOffers: 2,
};

function setup(opts: { storage?: QueueStorage; epoch?: string; random?: () => number } = {}) {
  const clock = { now: 1_000_000 };
  const queue = new SyncQueue({
    target: "salesforce",
    storage: opts.storage,
    policy,
    epoch: opts.epoch ?? "e1",
    now: () => clock.now,
    random: opts.random ?? (() => 0.5),
  });
  return { queue, clock };
}

const failedResult = (orderId: number, code = "UNABLE_TO_LOCK_ROW"): SyncResult => ({
  orderId,
  incrementId: `1000${orderId}`,
  target: "salesforce",
  action: "failed",
  error: { code, message: `Magento order #1000${orderId}: ${code}` },
});
const created = (orderId: number): SyncResult => ({
  orderId,
  incrementId: `1000${orderId}`,
  target: "salesforce",
  action: "created",
  targetId: `801${orderId}`,
});
const source = { intakeNodeId: "intake-1", magentoConfigId: "shop" };

describe("sync queue (durable record of orders that did not reach a target)", () => {
  it("keeps a failed order with its cause, attempts and next try, and lets it go once it lands", async () => {
    const { queue, clock } = setup();
    await queue.record(source, [failedResult(1), created(2)]);
    assert.equal(queue.size, 1);
    const e = queue.get("id:1")!;
    assert.equal(e.retryClass, "transient");
    assert.equal(e.state, "pending");
    assert.equal(e.attempts, 1);
    assert.equal(e.intakeNodeId, "intake-1");
    assert.equal(e.magentoConfigId, "shop");
    assert.equal(e.nextTryAt, clock.now + 750, "half the delay fixed, half jitter (random 0.5)");
    assert.deepEqual(queue.due(), []);
    clock.now += 750;
    assert.deepEqual(
      queue.due().map((d) => d.key),
      ["id:1"],
    );
    await queue.record(source, [created(1)]);
    assert.equal(queue.size, 0);
  });

  it("backs transient failures off exponentially with jitter, up to the longest wait", async () => {
    for (const [random, low] of [
      [0, true],
      [0.999, false],
    ] as const) {
      const { queue, clock } = setup({ random: () => random });
      const waits: number[] = [];
      for (let i = 0; i < 4; i++) {
        await queue.record(source, [failedResult(1)]);
        waits.push(queue.get("id:1")!.nextTryAt - clock.now);
        clock.now += 1;
      }
      // 1 s, 2 s, 4 s, 8 s: between half and all of it.
      const full = [1_000, 2_000, 4_000, 8_000];
      waits.forEach((w, i) => (low ? assert.equal(w, full[i] / 2) : assert.ok(w > full[i] * 0.99, `${w}`)));
    }
    const clock = { now: 0 };
    const big = new SyncQueue({
      target: "salesforce",
      policy: { ...policy, maxAttempts: 100 },
      epoch: "e1",
      now: () => clock.now,
      random: () => 0.999,
    });
    for (let i = 0; i < 20; i++) await big.record(source, [failedResult(1)]);
    assert.ok(big.get("id:1")!.nextTryAt - clock.now <= policy.maxDelayMs);
    assert.ok(big.get("id:1")!.nextTryAt - clock.now > policy.maxDelayMs * 0.99);
  });

  it("tells the causes apart: daily limit waits for its window, configuration and holds for a redeploy", async () => {
    const storage = new TextStorage();
    const { queue, clock } = setup({ storage });
    const limit = new DailyLimitError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", "limit");
    await queue.record(source, [failedResult(1, "page_failed")], limit);
    await queue.record(source, [failedResult(2, "unknown_country")]);
    await queue.record(source, [{ ...created(3), error: { code: "mismatch", message: "total differs" } }]);
    assert.deepEqual(
      queue.entries().map((e) => [e.key, e.retryClass]),
      [
        ["id:1", "limit"],
        ["id:2", "config"],
        ["id:3", "hold"],
      ],
    );
    assert.equal(queue.get("id:1")!.nextTryAt - clock.now, policy.limitWaitMs);
    clock.now += policy.maxDelayMs - 1;
    assert.deepEqual(queue.due(), [], "nothing is due before its time");

    // The node is redeployed (a new epoch reading the same store): configuration causes and holds are due at once.
    const redeployed = new SyncQueue({
      target: "salesforce",
      storage,
      policy,
      epoch: "e2",
      now: () => clock.now,
    });
    await redeployed.ready;
    assert.deepEqual(
      redeployed.due().map((e) => e.key),
      ["id:2", "id:3"],
    );
    // ... and otherwise at the longest wait.
    clock.now += 1;
    assert.deepEqual(
      queue.due().map((e) => e.key),
      ["id:2", "id:3"],
    );
  });

  it("holds an order that failed too often as needing attention, never drops it, and a redeploy re-arms a configuration cause", async () => {
    const storage = new TextStorage();
    const { queue, clock } = setup({ storage });
    for (let i = 0; i < policy.maxAttempts; i++) {
      await queue.record(source, [failedResult(1), failedResult(2, "unmapped_tax")]);
      clock.now += policy.maxDelayMs;
    }
    for (const key of ["id:1", "id:2"]) {
      const e = queue.get(key)!;
      assert.equal(e.state, "attention");
      assert.equal(e.attempts, policy.maxAttempts);
      assert.match(e.error.message, /No more automatic retries after 5 attempts/);
    }
    clock.now += 10 * policy.maxDelayMs;
    assert.deepEqual(queue.due(), []);
    assert.equal(queue.size, 2);
    const redeployed = new SyncQueue({
      target: "salesforce",
      storage,
      policy,
      epoch: "e2",
      now: () => clock.now,
    });
    await redeployed.ready;
    assert.deepEqual(
      redeployed.due().map((e) => e.key),
      ["id:2"],
      "the configuration cause is tried once more after a redeploy; the transient one waits for the user",
    );
    // "Sync again" makes any entry due now.
    assert.equal(await redeployed.again(["id:1"]), 1);
    assert.deepEqual(
      redeployed
        .due()
        .map((e) => e.key)
        .sort(),
      ["id:1", "id:2"],
    );
  });

  it("gives attention to an order failing for longer than the maximum age", async () => {
    const { queue, clock } = setup();
    await queue.record(source, [failedResult(1)]);
    clock.now += policy.maxAgeMs;
    await queue.record(source, [failedResult(1)]);
    assert.equal(queue.get("id:1")!.state, "attention");
    assert.match(queue.get("id:1")!.error.message, /failing since/);
  });

  it("waits a lease for the result of an order pulled again, and needs attention when results never come", async () => {
    const { queue, clock } = setup();
    await queue.record(source, [failedResult(1)]);
    clock.now += 1_000;
    await queue.offer(["id:1"]);
    assert.equal(queue.get("id:1")!.state, "retrying");
    assert.deepEqual(queue.due(), [], "not offered twice while the first pull is on its way");
    clock.now += policy.leaseMs;
    assert.equal(queue.due().length, 1);
    await queue.offer(["id:1"]);
    clock.now += policy.leaseMs;
    await queue.offer(["id:1"]);
    const e = queue.get("id:1")!;
    assert.equal(e.state, "attention");
    assert.match(e.error.message, /no result reached this node: a filter or switch/);
    // A result that comes after all settles it.
    await queue.record(source, [failedResult(1)]);
    assert.equal(queue.get("id:1")!.state, "pending");
    assert.equal(queue.get("id:1")!.offers, 0);
  });

  it("needs attention when the intake cannot fetch the order again, and dismiss removes entries", async () => {
    const { queue } = setup();
    await queue.record(source, [failedResult(1), failedResult(2)]);
    await queue.unreachable("id:1", {
      code: "not_found",
      message: "Magento order with entity_id 1 was not found",
    });
    assert.equal(queue.get("id:1")!.state, "attention");
    assert.equal(queue.get("id:1")!.error.code, "not_found");
    assert.deepEqual(queue.counts(), { pending: 1, retrying: 0, attention: 1 });
    assert.equal(await queue.dismiss(["id:1", "id:9"]), 1);
    assert.deepEqual(
      queue.entries().map((e) => e.key),
      ["id:2"],
    );
  });

  it("has every change in its storage when record resolves, survives a restart, and skips unreadable entries", async () => {
    const storage = new TextStorage();
    const { queue } = setup({ storage });
    await queue.record(source, [failedResult(1), failedResult(2, "unknown_country"), created(3)]);
    assert.equal(storage.saves, 1);
    const stored = JSON.parse(storage.text!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(stored).sort(), ["id:1", "id:2"]);
    stored["id:7"] = { nonsense: true };
    stored["id:8"] = { ...(stored["id:1"] as object), orderId: 1 }; // key and order disagree
    storage.text = JSON.stringify(stored);
    const restarted = new SyncQueue({ target: "salesforce", storage, policy, epoch: "e2" });
    await restarted.ready;
    assert.deepEqual(
      restarted.entries().map((e) => [e.key, e.attempts, e.retryClass, e.error.code]),
      [
        ["id:1", 1, "transient", "UNABLE_TO_LOCK_ROW"],
        ["id:2", 1, "config", "unknown_country"],
      ],
    );
    // A pull-again under way when the node stopped is due at once after the restart.
    await restarted.offer(["id:1"]);
    const again = new SyncQueue({ target: "salesforce", storage, policy, epoch: "e3" });
    await again.ready;
    assert.equal(again.get("id:1")!.state, "pending");
    assert.ok(again.due().some((e) => e.key === "id:1"));
    // Nothing to change: nothing written.
    const saves = storage.saves;
    await restarted.record(source, [created(5)]);
    assert.equal(storage.saves, saves);
  });

  it("ignores results of other targets and results without an order id or increment id", async () => {
    const { queue } = setup();
    await queue.record(source, [
      { ...failedResult(1), target: "tryton" },
      { ...failedResult(2), orderId: null, incrementId: null },
    ]);
    assert.equal(queue.size, 0);
    await queue.record(source, [{ ...failedResult(3), orderId: null }]);
    assert.deepEqual(
      queue.entries().map((e) => e.key),
      ["inc:10003"],
    );
  });

  describe("retry class of a failure", () => {
    const page = { code: "page_failed", message: "page failed" };
    it("reads the error a page failed with: Salesforce kinds, Magento and Tryton transient flags", () => {
      assert.equal(retryClassOf(page, new SalesforceError("X", "x", "limit")), "limit");
      assert.equal(retryClassOf(page, new SalesforceError("X", "x", "transient")), "transient");
      assert.equal(retryClassOf(page, new SalesforceError("X", "x", "login")), "config");
      assert.equal(retryClassOf(page, new SetupError(["Default Status is Activated"])), "config");
      assert.equal(
        retryClassOf(page, new MagentoError({ code: "http_429", call: "GET /V1/orders", status: 429 })),
        "transient",
      );
      assert.equal(
        retryClassOf(page, new MagentoError({ code: "http_401", call: "GET /V1/orders", status: 401 })),
        "config",
      );
      const tryton = (status?: number) =>
        new TrytonError({ call: "model.sale.sale.create", code: "server_error", serverMessage: "x", status });
      assert.equal(retryClassOf(page, tryton(503)), "transient");
      assert.equal(
        retryClassOf(page, new TrytonError({ call: "c", code: "user_error", serverMessage: "x" })),
        "config",
      );
      assert.equal(retryClassOf(page, new Error("something broke on the way")), "transient");
      assert.equal(retryClassOf(page, { kind: "config" }), "config");
    });
    it("reads per-order codes: holds, transient codes, anything else is configuration", () => {
      const of = (code: string) => retryClassOf({ code, message: "" });
      assert.deepEqual(
        [
          "mismatch",
          "conflict",
          "UNABLE_TO_LOCK_ROW",
          "network",
          "http_503",
          "ERROR_HTTP_502",
          "unmapped_tax",
          "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        ].map(of),
        ["hold", "hold", "transient", "transient", "transient", "transient", "config", "config"],
      );
    });
  });
});
