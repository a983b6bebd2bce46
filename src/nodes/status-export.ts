import { readContext, writeContext } from "./shared/context-value";
import type { Node, NodeAPI, NodeDef, NodeMessage } from "node-red";
import {
  exportTriggerOf,
  StatusExporter,
  type CursorStore,
  type ExportSummary,
  type ExportTrigger,
  type StatusCursor,
  type StatusExportOptions,
} from "../sync/status-export";
import { recordResults } from "../sync/sync-log";
import type { MagentoConfigNode } from "./magento-config";
import { progressStatus, safeError } from "./shared/report";
import { intervalMs, startPolling } from "./shared/poll";
import { SerialRunner } from "./shared/serial";
import type { TrytonConfigNode } from "./tryton-config";

export interface StatusExportDef extends NodeDef {
  tryton: string;
  magento: string;
  referencePrefix: string;
  cancel: boolean;
  ship: boolean;
  invoice: "off" | "offline" | "online";
  comment: boolean;
  notify: boolean;
  carrierCode: string;
  carrierTitle: string;
  /** Export on a timer when on. */
  autoSync: boolean;
  interval: number | string;
  intervalUnit: "s" | "m" | "h";
}

const CURSOR_KEY = "statusCursor";

/** The node's settings as exporter options (unset texts fall back to the defaults). */
export function exportSettings(
  def: Partial<StatusExportDef>,
  pageSize?: number,
): Partial<StatusExportOptions> {
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  return {
    referencePrefix: typeof def.referencePrefix === "string" ? def.referencePrefix : "",
    cancel: def.cancel !== false,
    ship: def.ship !== false,
    invoice: def.invoice === "offline" || def.invoice === "online" ? def.invoice : "off",
    comment: def.comment === true,
    notify: def.notify === true,
    carrierCode: text(def.carrierCode) || undefined,
    carrierTitle: text(def.carrierTitle) || undefined,
    pageSize,
  };
}

function describe(s: ExportSummary): { text: string; warn: boolean } {
  const parts = [
    [s.updated, "upd"],
    [s.unchanged, "same"],
    [s.failed, "failed"],
  ].filter(([n]) => n);
  return { text: parts.map(([n, w]) => `${n} ${w}`).join(", ") || "nothing new", warn: s.failed > 0 };
}

export default function register(RED: NodeAPI): void {
  function StatusExport(this: Node, def: StatusExportDef) {
    RED.nodes.createNode(this, def);
    const status = progressStatus(this);
    const runner = new SerialRunner();
    const tryton = RED.nodes.getNode(def.tryton) as TrytonConfigNode | null;
    const magento = RED.nodes.getNode(def.magento) as MagentoConfigNode | null;
    let exporter: StatusExporter | undefined;
    let problem: Error | undefined;
    try {
      if (!tryton?.client) throw new Error("status-export: choose a complete Tryton configuration node.");
      if (!magento?.client) throw new Error("status-export: choose a Magento configuration node.");
      exporter = new StatusExporter(tryton.client, magento.client, exportSettings(def, magento.pageSize));
    } catch (err) {
      problem = safeError(err);
      status.error(problem);
    }
    const context = this.context();
    const cursors: CursorStore = {
      load: async () => (await readContext<StatusCursor>(context, CURSOR_KEY)) ?? null,
      save: (cursor) => writeContext(context, CURSOR_KEY, cursor ?? undefined),
    };

    const exportNow = (
      trigger: ExportTrigger,
      base: NodeMessage,
      send: (msgs: (NodeMessage | null)[]) => void,
    ) =>
      runner.run(async (signal) => {
        if (problem || !exporter) throw problem;
        status.busy("reading Tryton…");
        const summary = await exporter.run(trigger, cursors, {
          signal,
          progress: (text) => status.busy(text),
          onPage: ({ page, results, failures }) => {
            recordResults(
              { nodeId: this.id, nodeType: "status-export", magentoConfigId: def.magento },
              results,
            );
            const statusExport = { trigger: trigger.kind, page };
            send([
              { ...base, payload: results, statusExport },
              failures.length ? { ...base, payload: failures, statusExport } : null,
            ]);
          },
        });
        const shown = describe(summary);
        status.done(shown.text, shown.warn);
        return summary;
      });

    this.on("input", (msg, send, done) => {
      let trigger: ExportTrigger;
      try {
        if (problem) throw problem;
        trigger = exportTriggerOf(msg.payload);
      } catch (err) {
        status.error(err);
        done(safeError(err));
        return;
      }
      exportNow(trigger, msg, send).then(
        () => done(),
        (err: unknown) => {
          status.error(err);
          done(safeError(err));
        },
      );
    });

    const everyMs = intervalMs(def.interval, def.intervalUnit);
    const stopPolling =
      def.autoSync && everyMs >= 1000 && !problem
        ? startPolling(this, runner, status, everyMs, () =>
            exportNow({ kind: "incremental" }, {}, (msgs) => this.send(msgs)),
          )
        : undefined;
    if (!stopPolling && !problem) status.idle("on input");

    this.on("close", (_removed: boolean, done: () => void) => {
      stopPolling?.();
      runner.stop().finally(done);
    });
  }
  RED.nodes.registerType("status-export", StatusExport);
}
