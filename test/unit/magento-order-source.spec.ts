import assert from "node:assert/strict";
import { MagentoError } from "../../src/magento/errors";
import { cursorFromDate, fetchOrders, pullSince, type PulledPage } from "../../src/magento/order-source";
import type { OrderCursor } from "../../src/magento/search";
import { MemoryOrders, tinyOrder } from "./magento-fixtures";

async function collect(pages: AsyncGenerator<PulledPage>): Promise<PulledPage[]> {
  const out: PulledPage[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

/** n orders, `perSecond` of them sharing each updated_at second (Magento's 1 s resolution). */
function orders(n: number, perSecond = 1) {
  return Array.from({ length: n }, (_, i) => {
    const second = Math.floor(i / perSecond);
    const stamp = new Date(Date.UTC(2024, 0, 1, 0, 0, 0) + second * 1000)
      .toISOString()
      .slice(0, 19)
      .replace("T", " ");
    // entity ids deliberately not in updated_at order
    return tinyOrder(((i * 7919) % n) + 1, stamp);
  });
}

const ids = (pages: PulledPage[]) => pages.flatMap((p) => p.orders.map((o) => o.entity_id));

describe("Magento order intake (magento/order-source.ts)", () => {
  describe("pullSince", () => {
    it("pages by keyset, always page 1, and every order arrives once even when a second holds many", async () => {
      const store = new MemoryOrders(orders(230, 60));
      const pages = await collect(pullSince(store, { since: null, pageSize: 50 }));
      assert.equal(pages.length, 5);
      assert.deepEqual(
        pages.map((p) => p.orders.length),
        [50, 50, 50, 50, 30],
      );
      const got = ids(pages);
      assert.equal(new Set(got).size, 230);
      assert.equal(got.length, 230);
      assert.ok(store.calls.every((c) => c.currentPage === 1));
      assert.deepEqual(
        pages.map((p) => p.page),
        [1, 2, 3, 4, 5],
      );
      assert.equal(pages[4].fetched, 230);
      const last = store.rows.reduce((a, b) =>
        String(a.updated_at) > String(b.updated_at) ||
        (a.updated_at === b.updated_at && (a.entity_id as number) > (b.entity_id as number))
          ? a
          : b,
      );
      assert.deepEqual(pages[4].cursor, { updatedAt: last.updated_at, entityId: last.entity_id });
    });

    it("stops at a full last page with one more (empty) query, and yields nothing when nothing is new", async () => {
      const store = new MemoryOrders(orders(100));
      const pages = await collect(pullSince(store, { since: null, pageSize: 50 }));
      assert.equal(pages.length, 2);
      assert.equal(store.calls.length, 3);
      const again = await collect(pullSince(store, { since: pages[1].cursor, pageSize: 50 }));
      assert.deepEqual(again, []);
    });

    it("loses no change made during the run: moved-ahead orders once, re-edited orders again with the new version", async () => {
      const store = new MemoryOrders(orders(200, 3));
      const emittedFirst = new Map<number, string>();
      store.beforeAnswer = (call) => {
        if (call !== 3) return;
        // Edit one order already emitted and one not reached yet, like a merchant in the admin.
        const already = store.rows.find((r) => emittedFirst.has(r.entity_id as number))!;
        const ahead = store.rows.find((r) => !emittedFirst.has(r.entity_id as number))!;
        already.updated_at = ahead.updated_at = "2030-01-01 00:00:00";
        already.status = ahead.status = "complete";
      };
      const seen: Array<[number, string]> = [];
      for await (const page of pullSince(store, { since: null, pageSize: 40 })) {
        for (const o of page.orders) {
          emittedFirst.set(o.entity_id, o.updated_at);
          seen.push([o.entity_id, o.updated_at]);
        }
      }
      const distinct = new Set(seen.map(([id]) => id));
      assert.equal(distinct.size, 200, "no order skipped");
      assert.equal(new Set(seen.map(([id, at]) => `${id}@${at}`)).size, seen.length, "no version twice");
      assert.equal(seen.length, 201, "only the order edited after it was emitted comes again");
      const edited = seen.filter(([, at]) => at === "2030-01-01 00:00:00");
      assert.equal(edited.length, 2);
    });

    it("drops a row Magento returns twice with the same updated_at", async () => {
      const store = new MemoryOrders(orders(30));
      const original = store.searchOrders.bind(store);
      let calls = 0;
      store.searchOrders = async (criteria) => {
        const res = await original(criteria);
        if (++calls === 2)
          res.items.unshift(
            structuredClone(
              store.rows.find((r) => r.entity_id === (res.items[0] as { entity_id: number }).entity_id),
            )!,
          );
        return res;
      };
      const pages = await collect(pullSince(store, { since: null, pageSize: 10 }));
      assert.equal(ids(pages).length, 30);
      assert.equal(new Set(ids(pages)).size, 30);
    });

    it("reports an invalid order once, with its id and field, and moves the cursor past it", async () => {
      const rows = orders(5);
      const bad = rows[2];
      (bad.items as Array<Record<string, unknown>>)[0].qty_ordered = "lots";
      const store = new MemoryOrders(rows);
      const pages = await collect(pullSince(store, { since: null, pageSize: 10 }));
      assert.equal(pages[0].orders.length, 4);
      assert.equal(pages[0].invalid.length, 1);
      const { result, raw } = pages[0].invalid[0];
      assert.equal(raw, pages[0].invalid[0].raw);
      assert.equal(result.target, "magento");
      assert.equal(result.action, "failed");
      assert.equal(result.orderId, bad.entity_id);
      assert.equal(result.incrementId, bad.increment_id);
      assert.equal(result.error?.code, "invalid_order");
      assert.equal(result.error?.field, "items.0.qty_ordered");
      assert.deepEqual(await collect(pullSince(store, { since: pages[0].cursor, pageSize: 10 })), []);
    });

    it("ANDs extra filter groups after the keyset", async () => {
      const rows = orders(20).map((r, i) => ({ ...r, status: i % 2 ? "complete" : "pending" }));
      const store = new MemoryOrders(rows);
      const since: OrderCursor = { updatedAt: "2024-01-01 00:00:00", entityId: 0 };
      const pages = await collect(
        pullSince(store, {
          since,
          pageSize: 100,
          extraGroups: [{ filters: [{ field: "status", value: ["complete"], conditionType: "in" }] }],
        }),
      );
      assert.equal(pages[0].orders.length, 10);
      assert.ok(pages[0].orders.every((o) => o.status === "complete"));
      assert.equal(store.calls[0].filterGroups?.length, 3);
    });

    it("stops quietly between pages when aborted", async () => {
      const store = new MemoryOrders(orders(100));
      const ctl = new AbortController();
      const pages: PulledPage[] = [];
      for await (const page of pullSince(store, { since: null, pageSize: 10, signal: ctl.signal })) {
        pages.push(page);
        if (pages.length === 2) ctl.abort();
      }
      assert.equal(pages.length, 2);
    });

    it("refuses to loop when the server ignores the keyset filters", async () => {
      const store = new MemoryOrders(orders(20));
      store.searchOrders = async () => ({ items: structuredClone(store.rows.slice(0, 5)), total_count: 20 });
      const run = collect(pullSince(store, { since: null, pageSize: 5 }));
      await assert.rejects(
        run,
        (e: MagentoError) => e.code === "invalid_response" && /did not move/.test(e.message),
      );
    });
  });

  describe("fetchOrders", () => {
    it("fetches chosen orders by entity id and increment id, once each, and names the ones not found", async () => {
      const store = new MemoryOrders(orders(10));
      const pages = await collect(
        fetchOrders(
          store,
          { entityIds: [3, 4, 5, 99, 4], incrementIds: ["100000004", "100000007", "nope"] },
          2,
        ),
      );
      assert.deepEqual(
        ids(pages).sort((a, b) => a - b),
        [3, 4, 5, 7],
      );
      const failures = pages.flatMap((p) => p.invalid.map((i) => i.result));
      assert.deepEqual(
        failures.map((f) => [f.orderId, f.incrementId, f.error?.code, f.error?.field]),
        [
          [99, null, "not_found", "entity_id"],
          [null, "nope", "not_found", "increment_id"],
        ],
      );
      assert.match(failures[0].error!.message, /entity_id 99 was not found/);
      assert.ok(pages.every((p) => p.cursor === null));
      assert.equal(store.calls[0].filterGroups?.[0].filters[0].conditionType, "in");
      assert.deepEqual(store.calls[0].filterGroups?.[0].filters[0].value, [3, 4]);
    });

    it("reports malformed ids without asking Magento", async () => {
      const store = new MemoryOrders(orders(3));
      const pages = await collect(
        fetchOrders(store, { entityIds: [-1, 1.5], incrementIds: ["a,b", ""] }, 50),
      );
      assert.equal(store.calls.length, 0);
      assert.deepEqual(
        pages.flatMap((p) => p.invalid.map((i) => i.result.error?.code)),
        ["invalid_id", "invalid_id", "invalid_id", "invalid_id"],
      );
    });
  });

  describe("cursorFromDate", () => {
    it("normalizes ISO, Magento format, bare dates and Date objects to UTC Magento format", () => {
      assert.deepEqual(cursorFromDate("2024-05-01T12:30:00+02:00"), {
        updatedAt: "2024-05-01 10:30:00",
        entityId: 0,
      });
      assert.deepEqual(cursorFromDate("2024-05-01T10:30:00.123Z"), {
        updatedAt: "2024-05-01 10:30:00",
        entityId: 0,
      });
      assert.deepEqual(cursorFromDate("2024-05-01T10:30:00"), {
        updatedAt: "2024-05-01 10:30:00",
        entityId: 0,
      });
      assert.deepEqual(cursorFromDate("2024-05-01 10:30:00"), {
        updatedAt: "2024-05-01 10:30:00",
        entityId: 0,
      });
      assert.deepEqual(cursorFromDate("2024-05-01"), { updatedAt: "2024-05-01 00:00:00", entityId: 0 });
      assert.deepEqual(cursorFromDate(new Date(Date.UTC(2024, 4, 1, 8))), {
        updatedAt: "2024-05-01 08:00:00",
        entityId: 0,
      });
    });

    it("rejects what is not a date with a message that shows the accepted formats", () => {
      assert.throws(() => cursorFromDate("yesterday"), /not a date: use ISO 8601/);
      assert.throws(() => cursorFromDate(new Date("x")), RangeError);
    });
  });
});
