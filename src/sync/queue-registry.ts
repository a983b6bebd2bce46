/**
 * The sync queues and Magento intakes running in this Node-RED process, so that an intake can
 * pull again what the target nodes after it queued, and the "Order sync" sidebar can show and
 * act on every queue. One registry per process, shared by every copy of this module (nodes and
 * the plugin are separate entry points).
 */
import type { QueueEntry, SyncQueue } from "./sync-queue";

export interface QueueOwner {
  nodeId: string;
  nodeType: string;
  name: string;
  queue: SyncQueue;
}

export interface IntakeRef {
  nodeId: string;
  magentoConfigId: string;
}

export class QueueRegistry {
  private readonly queues = new Map<string, QueueOwner>();
  private readonly intakes = new Map<string, IntakeRef>();
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribes = new Map<string, () => void>();

  /** Registers a target node's queue; the returned function removes it (node `close`). */
  addQueue(owner: QueueOwner): () => void {
    this.unsubscribes.get(owner.nodeId)?.();
    this.queues.set(owner.nodeId, owner);
    this.unsubscribes.set(
      owner.nodeId,
      owner.queue.subscribe(() => this.emit()),
    );
    this.emit();
    return () => {
      if (this.queues.get(owner.nodeId) !== owner) return;
      this.queues.delete(owner.nodeId);
      this.unsubscribes.get(owner.nodeId)?.();
      this.unsubscribes.delete(owner.nodeId);
      this.emit();
    };
  }

  addIntake(ref: IntakeRef): () => void {
    this.intakes.set(ref.nodeId, ref);
    return () => {
      if (this.intakes.get(ref.nodeId) === ref) this.intakes.delete(ref.nodeId);
    };
  }

  owners(): QueueOwner[] {
    return [...this.queues.values()];
  }

  owner(nodeId: string): QueueOwner | undefined {
    return this.queues.get(nodeId);
  }

  /**
   * Which running intake pulls an entry again: the one that pulled it, else the only one reading
   * the same Magento configuration, else the only one there is.
   */
  intakeFor(entry: Pick<QueueEntry, "intakeNodeId" | "magentoConfigId">): string | undefined {
    if (entry.intakeNodeId && this.intakes.has(entry.intakeNodeId)) return entry.intakeNodeId;
    const all = [...this.intakes.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const sameShop = entry.magentoConfigId
      ? all.filter((i) => i.magentoConfigId === entry.magentoConfigId)
      : [];
    if (sameShop.length > 0) return sameShop[0].nodeId;
    return all.length === 1 ? all[0].nodeId : undefined;
  }

  /** The due entries an intake pulls again, by target node. */
  dueFor(intakeId: string): Array<{ owner: QueueOwner; entries: QueueEntry[] }> {
    const out: Array<{ owner: QueueOwner; entries: QueueEntry[] }> = [];
    for (const owner of this.queues.values()) {
      const entries = owner.queue.due().filter((e) => this.intakeFor(e) === intakeId);
      if (entries.length) out.push({ owner, entries });
    }
    return out;
  }

  /** When an entry this intake pulls again next comes due (epoch ms), if any. */
  nextDueFor(intakeId: string): number | undefined {
    let next: number | undefined;
    for (const owner of this.queues.values()) {
      const at = owner.queue.nextDueAt((e) => this.intakeFor(e) === intakeId);
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch {
        // The sidebar never breaks a node.
      }
    }
  }
}

const GLOBAL_KEY = Symbol.for("@orderbridge/node-red-order-sync/queue-registry");
type WithRegistry = typeof globalThis & { [GLOBAL_KEY]?: QueueRegistry };
export const queueRegistry: QueueRegistry = ((globalThis as WithRegistry)[GLOBAL_KEY] ??=
  new QueueRegistry());
