import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import {
  isAfter,
  runPull,
  triggerOf,
  type CursorStore,
  type PullSummary,
  type PullTrigger,
} from "../magento/intake";
import type { OrderCursor } from "../magento/search";
import type { MagentoConfigNode } from "./magento-config";
import { progressStatus, safeError } from "./shared/report";
import { FlowCompletion } from "./shared/flow-completion";
import { intervalMs, startPolling } from "./shared/poll";
import { SerialRunner } from "./shared/serial";
import { recordResults } from "../sync/sync-log";

export interface OrderInDef extends NodeDef {
  magento: string;
  /** The seeds' "Automatic Synchronization": poll on a timer when on. */
  autoSync: boolean;
  interval: number | string;
  intervalUnit: "s" | "m" | "h";
  /** Pages per pull, 0 = all (see PullOptions.maxPages). */
  pagesPerRun?: number | string;
}

const CURSOR_KEY = "magentoCursor";

function describe(summary: PullSummary): string {
  const invalid = summary.invalid ? `, ${summary.invalid} invalid` : "";
  return `${summary.orders} orders${invalid}`;
}

export default function register(RED: NodeAPI): void {
  function MagentoOrderIn(this: Node, def: OrderInDef) {
    RED.nodes.createNode(this, def);
    const config = RED.nodes.getNode(def.magento) as MagentoConfigNode | null;
    const status = progressStatus(this);
    const runner = new SerialRunner();
    if (!config) {
      status.error("no Magento configuration");
      this.on("input", (_msg: NodeMessageInFlow, _send, done) =>
        done(new Error("magento-order-in: choose a Magento configuration node.")),
      );
      return;
    }
    const maxPages = Math.max(0, Math.floor(Number(def.pagesPerRun) || 0));
    const context = this.context();
    // The stored cursor only passes pages the flow is done with (tryton-sale-out, salesforce-order-out
    // … called done()): after a crash the unfinished pages are pulled again, not skipped. Within
    // this run of the node the pull goes on from the last page sent.
    const completion = new FlowCompletion(RED, this.id, () => RED.util.generateId());
    const sentPages: string[] = [];
    let sent: OrderCursor | null | undefined;
    let resets = 0;
    let settledSoFar: Promise<unknown> = Promise.resolve();
    const cursors: CursorStore = {
      load: async () =>
        sent !== undefined ? sent : ((context.get(CURSOR_KEY) as OrderCursor | undefined) ?? null),
      save: async (cursor) => {
        sent = cursor;
        if (cursor === null) resets += 1;
        if (cursor === null || !completion.available) {
          context.set(CURSOR_KEY, cursor ?? undefined);
          return;
        }
        const since = resets;
        // After this page and every page sent before it.
        settledSoFar = Promise.all([
          settledSoFar,
          ...sentPages.splice(0).map((id) => completion.settled(id)),
        ]);
        void settledSoFar.then(() => {
          const stored = (context.get(CURSOR_KEY) as OrderCursor | undefined) ?? null;
          // A reset meanwhile wins; pages settling out of order never move the cursor back.
          if (resets === since && isAfter(cursor, stored)) context.set(CURSOR_KEY, cursor);
        });
      },
    };

    const pull = (trigger: PullTrigger, base: NodeMessage, send: (msgs: (NodeMessage | null)[]) => void) =>
      runner.run(async (signal) => {
        status.busy("pulling…");
        let total = 0;
        const summary = await runPull(config.client, trigger, cursors, {
          pageSize: config.pageSize,
          maxPages,
          signal,
          onPage: (page) => {
            total += page.orders.length;
            const magento = {
              trigger: trigger.kind,
              page: page.page,
              fetched: page.fetched,
              cursor: page.cursor,
              node: this.id,
              config: def.magento,
            };
            if (page.invalid.length) {
              recordResults(
                { nodeId: this.id, nodeType: "magento-order-in", magentoConfigId: def.magento },
                page.invalid.map((i) => i.result),
              );
            }
            // Pages of an incremental pull are followed through the flow (manual and webhook pulls move no cursor).
            const _msgid = page.cursor ? completion.track() : RED.util.generateId();
            if (page.cursor) sentPages.push(_msgid);
            const ok = page.orders.length ? { ...base, _msgid, payload: page.orders, magento } : null;
            const bad = page.invalid.length
              ? {
                  ...base,
                  _msgid,
                  payload: page.invalid.map((i) => i.result),
                  invalid: page.invalid.map((i) => i.raw),
                  magento,
                }
              : null;
            if (ok || bad) send([ok, bad]);
            status.busy(`page ${page.page} · ${total} orders`);
          },
        });
        status.done(describe(summary), summary.invalid > 0);
        return summary;
      });

    this.on("input", (msg, send, done) => {
      let trigger: PullTrigger;
      try {
        trigger = triggerOf(msg.payload);
      } catch (err) {
        status.error(err);
        done(safeError(err));
        return;
      }
      pull(trigger, msg, send).then(
        () => done(),
        (err: unknown) => {
          status.error(err);
          done(safeError(err));
        },
      );
    });

    const everyMs = intervalMs(def.interval, def.intervalUnit);
    const stopPolling =
      def.autoSync && everyMs >= 1000
        ? startPolling(this, runner, status, everyMs, () =>
            pull({ kind: "incremental" }, {}, (msgs) => this.send(msgs)),
          )
        : undefined;
    if (!stopPolling) status.idle("manual sync");

    this.on("close", (_removed: boolean, done: () => void) => {
      stopPolling?.();
      runner.stop().finally(() => {
        completion.close();
        done();
      });
    });
  }
  RED.nodes.registerType("magento-order-in", MagentoOrderIn);
}
