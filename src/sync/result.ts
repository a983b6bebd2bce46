import { z } from "zod";

/** What happened to one order in one target (DESIGN.md "Per-order result"). */
export const syncActions = ["created", "updated", "unchanged", "skipped", "failed"] as const;
export type SyncAction = (typeof syncActions)[number];

export const syncTargets = ["magento", "tryton", "salesforce", "filter"] as const;
export type SyncTarget = (typeof syncTargets)[number];

export interface SyncError {
  /** Stable machine code, e.g. `invalid_order`, `conflict`, `mismatch`, `http_500`. */
  code: string;
  /** One sentence a merchant understands, naming the order and the field or call. */
  message: string;
  /** Dotted path of the offending field, when there is one (e.g. `items.2.qty_ordered`). */
  field?: string;
}

export interface SyncResult {
  orderId: number | null;
  incrementId: string | null;
  target: SyncTarget;
  action: SyncAction;
  targetId?: string | number;
  url?: string;
  state?: string;
  /** How the target's amounts were made to equal Magento's, when not by the plain mapping (docs/money.md). */
  adjustments?: string[];
  error?: SyncError;
}

export const syncErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
});

export function failed(
  order: { orderId: number | null; incrementId: string | null },
  target: SyncTarget,
  error: SyncError,
): SyncResult {
  return { ...order, target, action: "failed", error };
}
