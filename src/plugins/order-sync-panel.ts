/**
 * Runtime half of the "Order sync" sidebar panel (editor half: plugins/order-sync-panel.html).
 * Serves the recent results of `src/sync/sync-log.ts` to the editor, tells open editors when
 * new results arrive (comms topic `orderbridge/sync`), and runs "sync again": the chosen orders
 * are pulled once more by a deployed `magento-order-in` node, so they flow through whatever the
 * user wired after it, exactly like the seeds' "Sync with Salesforce" action.
 */
import type { Request, RequestHandler, Response } from "express";
import type { NodeAPI, NodeDef } from "node-red";
import { syncActions, syncTargets, type SyncAction, type SyncTarget } from "../sync/result";
import { syncLog, type SyncLog, type SyncLogEntry } from "../sync/sync-log";
import { queueRegistry, type QueueRegistry } from "../sync/queue-registry";
import type { QueueEntry, QueueState } from "../sync/sync-queue";

export const PLUGIN_ID = "orderbridge-order-sync";
export const COMMS_TOPIC = "orderbridge/sync";
export const ROUTES = {
  results: "/orderbridge/sync/results",
  intakes: "/orderbridge/sync/intakes",
  again: "/orderbridge/sync/again",
  queue: "/orderbridge/sync/queue",
  queueAgain: "/orderbridge/sync/queue/again",
  queueDismiss: "/orderbridge/sync/queue/dismiss",
} as const;
const INTAKE_TYPE = "magento-order-in";
const MAX_ORDERS = 500;
/** Coalesce bursts of results (a 300-order page) into one editor refresh. */
const NOTIFY_MS = 250;

/** The parts of the runtime API the panel uses (the test helper's RED has them too). */
export type PanelRED = Pick<NodeAPI, "nodes" | "httpAdmin" | "auth" | "comms" | "log" | "events">;

export interface IntakeInfo {
  id: string;
  name: string;
  /** Flow (tab) id, for the editor to name it. */
  z: string;
  magentoConfigId: string;
  /** The Magento config node's name, or its base URL. */
  magentoLabel: string;
}

export interface SyncAgainOrder {
  orderId?: number | null;
  incrementId?: string | null;
}

type IntakeDef = NodeDef & { magento?: unknown; baseUrl?: unknown };

export function listIntakes(RED: PanelRED): IntakeInfo[] {
  const defs: IntakeDef[] = [];
  const configs = new Map<string, IntakeDef>();
  RED.nodes.eachNode((def: NodeDef) => {
    if (def.type === INTAKE_TYPE) defs.push(def as IntakeDef);
    else if (def.type === "magento-config") configs.set(def.id, def as IntakeDef);
  });
  // getNode is null for disabled nodes, nodes on disabled flows and subflow templates:
  // only running intakes can pull.
  return defs
    .filter((def) => RED.nodes.getNode(def.id))
    .map((def) => {
      const configId = typeof def.magento === "string" ? def.magento : "";
      const config = configs.get(configId);
      return {
        id: def.id,
        name: def.name || "",
        z: def.z ?? "",
        magentoConfigId: configId,
        magentoLabel: String(config?.name || config?.baseUrl || ""),
      };
    });
}

export class SyncAgainError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "SyncAgainError";
  }
}

function cleanOrders(raw: unknown): Array<{ orderId: number | null; incrementId: string | null }> {
  if (!Array.isArray(raw) || raw.length === 0) throw new SyncAgainError("Choose at least one order.", 400);
  if (raw.length > MAX_ORDERS) {
    throw new SyncAgainError(`Sync at most ${MAX_ORDERS} orders at once (got ${raw.length}).`, 400);
  }
  return raw.map((o: SyncAgainOrder, i) => {
    const orderId = Number.isSafeInteger(o?.orderId) && Number(o.orderId) > 0 ? Number(o.orderId) : null;
    const inc = typeof o?.incrementId === "string" ? o.incrementId.trim() : "";
    const incrementId = inc && inc.length <= 64 ? inc : null;
    if (orderId === null && incrementId === null) {
      throw new SyncAgainError(`Order ${i + 1} has neither an order id nor an increment id.`, 400);
    }
    return { orderId, incrementId };
  });
}

/** The intake that pulled this order before (its log entries, newest first), if it is still running. */
function defaultIntake(
  order: { orderId: number | null; incrementId: string | null },
  intakes: IntakeInfo[],
  log: SyncLog,
): IntakeInfo {
  const running = new Map(intakes.map((i) => [i.id, i]));
  const search = order.orderId !== null ? String(order.orderId) : (order.incrementId ?? "");
  const entries = log
    .query({ search, history: true, limit: 2_000 })
    .filter((e) =>
      order.orderId !== null ? e.orderId === order.orderId : e.incrementId === order.incrementId,
    );
  const label = order.incrementId ? `order #${order.incrementId}` : `order ${order.orderId}`;
  for (const e of entries) {
    const id = e.source.intakeNodeId ?? (e.source.nodeType === INTAKE_TYPE ? e.source.nodeId : undefined);
    const intake = id ? running.get(id) : undefined;
    if (intake) return intake;
  }
  const configId = entries.find((e) => e.source.magentoConfigId)?.source.magentoConfigId;
  const sameShop = configId ? intakes.filter((i) => i.magentoConfigId === configId) : [];
  if (sameShop.length === 1) return sameShop[0];
  if (intakes.length === 1) return intakes[0];
  if (intakes.length === 0) {
    throw new SyncAgainError(`No magento-order-in node is deployed to pull ${label} again.`, 409);
  }
  throw new SyncAgainError(
    `Several magento-order-in nodes could pull ${label}: choose one in the panel.`,
    409,
  );
}

export interface SyncAgainResult {
  intake: string;
  name: string;
  orders: number;
}

/**
 * Sends `{ payload: { orderIds, incrementIds } }` into the chosen (or each order's own) intake node.
 */
export function syncAgain(
  RED: PanelRED,
  body: { orders?: unknown; intake?: unknown },
  log: SyncLog = syncLog,
): SyncAgainResult[] {
  const orders = cleanOrders(body.orders);
  const intakes = listIntakes(RED);
  let chosen: IntakeInfo | undefined;
  if (body.intake !== undefined && body.intake !== null && body.intake !== "") {
    chosen = intakes.find((i) => i.id === body.intake);
    if (!chosen) {
      throw new SyncAgainError("That magento-order-in node is not deployed (or is disabled).", 404);
    }
  }
  const byIntake = new Map<IntakeInfo, { orderIds: Set<number>; incrementIds: Set<string> }>();
  for (const order of orders) {
    const intake = chosen ?? defaultIntake(order, intakes, log);
    const batch = byIntake.get(intake) ?? { orderIds: new Set(), incrementIds: new Set() };
    byIntake.set(intake, batch);
    if (order.orderId !== null) batch.orderIds.add(order.orderId);
    else if (order.incrementId !== null) batch.incrementIds.add(order.incrementId);
  }
  const sent: SyncAgainResult[] = [];
  for (const [intake, batch] of byIntake) {
    const payload: { orderIds?: number[]; incrementIds?: string[] } = {};
    if (batch.orderIds.size) payload.orderIds = [...batch.orderIds];
    if (batch.incrementIds.size) payload.incrementIds = [...batch.incrementIds];
    RED.nodes.getNode(intake.id).receive({ payload, topic: "sync again" });
    sent.push({
      intake: intake.id,
      name: intake.name,
      orders: batch.orderIds.size + batch.incrementIds.size,
    });
  }
  return sent;
}

/** A queue entry as the panel shows it: with the node that holds it. */
export interface QueueRow extends QueueEntry {
  nodeId: string;
  nodeName: string;
  nodeType: string;
}

const queueStates: readonly QueueState[] = ["pending", "retrying", "attention"];

/** Every queued order of every target node, those needing attention first, then the latest failures. */
export function queueRows(
  registry: QueueRegistry,
  q: { target?: SyncTarget; state?: QueueState; search?: string; limit?: number } = {},
): { entries: QueueRow[]; counts: Record<QueueState, number> } {
  const counts: Record<QueueState, number> = { pending: 0, retrying: 0, attention: 0 };
  const needle = q.search?.trim().toLowerCase() ?? "";
  const rows: QueueRow[] = [];
  for (const owner of registry.owners()) {
    for (const e of owner.queue.entries()) {
      if (q.target && e.target !== q.target) continue;
      if (
        needle &&
        ![e.incrementId, e.orderId].some((v) => v !== null && String(v).toLowerCase().includes(needle))
      )
        continue;
      counts[e.state] += 1;
      if (q.state && e.state !== q.state) continue;
      rows.push({ ...e, nodeId: owner.nodeId, nodeName: owner.name, nodeType: owner.nodeType });
    }
  }
  rows.sort(
    (a, b) =>
      Number(b.state === "attention") - Number(a.state === "attention") || b.lastFailedAt - a.lastFailedAt,
  );
  const limit = Math.max(1, Math.min(MAX_ORDERS, Math.floor(Number(q.limit) || 300)));
  return { entries: rows.slice(0, limit), counts };
}

function cleanItems(raw: unknown): Array<{ nodeId: string; key: string }> {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new SyncAgainError("Choose at least one queued order.", 400);
  if (raw.length > MAX_ORDERS) {
    throw new SyncAgainError(`Choose at most ${MAX_ORDERS} queued orders at once (got ${raw.length}).`, 400);
  }
  return raw.map((item: { nodeId?: unknown; key?: unknown }, i) => {
    if (typeof item?.nodeId !== "string" || typeof item?.key !== "string" || !/^(id|inc):./.test(item.key)) {
      throw new SyncAgainError(`Queued order ${i + 1} needs a node id and a queue key.`, 400);
    }
    return { nodeId: item.nodeId, key: item.key };
  });
}

export interface QueueActionResult {
  /** Entries found and changed. */
  changed: number;
  /** magento-order-in nodes asked to pull the orders again now. */
  intakes: string[];
  /** Entries no running magento-order-in can pull (they wait until one is deployed). */
  unassigned: number;
}

/**
 * "Sync again" (due now, and the intakes that pull them run at once) or "dismiss" (the entries
 * go) for queued orders.
 */
export async function queueAction(
  RED: PanelRED,
  registry: QueueRegistry,
  action: "again" | "dismiss",
  body: { items?: unknown },
): Promise<QueueActionResult> {
  const items = cleanItems(body.items);
  const byNode = new Map<string, string[]>();
  for (const { nodeId, key } of items) byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), key]);
  const result: QueueActionResult = { changed: 0, intakes: [], unassigned: 0 };
  const intakes = new Set<string>();
  for (const [nodeId, keys] of byNode) {
    const owner = registry.owner(nodeId);
    if (!owner) throw new SyncAgainError("That node is not deployed any more (or is disabled).", 404);
    if (action === "dismiss") {
      result.changed += await owner.queue.dismiss(keys);
      continue;
    }
    for (const key of keys) {
      const entry = owner.queue.get(key);
      if (!entry) continue;
      const intake = registry.intakeFor(entry);
      if (intake) intakes.add(intake);
      else result.unassigned += 1;
    }
    result.changed += await owner.queue.again(keys);
  }
  for (const id of intakes) {
    const node = RED.nodes.getNode(id);
    if (!node) continue;
    node.receive({ payload: { retryQueue: true }, topic: "sync queue" });
    result.intakes.push(id);
  }
  return result;
}

function one(value: unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === "string" && v !== "" ? v : undefined;
}

function readQuery(q: Request["query"]) {
  const target = one(q.target);
  const actions = (one(q.action)?.split(",") ?? []).filter((a): a is SyncAction =>
    syncActions.includes(a as SyncAction),
  );
  return {
    target: syncTargets.includes(target as SyncTarget) ? (target as SyncTarget) : undefined,
    action: actions.length ? actions : undefined,
    search: one(q.search)?.slice(0, 100),
    limit: Number(one(q.limit)) || undefined,
    history: one(q.history) === "1" || one(q.history) === "true",
    problems: one(q.problems) === "1" || one(q.problems) === "true",
  };
}

export interface Installed {
  /** Stops the editor notifications (the routes stay: Express cannot remove them). */
  uninstall(): void;
}

/** Adds the admin routes and the editor notifications. Called once from the plugin's `onadd`. */
export function install(
  RED: PanelRED,
  log: SyncLog = syncLog,
  registry: QueueRegistry = queueRegistry,
): Installed {
  const read: RequestHandler = RED.auth.needsPermission("orderbridge.read");
  const write: RequestHandler = RED.auth.needsPermission("orderbridge.write");

  RED.httpAdmin.get(ROUTES.results, read, (req: Request, res: Response) => {
    const q = readQuery(req.query);
    const entries: SyncLogEntry[] = log.query(q);
    res.json({ seq: log.lastSeq, entries, counts: log.counts(q.target) });
  });

  RED.httpAdmin.get(ROUTES.intakes, read, (_req: Request, res: Response) => {
    res.json({ intakes: listIntakes(RED) });
  });

  RED.httpAdmin.post(ROUTES.again, write, (req: Request, res: Response) => {
    try {
      const sent = syncAgain(RED, (req.body ?? {}) as { orders?: unknown; intake?: unknown }, log);
      const total = sent.reduce((n, s) => n + s.orders, 0);
      RED.log.info(
        `Order sync: pulling ${total} order(s) again through ${sent.length} magento-order-in node(s)`,
      );
      res.json({ ok: true, sent });
    } catch (err) {
      const status = err instanceof SyncAgainError ? err.status : 500;
      res.status(status).json({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });

  RED.httpAdmin.get(ROUTES.queue, read, (req: Request, res: Response) => {
    const q = readQuery(req.query);
    const state = one(req.query.state);
    res.json(
      queueRows(registry, {
        target: q.target,
        state: queueStates.includes(state as QueueState) ? (state as QueueState) : undefined,
        search: q.search,
        limit: q.limit,
      }),
    );
  });

  for (const action of ["again", "dismiss"] as const) {
    const route = action === "again" ? ROUTES.queueAgain : ROUTES.queueDismiss;
    RED.httpAdmin.post(route, write, (req: Request, res: Response) => {
      queueAction(RED, registry, action, (req.body ?? {}) as { items?: unknown }).then(
        (result) => {
          RED.log.info(
            `Order sync: ${action === "again" ? "retrying" : "dismissed"} ${result.changed} queued order(s)`,
          );
          res.json({ ok: true, ...result });
        },
        (err: unknown) => {
          const status = err instanceof SyncAgainError ? err.status : 500;
          res.status(status).json({ ok: false, error: err instanceof Error ? err.message : String(err) });
        },
      );
    });
  }

  let timer: NodeJS.Timeout | undefined;
  let intakesChanged = false;
  const notify = (intakes = false) => {
    intakesChanged ||= intakes;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      RED.comms.publish(COMMS_TOPIC, { seq: log.lastSeq, intakes: intakesChanged }, false);
      intakesChanged = false;
    }, NOTIFY_MS);
    timer.unref?.();
  };
  const unsubscribe = log.subscribe(() => notify());
  const unsubscribeQueues = registry.subscribe(() => notify());
  // A deploy may add, remove or disable intake nodes: editors refresh their intake picker.
  const onFlowsStarted = () => notify(true);
  RED.events.on("flows:started", onFlowsStarted);

  return {
    uninstall() {
      unsubscribe();
      unsubscribeQueues();
      RED.events.removeListener("flows:started", onFlowsStarted);
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

export default function register(RED: NodeAPI): void {
  let installed = false;
  // A plain sidebar plugin has no `type` (only themes and library sources do).
  RED.plugins.registerPlugin(PLUGIN_ID, {
    onadd() {
      if (installed) return;
      installed = true;
      install(RED);
    },
  } as Parameters<NodeAPI["plugins"]["registerPlugin"]>[1]);
}
