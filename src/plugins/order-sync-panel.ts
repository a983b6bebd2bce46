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

export const PLUGIN_ID = "orderbridge-order-sync";
export const COMMS_TOPIC = "orderbridge/sync";
export const ROUTES = {
  results: "/orderbridge/sync/results",
  intakes: "/orderbridge/sync/intakes",
  again: "/orderbridge/sync/again",
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
  };
}

export interface Installed {
  /** Stops the editor notifications (the routes stay: Express cannot remove them). */
  uninstall(): void;
}

/** Adds the admin routes and the editor notifications. Called once from the plugin's `onadd`. */
export function install(RED: PanelRED, log: SyncLog = syncLog): Installed {
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
  // A deploy may add, remove or disable intake nodes: editors refresh their intake picker.
  const onFlowsStarted = () => notify(true);
  RED.events.on("flows:started", onFlowsStarted);

  return {
    uninstall() {
      unsubscribe();
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
