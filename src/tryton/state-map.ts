/**
 * Which Tryton sale state a Magento order state asks for, and which workflow button
 * moves a sale one step towards it.
 *
 * Defaults follow trytond-magento's table (reference anchors §1.4, 3.4.1 variant which
 * targets states): new/holded → quotation, processing → processing, complete/closed →
 * processed (Tryton's `done` needs shipments done and invoices paid, which an import
 * cannot do), pending_payment/payment_review → draft (trytond-magento "import as past":
 * no transition), canceled → cancelled (an order cancelled before it was ever imported
 * is not imported at all).
 *
 * Tryton 6.0 transitions (tryton/sale 6.0 `sale.py`): quote draft→quotation, confirm
 * quotation→confirmed (and `process` right away with `[queue] worker = False`), process
 * confirmed→processing, cancel draft|quotation→cancelled, draft quotation|confirmed|
 * cancelled→draft. A processing or done sale can neither go back nor be cancelled; the
 * button is skipped silently, so the importer reports a `conflict` instead of pressing it.
 */
export const magentoStates = [
  "new",
  "pending_payment",
  "processing",
  "complete",
  "closed",
  "canceled",
  "holded",
  "payment_review",
] as const;
export type MagentoState = (typeof magentoStates)[number];

/** What an order in a Magento state should become in Tryton. `skip`: not imported, an existing sale is left alone. */
export const saleTargets = ["skip", "draft", "quotation", "confirmed", "processing", "cancelled"] as const;
export type SaleTarget = (typeof saleTargets)[number];

export const trytonSaleStates = [
  "draft",
  "quotation",
  "confirmed",
  "processing",
  "done",
  "cancelled",
] as const;
export type TrytonSaleState = (typeof trytonSaleStates)[number];

export type SaleButton = "quote" | "confirm" | "process" | "draft" | "cancel";

export type StateMap = Readonly<Record<MagentoState, SaleTarget>>;

export const defaultStateMap: StateMap = Object.freeze({
  new: "quotation",
  holded: "quotation",
  pending_payment: "draft",
  payment_review: "draft",
  processing: "processing",
  complete: "processing",
  closed: "processing",
  canceled: "cancelled",
});

/**
 * The state map from user settings: an object (or its JSON text) of Magento state →
 * target, merged over the defaults. Unknown states or targets are an error naming them.
 */
export function stateMapFrom(input: unknown): StateMap {
  if (input === undefined || input === null || input === "") return defaultStateMap;
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch {
      throw new TypeError(`state map is not valid JSON: ${input.slice(0, 60)}`);
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError("state map must be an object of Magento state → Tryton target");
  }
  const map: Record<string, SaleTarget> = { ...defaultStateMap };
  for (const [state, target] of Object.entries(raw as Record<string, unknown>)) {
    if (!(magentoStates as readonly string[]).includes(state)) {
      throw new TypeError(`state map: "${state}" is not a Magento order state (${magentoStates.join(", ")})`);
    }
    if (typeof target !== "string" || !(saleTargets as readonly string[]).includes(target)) {
      throw new TypeError(
        `state map: "${state}" → ${JSON.stringify(target)} is not a Tryton target (${saleTargets.join(", ")})`,
      );
    }
    map[state] = target as SaleTarget;
  }
  return Object.freeze(map) as StateMap;
}

/** The target for an order's state; a state Magento does not define is not imported. */
export function targetFor(map: StateMap, magentoState: string): SaleTarget {
  return (map as Record<string, SaleTarget>)[magentoState] ?? "skip";
}

export type NextStep =
  { kind: "reached" } | { kind: "press"; button: SaleButton } | { kind: "conflict"; reason: "cannot_cancel" };

const rank: Record<TrytonSaleState, number> = {
  draft: 0,
  quotation: 1,
  confirmed: 2,
  processing: 3,
  done: 4,
  cancelled: -1,
};

/** One step from `current` towards `target`. Each button moves a sale at most one state. */
export function nextStep(current: TrytonSaleState, target: SaleTarget): NextStep {
  if (target === "skip") return { kind: "reached" };
  switch (target) {
    case "cancelled":
      if (current === "cancelled") return { kind: "reached" };
      if (current === "draft" || current === "quotation") return { kind: "press", button: "cancel" };
      if (current === "confirmed") return { kind: "press", button: "draft" };
      return { kind: "conflict", reason: "cannot_cancel" };
    case "draft":
    case "quotation": {
      if (current === target) return { kind: "reached" };
      // The ERP may be ahead of the shop (the merchant confirmed the sale while Magento still
      // says "pending"): an import never moves a sale back, or every re-pull would undo that work.
      if (current !== "cancelled" && rank[current] > rank[target]) return { kind: "reached" };
      if (current === "draft") return { kind: "press", button: "quote" };
      return { kind: "press", button: "draft" }; // cancelled → draft
    }
    case "confirmed":
    case "processing": {
      if (current === "cancelled") return { kind: "press", button: "draft" };
      if (rank[current] >= rank[target]) return { kind: "reached" };
      if (current === "draft") return { kind: "press", button: "quote" };
      if (current === "quotation") return { kind: "press", button: "confirm" };
      return { kind: "press", button: "process" }; // confirmed → processing
    }
  }
}

/** The state a button should leave the sale in (used to recognise a silent skip). */
export function expectedAfter(button: SaleButton, before: TrytonSaleState): TrytonSaleState[] {
  switch (button) {
    case "quote":
      return ["quotation"];
    case "confirm":
      // with worker = False, process runs inside the confirm request
      return ["confirmed", "processing", "done"];
    case "process":
      return ["processing", "done"];
    case "draft":
      return ["draft"];
    case "cancel":
      return ["cancelled"];
    default:
      return [before];
  }
}

export function isTrytonSaleState(value: unknown): value is TrytonSaleState {
  return typeof value === "string" && (trytonSaleStates as readonly string[]).includes(value);
}
