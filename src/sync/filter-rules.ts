import { isGuest, orderIdentity, orderLabel, validateOrder, type MagentoOrder } from "../magento/schema";
import type { SyncError, SyncResult } from "./result";

/*
 * Which Magento orders go on to a target: the options of seed 004 ("Zero Grand Total",
 * "Sync all orders") and of TNW's order push (reference anchors §2.2-2.3: store views,
 * customer groups, "Create Order = For paid order").
 */

/** Magento's stock order statuses (reference/magento-rest.md §7.5), in the admin's order. */
export const stockStatuses = [
  "pending",
  "pending_payment",
  "processing",
  "fraud",
  "complete",
  "closed",
  "canceled",
  "holded",
  "payment_review",
] as const;

/** Magento's default customer groups; 0 is how guest checkouts are recorded. */
export const defaultCustomerGroups: Readonly<Record<number, string>> = {
  0: "NOT LOGGED IN",
  1: "General",
  2: "Wholesale",
  3: "Retailer",
};

/** The rule that kept an order back: `error.code` of its skipped result. */
export type SkipRule =
  | "zero_grand_total"
  | "status_not_selected"
  | "store_not_selected"
  | "customer_group_not_selected"
  | "not_paid";

export interface FilterRules {
  /** Seed 004 "Zero Grand Total": Synchronize / Do not synchronize. */
  zeroGrandTotal: "synchronize" | "do_not_synchronize";
  /** Seed 004 "Sync all orders": Yes = any status; No = only `statuses`. */
  syncAllOrders: boolean;
  /** Status codes (lower case), stock or custom; read only when `syncAllOrders` is false. */
  statuses: string[];
  /** Store view ids (`store_id`) to sync; `null` = every store view. */
  storeIds: number[] | null;
  /** Customer group ids (`customer_group_id`, 0 = guest) to sync; `null` = every group. */
  customerGroupIds: number[] | null;
  /** TNW "Create Order = For paid order": only orders with nothing left to pay (see `isPaid`). */
  paidOnly: boolean;
}

/** The node's settings as the editor saves them (flow JSON written by hand may use the looser forms). */
export interface FilterSettings {
  zeroGrandTotal?: "synchronize" | "do_not_synchronize";
  syncAllOrders?: "yes" | "no" | boolean;
  statuses?: string[] | string;
  storeViews?: "all" | "selected";
  storeIds?: Array<number | string> | string;
  customerGroups?: "all" | "selected";
  customerGroupIds?: Array<number | string> | string;
  paidOnly?: boolean | "true" | "false";
}

/** Everything passes: the node does nothing until an option is changed. */
export const defaultFilterRules: FilterRules = {
  zeroGrandTotal: "synchronize",
  syncAllOrders: true,
  statuses: [],
  storeIds: null,
  customerGroupIds: null,
  paidOnly: false,
};

function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null || value === "") return [];
  if (Array.isArray(value)) return value;
  if (typeof value === "string") return value.split(/[\s,]+/).filter((v) => v !== "");
  return [value];
}

function yesNo(value: unknown, setting: string, fallback: boolean): boolean {
  if (value === undefined || value === null || value === "") return fallback;
  if (value === true || value === "yes" || value === "true") return true;
  if (value === false || value === "no" || value === "false") return false;
  throw new Error(`sync-filter: "${setting}" must be Yes or No, not ${JSON.stringify(value)}.`);
}

function allOrSelected(value: unknown, setting: string): boolean {
  if (value === undefined || value === null || value === "" || value === "all") return true;
  if (value === "selected") return false;
  throw new Error(`sync-filter: "${setting}" must be "all" or "selected", not ${JSON.stringify(value)}.`);
}

function ids(value: unknown, setting: string, what: string): number[] {
  return [
    ...new Set(
      listOf(value).map((v) => {
        const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
          throw new Error(
            `sync-filter: "${setting}" has ${JSON.stringify(v)}, which is not a ${what} id (a whole number).`,
          );
        }
        return n;
      }),
    ),
  ];
}

/**
 * The node's settings as rules. An unknown value, or a selection with nothing selected,
 * throws naming the setting: a filter that silently skips every order is a misconfiguration.
 */
export function parseFilterRules(settings: FilterSettings): FilterRules {
  const zero = settings.zeroGrandTotal ?? "synchronize";
  if (zero !== "synchronize" && zero !== "do_not_synchronize") {
    throw new Error(
      `sync-filter: "Zero Grand Total" must be "synchronize" or "do_not_synchronize", not ${JSON.stringify(zero)}.`,
    );
  }
  const syncAllOrders = yesNo(settings.syncAllOrders, "Sync all orders", true);
  const statuses = [
    ...new Set(
      listOf(settings.statuses).map((s) => {
        if (typeof s !== "string" || !/^\S+$/.test(s.trim())) {
          throw new Error(`sync-filter: ${JSON.stringify(s)} is not a Magento status code.`);
        }
        return s.trim().toLowerCase();
      }),
    ),
  ];
  if (!syncAllOrders && statuses.length === 0) {
    throw new Error('sync-filter: "Sync all orders" is No, so select at least one order status.');
  }
  const allStores = allOrSelected(settings.storeViews, "Store views");
  const storeIds = ids(settings.storeIds, "Store views", "store view");
  if (!allStores && storeIds.length === 0) {
    throw new Error("sync-filter: select at least one store view, or sync all store views.");
  }
  const allGroups = allOrSelected(settings.customerGroups, "Customer groups");
  const groupIds = ids(settings.customerGroupIds, "Customer groups", "customer group");
  if (!allGroups && groupIds.length === 0) {
    throw new Error("sync-filter: select at least one customer group, or sync all customer groups.");
  }
  return {
    zeroGrandTotal: zero,
    syncAllOrders,
    statuses: syncAllOrders ? [] : statuses,
    storeIds: allStores ? null : storeIds,
    customerGroupIds: allGroups ? null : groupIds,
    paidOnly: yesNo(settings.paidOnly, "Paid orders only", false),
  };
}

/** Below half a cent is rounding noise, not money (Magento rounds totals to the currency's precision). */
const EPSILON = 0.005;

/** TNW filters `grand_total <> 0` (anchors §2.3): free samples, 100 % coupons. */
export function isZeroGrandTotal(order: MagentoOrder): boolean {
  return Math.abs(order.grand_total) < EPSILON;
}

/**
 * Paid = nothing left to pay: `total_paid >= grand_total`, in the order currency. Magento's
 * own `total_due` is `max(grand_total - total_paid, 0)`, so this is `total_due == 0`, read
 * from the amount actually captured (`total_paid` only grows when an invoice is paid;
 * absent = 0). An invoice that is still open (e.g. awaiting bank transfer) is not payment;
 * a partial payment is not paid; a later refund does not undo the payment; a zero-total
 * order owes nothing and counts as paid (skip those with "Zero Grand Total" instead).
 */
export function isPaid(order: MagentoOrder): boolean {
  return (order.total_paid ?? 0) >= order.grand_total - EPSILON;
}

/** The order's customer group; guests without the field are group 0 (NOT LOGGED IN). */
export function customerGroupOf(order: MagentoOrder): number | undefined {
  return order.customer_group_id ?? (isGuest(order) ? 0 : undefined);
}

function groupName(id: number): string {
  const name = defaultCustomerGroups[id];
  return name ? `${id} (${name})` : String(id);
}

function money(amount: number, order: MagentoOrder): string {
  return `${amount.toFixed(2)} ${order.order_currency_code}`;
}

function skip(code: SkipRule, field: string, order: MagentoOrder, why: string): SyncError {
  return { code, field, message: `Magento order ${orderLabel(order)} was not synced: ${why}.` };
}

/**
 * Why the rules keep this order back, or null when it passes. Rules are checked in a fixed
 * order (zero total, status, store view, customer group, paid) and the first that applies
 * is the reason given, named by its code and the field it read.
 */
export function skipReason(order: MagentoOrder, rules: FilterRules): SyncError | null {
  if (rules.zeroGrandTotal === "do_not_synchronize" && isZeroGrandTotal(order)) {
    return skip(
      "zero_grand_total",
      "grand_total",
      order,
      `its grand total is ${money(order.grand_total, order)} and "Zero Grand Total" is set to "Do not synchronize"`,
    );
  }
  if (!rules.syncAllOrders && !rules.statuses.includes(order.status.toLowerCase())) {
    return skip(
      "status_not_selected",
      "status",
      order,
      `its status "${order.status}" is not one of the statuses selected under "Sync all orders: No" (${rules.statuses.join(", ")})`,
    );
  }
  if (rules.storeIds && (order.store_id === undefined || !rules.storeIds.includes(order.store_id))) {
    const which =
      order.store_id === undefined ? "it has no store view (store_id)" : `its store view ${order.store_id}`;
    return skip(
      "store_not_selected",
      "store_id",
      order,
      `${which} is not one of the selected store views (${rules.storeIds.join(", ")})`,
    );
  }
  const group = customerGroupOf(order);
  if (rules.customerGroupIds && (group === undefined || !rules.customerGroupIds.includes(group))) {
    const which =
      group === undefined
        ? "it has no customer group (customer_group_id)"
        : `its customer group ${groupName(group)}`;
    return skip(
      "customer_group_not_selected",
      "customer_group_id",
      order,
      `${which} is not one of the selected customer groups (${rules.customerGroupIds.map(groupName).join(", ")})`,
    );
  }
  if (rules.paidOnly && !isPaid(order)) {
    return skip(
      "not_paid",
      "total_paid",
      order,
      `it is not paid (${money(order.total_paid ?? 0, order)} paid of ${money(order.grand_total, order)}) and "Paid orders only" is on`,
    );
  }
  return null;
}

export interface HeldOrder {
  /** The order exactly as it came in. */
  order: unknown;
  /** `action: "skipped"` with the rule as `error.code`, or `action: "failed"` (`invalid_order`) for input that is not an order. */
  result: SyncResult;
}

export interface FilterOutcome {
  /** The orders that pass, untouched and in input order. */
  passed: unknown[];
  /** The others, in input order, each with the result saying why. */
  held: HeldOrder[];
}

function notAnOrder(raw: unknown, index: number): SyncError {
  const got = raw === null ? "null" : Array.isArray(raw) ? "an array" : `a ${typeof raw}`;
  return {
    code: "invalid_order",
    field: `[${index}]`,
    message: `Item ${index} of the page is not a Magento order (got ${got}).`,
  };
}

/** Splits orders (raw, as Magento sent them) into those that pass the rules and those held back. */
export function filterOrders(orders: readonly unknown[], rules: FilterRules): FilterOutcome {
  const outcome: FilterOutcome = { passed: [], held: [] };
  orders.forEach((raw, index) => {
    const identity = orderIdentity(raw);
    const checked = validateOrder(raw);
    if (!checked.ok) {
      const error =
        raw !== null && typeof raw === "object" && !Array.isArray(raw)
          ? checked.error
          : notAnOrder(raw, index);
      outcome.held.push({ order: raw, result: { ...identity, target: "filter", action: "failed", error } });
      return;
    }
    const reason = skipReason(checked.order, rules);
    if (reason) {
      outcome.held.push({
        order: raw,
        result: { ...identity, target: "filter", action: "skipped", error: reason },
      });
    } else {
      outcome.passed.push(raw);
    }
  });
  return outcome;
}
