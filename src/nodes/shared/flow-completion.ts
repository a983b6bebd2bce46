/**
 * When has the flow finished with the messages a node sent? Node-RED's messaging hooks tell:
 * every delivery of a tracked message id (announced by `onSend`, or made by the runtime itself,
 * e.g. to Catch and Complete nodes) counts until the receiving node calls `done()`
 * (`onComplete`). Nodes that never call `done()` (input handlers without the third argument)
 * count as finished once they received the message. What those nodes send on with the same
 * `_msgid` is followed too, so "settled" means: every node the message reached is done with it.
 *
 * `magento-order-in` uses this to store its cursor only after the pages before it are done
 * downstream: a crash then re-pulls unfinished pages instead of skipping them. A node that
 * ended with `done(err)` is a failure of the page, unless the error says the orders are in a
 * sync queue (`queuedError`): then the page is done with too.
 */
import type { NodeAPI } from "node-red";

interface Delivery {
  msg?: { _msgid?: unknown };
  destination?: { id?: string; node?: unknown };
}

interface Tracked {
  pending: number;
  inTransit: Map<string, number>;
  waiters: Array<(outcome: PageOutcome) => void>;
  /** The first error a node ended with that did not queue the orders. */
  failure?: unknown;
}

/** How the flow ended with a message: `failure` is set when a node failed it without queuing its orders. */
export interface PageOutcome {
  failure?: unknown;
}

const QUEUED = Symbol.for("@orderbridge/node-red-order-sync/queued");

/** Marks an error whose orders are all in a durable sync queue: it does not hold the cursor. */
export function queuedError<E extends Error>(err: E): E {
  (err as unknown as Record<symbol, boolean>)[QUEUED] = true;
  return err;
}

export function isQueuedError(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[QUEUED] === true;
}

type Hooks = {
  add(name: string, fn: (event: unknown) => void): void;
  remove(name: string): void;
};

export class FlowCompletion {
  private readonly tracked = new Map<string, Tracked>();
  /** Outcomes of messages that finished before anyone asked (read once by `settled`). */
  private readonly finished = new Map<string, PageOutcome>();
  private readonly hooks: Hooks | undefined;
  private readonly label: string;

  constructor(
    RED: NodeAPI,
    owner: string,
    private readonly newId: () => string,
  ) {
    this.hooks = (RED as unknown as { hooks?: Hooks }).hooks;
    this.label = `orderbridge-${owner.replace(/[^\w-]/g, "_")}`;
    if (!this.hooks) return;
    this.hooks.add(`onSend.${this.label}`, (events) => {
      for (const e of events as Delivery[]) {
        const t = this.of(e.msg);
        if (!t || !e.destination?.id) continue;
        t.pending += 1;
        t.inTransit.set(e.destination.id, (t.inTransit.get(e.destination.id) ?? 0) + 1);
      }
    });
    this.hooks.add(`onReceive.${this.label}`, (event) => {
      const e = event as Delivery;
      const t = this.of(e.msg);
      if (!t) return;
      const id = e.destination?.id ?? "";
      const announced = t.inTransit.get(id) ?? 0;
      if (announced > 0) t.inTransit.set(id, announced - 1);
      else t.pending += 1; // delivered by the runtime (Catch, Complete …), not by a send
      const node = e.destination?.node as { _expectedDoneCount?: unknown } | undefined;
      if (node?._expectedDoneCount === 0) this.finish(e.msg); // never calls done()
    });
    this.hooks.add(`onComplete.${this.label}`, (event) => {
      const e = event as Delivery & { error?: unknown };
      const t = this.of(e.msg);
      if (t && e.error && !isQueuedError(e.error)) t.failure ??= e.error;
      this.finish(e.msg);
    });
  }

  /** Whether the runtime can tell (the hooks API exists). */
  get available(): boolean {
    return this.hooks !== undefined;
  }

  /** A new message id to send with; its deliveries are followed from now on. */
  track(): string {
    const id = this.newId();
    this.tracked.set(id, { pending: 0, inTransit: new Map(), waiters: [] });
    return id;
  }

  /** Resolves once every node the message reached is done with it (at once for an untracked id). */
  settled(id: string): Promise<PageOutcome> {
    // Let the hooks of the send that just happened run first.
    return new Promise((resolve) =>
      setImmediate(() => {
        const finished = this.finished.get(id);
        if (finished) {
          this.finished.delete(id);
          resolve(finished);
          return;
        }
        const t = this.tracked.get(id);
        if (!t || t.pending <= 0) {
          this.tracked.delete(id);
          resolve(t?.failure !== undefined ? { failure: t.failure } : {});
        } else t.waiters.push(resolve);
      }),
    );
  }

  close(): void {
    this.hooks?.remove(`*.${this.label}`);
    for (const t of this.tracked.values()) t.waiters.splice(0);
    this.tracked.clear();
    this.finished.clear();
  }

  private of(msg: Delivery["msg"]): Tracked | undefined {
    const id = msg?._msgid;
    return typeof id === "string" ? this.tracked.get(id) : undefined;
  }

  private finish(msg: Delivery["msg"]): void {
    const t = this.of(msg);
    if (!t) return;
    t.pending -= 1;
    if (t.pending > 0) return;
    this.tracked.delete(msg?._msgid as string);
    const outcome: PageOutcome = t.failure !== undefined ? { failure: t.failure } : {};
    const waiters = t.waiters.splice(0);
    if (waiters.length === 0) this.finished.set(msg?._msgid as string, outcome);
    for (const wake of waiters) wake(outcome);
  }
}
