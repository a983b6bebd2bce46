import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from "node-red";
import {
  isAfter,
  runPull,
  triggerOf,
  type CursorStore,
  type PullSummary,
  type PullTrigger,
} from "../magento/intake";
import type { PulledPage } from "../magento/order-source";
import type { OrderCursor } from "../magento/search";
import { queueRegistry } from "../sync/queue-registry";
import type { MagentoConfigNode } from "./magento-config";
import { errorText, progressStatus, safeError } from "./shared/report";
import { FlowCompletion } from "./shared/flow-completion";
import { pullQueued, retryWhenDue, type RetryMap } from "./shared/queue-pull";
import { readContext, writeContext } from "./shared/context-value";
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

function describe(summary: PullSummary, retried: number): string {
  const invalid = summary.invalid ? `, ${summary.invalid} invalid` : "";
  const again = retried ? `, ${retried} retried` : "";
  return `${summary.orders} orders${again}${invalid}`;
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
    const leaveRegistry = queueRegistry.addIntake({ nodeId: this.id, magentoConfigId: def.magento });
    const context = this.context();
    // The stored cursor only passes pages the flow is done with (tryton-sale-out, salesforce-order-out
    // … called done(), or done(err) with every order of the page in their sync queue): after a crash
    // the unfinished pages are pulled again, not skipped. A page that failed otherwise holds the
    // cursor: the next run pulls again from it. Within a run the pull goes on from the last page sent.
    const completion = new FlowCompletion(RED, this.id, () => RED.util.generateId());
    const sentPages: string[] = [];
    let sent: OrderCursor | null | undefined;
    // Bumped by a reset and by a held page: the pages of runs started before no longer move the cursor.
    let generation = 0;
    let runGeneration = 0;
    let settledSoFar: Promise<unknown> = Promise.resolve();
    const stored = async () => (await readContext<OrderCursor>(context, CURSOR_KEY)) ?? null;
    const cursors: CursorStore = {
      load: async () => {
        runGeneration = generation;
        return sent !== undefined ? sent : stored();
      },
      save: async (cursor) => {
        if (cursor === null) {
          generation += 1;
          runGeneration = generation;
        }
        const since = runGeneration;
        if (since === generation) sent = cursor;
        if (cursor === null || !completion.available) {
          await writeContext(context, CURSOR_KEY, cursor ?? undefined);
          return;
        }
        // After this page and every page sent before it, in the order they were sent.
        const pages = sentPages.splice(0).map((id) => completion.settled(id));
        settledSoFar = settledSoFar.then(async () => {
          const outcomes = await Promise.all(pages);
          if (since !== generation) return;
          const failed = outcomes.find((o) => o.failure !== undefined);
          if (failed) {
            generation += 1;
            sent = undefined;
            this.warn(
              `A page of orders failed in the flow without reaching a sync queue (${errorText(failed.failure)}); ` +
                "the cursor stays before it and the next run pulls it again.",
            );
            return;
          }
          // Pages settling out of order never move the cursor back.
          if (isAfter(cursor, await stored())) await writeContext(context, CURSOR_KEY, cursor);
        });
        settledSoFar = settledSoFar.catch((err: unknown) =>
          this.error(`The cursor could not be stored in the context store: ${errorText(err)}`),
        );
      },
    };

    const pull = (trigger: PullTrigger, base: NodeMessage, send: (msgs: (NodeMessage | null)[]) => void) =>
      runner.run(async (signal) => {
        status.busy("pulling…");
        let total = 0;
        const emit = (page: PulledPage, kind: string, retry?: RetryMap) => {
          total += page.orders.length;
          // A retry page is not an answer to the triggering message (an HTTP request must not be answered twice).
          const from: NodeMessage = retry ? {} : base;
          const magento = {
            trigger: kind,
            page: page.page,
            fetched: page.fetched,
            cursor: page.cursor,
            node: this.id,
            config: def.magento,
            ...(retry ? { retry } : {}),
          };
          if (page.invalid.length) {
            recordResults(
              { nodeId: this.id, nodeType: "magento-order-in", magentoConfigId: def.magento },
              page.invalid.map((i) => i.result),
            );
          }
          // Pages of an incremental pull are followed through the flow (manual, webhook and retry pulls move no cursor).
          const _msgid = page.cursor ? completion.track() : RED.util.generateId();
          if (page.cursor) sentPages.push(_msgid);
          const ok = page.orders.length ? { ...from, _msgid, payload: page.orders, magento } : null;
          const bad = page.invalid.length
            ? {
                ...from,
                _msgid,
                payload: page.invalid.map((i) => i.result),
                invalid: page.invalid.map((i) => i.raw),
                magento,
              }
            : null;
          if (ok || bad) send([ok, bad]);
          status.busy(`page ${page.page} · ${total} orders`);
        };
        // What the sync queues after this node hold for it and is due goes first.
        const retried = await pullQueued(
          config.client,
          this.id,
          { pageSize: config.pageSize, maxOrders: maxPages ? maxPages * config.pageSize : undefined, signal },
          (page, retry) => emit(page, "retry", retry),
        );
        const summary = await runPull(config.client, trigger, cursors, {
          pageSize: config.pageSize,
          maxPages,
          signal,
          onPage: (page) => emit(page, trigger.kind),
        });
        status.done(describe(summary, retried), summary.invalid > 0);
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
    // Without polling, the queued orders are still pulled again when they come due.
    const stopRetrying = stopPolling
      ? undefined
      : retryWhenDue(this.id, () =>
          pull({ kind: "queue" }, {}, (msgs) => this.send(msgs)).catch((err: unknown) => {
            status.error(err);
            this.error(safeError(err), { payload: { trigger: "queue" } } as NodeMessage);
          }),
        );

    this.on("close", (_removed: boolean, done: () => void) => {
      stopPolling?.();
      stopRetrying?.();
      runner.stop().finally(() => {
        leaveRegistry();
        completion.close();
        done();
      });
    });
  }
  RED.nodes.registerType("magento-order-in", MagentoOrderIn);
}
