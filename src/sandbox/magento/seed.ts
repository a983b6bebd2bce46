/**
 * Deterministic, realistic seed orders (DESIGN.md "Simulators"): guests and repeat customers
 * (same e-mail in several orders, sometimes in another letter case), simple / virtual /
 * downloadable / configurable / bundle items, USD, EUR, GBP and JPY (0 decimals), coupons
 * including 100 % ones, every state/status pair of reference §7.5, unicode names, virtual-only
 * orders without shipping address, and many orders sharing an `updated_at` second.
 * Money comes from the tax calculator (docs/magento-tax-calculation.md), each order with its own
 * tax settings (`orderbridge_tax_settings`), so grand_total = subtotal + shipping + discount
 * (negative) + tax + discount tax compensations, as Magento stores them (4 decimals).
 */
import {
  coupons,
  currencies,
  customerComments,
  customers,
  freePayment,
  fullDiscountCoupon,
  guests,
  paymentMethods,
  shippingMethods,
  taxPercentByCountry,
  type Person,
} from "./catalog";
import { formatMagentoDate, parseMagentoDate } from "./clock";
import {
  cancelOrder,
  invoiceLines,
  lines,
  qtyToInvoice,
  qtyToShip,
  refreshDerived,
  refundAll,
  round,
  shipLines,
} from "./order-math";
import { Prng } from "./prng";
import { calculatedItems, calculatedOrderFields } from "./calculated-order";
import { cartLine, draftLines, flatDrafts, itemExtras, type Coupon, type LineKind } from "./seed-lines";
import { calculateTotals, type TaxCart, type TaxMethod, type TaxSettings } from "./tax-calculator";
import type { CorpusCouponKind, TotalsCorpusSettings } from "./totals-corpus";
import type { MagentoAddress, MagentoOrderRecord, MagentoStatusHistory } from "./types";

const seedStartMs = Date.UTC(2024, 0, 8, 9, 0, 0);

/** Every state with each of its stock statuses (reference §7.5). */
export const statePairs: ReadonlyArray<readonly [string, string]> = [
  ["new", "pending"],
  ["pending_payment", "pending_payment"],
  ["processing", "processing"],
  ["processing", "fraud"],
  ["complete", "complete"],
  ["closed", "closed"],
  ["canceled", "canceled"],
  ["holded", "holded"],
  ["payment_review", "payment_review"],
  ["payment_review", "fraud"],
];

const stateWeights: ReadonlyArray<readonly [readonly [string, string], number]> = statePairs.map((pair) => [
  pair,
  { new: 25, processing: pair[1] === "fraud" ? 1 : 25, complete: 25, canceled: 8, closed: 5 }[pair[0]] ?? 3,
]);

/** Default store views: what `store_id` / `store_name` of the seed refer to. */
export const storeNames: Record<number, string> = {
  1: "Main Website\nMain Website Store\nDefault Store View",
  2: "Main Website\nMain Website Store\nFrench Store View",
};

interface OrderPlan {
  state: readonly [string, string];
  guest: boolean;
  person: Person;
  emailVariant: boolean;
  storeId: number;
  currency: string;
  lineKinds: LineKind[];
  coupon?: Coupon;
  zeroTotal: boolean;
}

/** Orders that must exist whenever there are enough of them (placed at random positions). */
const showcases: Array<Partial<OrderPlan>> = [
  {
    guest: false,
    person: customers[0],
    storeId: 1,
    currency: "USD",
    lineKinds: ["simple", "downloadable", "bundle", "configurable"],
  },
  { guest: true, person: guests[1], storeId: 1, currency: "JPY", lineKinds: ["simple", "configurable"] },
  { lineKinds: ["virtual", "downloadable"] },
  { zeroTotal: true, coupon: fullDiscountCoupon, lineKinds: ["simple"] },
  { storeId: 2, currency: "EUR", guest: false, person: customers[4] },
  { storeId: 1, currency: "GBP", coupon: coupons[0] },
  { guest: false, person: customers[2] },
  { guest: true, person: customers[0], emailVariant: true },
  { guest: false, person: customers[0], emailVariant: true },
];

function randomPlan(rng: Prng): OrderPlan {
  const storeId = rng.chance(0.25) ? 2 : 1;
  const guest = rng.chance(0.3);
  const virtualOnly = rng.chance(0.08);
  const count = rng.weighted([
    [1, 45],
    [2, 35],
    [3, 15],
    [4, 5],
  ]);
  const lineKinds: LineKind[] = [];
  for (let i = 0; i < count; i++) {
    lineKinds.push(
      virtualOnly
        ? rng.pick(["virtual", "downloadable"] as const)
        : rng.weighted<LineKind>([
            ["simple", 50],
            ["configurable", 18],
            ["bundle", 8],
            ["virtual", 12],
            ["downloadable", 12],
          ]),
    );
  }
  const zeroTotal = rng.chance(0.03);
  return {
    state: rng.weighted(stateWeights),
    guest,
    person: guest ? rng.pick([...guests, ...customers]) : rng.pick(customers),
    emailVariant: rng.chance(0.2),
    storeId,
    currency:
      storeId === 2
        ? "EUR"
        : rng.weighted([
            ["USD", 60],
            ["GBP", 15],
            ["JPY", 15],
            ["EUR", 10],
          ]),
    lineKinds,
    coupon: zeroTotal ? fullDiscountCoupon : rng.chance(0.25) ? rng.pick(coupons) : undefined,
    zeroTotal,
  };
}

function planOrders(count: number, rng: Prng): OrderPlan[] {
  const plans = Array.from({ length: count }, () => randomPlan(rng));
  const positions = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  statePairs.forEach((pair, k) => {
    if (k < count) plans[positions[k]].state = pair;
  });
  const showcasePositions = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  showcases.forEach((showcase, k) => {
    if (k < count) Object.assign(plans[showcasePositions[k]], showcase);
  });
  for (const plan of plans) if (plan.zeroTotal) plan.coupon = fullDiscountCoupon;
  return plans;
}

/** Next ids, continuing after existing orders (for addOrder). */
export class IdSequences {
  item = 0;
  history = 0;
  readonly increments = new Map<number, number>();

  static after(orders: Iterable<MagentoOrderRecord>): IdSequences {
    const ids = new IdSequences();
    for (const o of orders) {
      for (const i of o.items) ids.item = Math.max(ids.item, i.item_id);
      for (const h of o.status_histories ?? []) ids.history = Math.max(ids.history, h.entity_id);
      const seq = Number(String(o.increment_id).slice(o.store_id === 1 ? 0 : String(o.store_id).length));
      if (Number.isFinite(seq))
        ids.increments.set(o.store_id, Math.max(ids.increments.get(o.store_id) ?? 0, seq));
    }
    return ids;
  }

  /** store 1: "000000123"; other stores get their id as prefix, e.g. "200000007" (sales_sequence_profile). */
  nextIncrement(storeId: number): string {
    const next = (this.increments.get(storeId) ?? 0) + 1;
    this.increments.set(storeId, next);
    return `${storeId === 1 ? "" : storeId}${String(next).padStart(9, "0")}`;
  }
}

function emailCaseVariant(email: string, rng: Prng): string {
  const [local, domain] = email.split("@");
  return rng.pick([
    `${local[0].toUpperCase()}${local.slice(1)}@${domain}`,
    `${local}@${domain.toUpperCase()}`,
    email.toUpperCase(),
  ]);
}

function address(
  person: Person,
  type: "billing" | "shipping",
  orderId: number,
  email: string,
): MagentoAddress {
  const a = person.address;
  const out: MagentoAddress = {
    address_type: type,
    city: a.city,
    ...(a.company ? { company: a.company } : {}),
    country_id: a.country_id,
    ...(person.customerId ? { customer_address_id: person.customerId * 10 } : {}),
    email,
    entity_id: type === "billing" ? orderId * 2 : orderId * 2 - 1,
    firstname: person.firstname,
    lastname: person.lastname,
    parent_id: orderId,
    postcode: a.postcode,
    ...(a.region ? { region: a.region } : {}),
    ...(a.region_code ? { region_code: a.region_code } : {}),
    ...(a.region_id ? { region_id: a.region_id } : {}),
    street: [...a.street],
    telephone: a.telephone,
  };
  return out;
}

const stateComments: Record<string, string | undefined> = {
  processing: "Invoice created, ready to ship.",
  complete: "Shipped with UPS, tracking 1Z999AA10123456784.",
  closed: "Refunded offline after return.",
  canceled: "Canceled at the customer's request.",
  holded: "On hold: address check.",
  fraud: "Suspected fraud: billing and shipping countries differ.",
  payment_review: "Payment is under review by the payment provider.",
};

function histories(
  rng: Prng,
  ids: IdSequences,
  order: MagentoOrderRecord,
  plan: OrderPlan,
): MagentoStatusHistory[] {
  const events: MagentoStatusHistory[] = [];
  const base = { entity_id: 0, entity_name: "order", parent_id: order.entity_id };
  if (rng.chance(0.4)) {
    events.push({
      ...base,
      comment: rng.pick(customerComments),
      created_at: order.created_at,
      is_customer_notified: 0,
      is_visible_on_front: 1,
      status: "pending",
    });
  }
  const [state, status] = plan.state;
  if (state !== "new") {
    const comment = stateComments[status] ?? stateComments[state];
    const notified = rng.pick([0, 1, undefined]);
    events.push({
      ...base,
      ...(comment ? { comment } : {}),
      created_at: order.updated_at,
      ...(notified === undefined ? {} : { is_customer_notified: notified }),
      is_visible_on_front: 0,
      status,
    });
  }
  return events.map((e) => ({ ...e, entity_id: ++ids.history })).reverse();
}

function applyState(rng: Prng, order: MagentoOrderRecord, plan: OrderPlan): void {
  const [state, status] = plan.state;
  const invoiceAll = () => {
    const requested = lines(order)
      .filter((i) => qtyToInvoice(i) > 0)
      .map((item) => ({ item, qty: qtyToInvoice(item) }));
    if (requested.length > 0) invoiceLines(order, requested);
  };
  const shipAll = () =>
    shipLines(
      order,
      lines(order)
        .filter((i) => qtyToShip(i) > 0)
        .map((item) => ({ item, qty: qtyToShip(item) })),
    );
  const shipSome = () => {
    const shippable = lines(order).filter((i) => qtyToShip(i) > 0);
    const units = shippable.reduce((s, i) => s + qtyToShip(i), 0);
    if (units >= 2)
      shipLines(order, [
        { item: shippable[0], qty: qtyToShip(shippable[0]) >= 2 ? 1 : qtyToShip(shippable[0]) },
      ]);
  };
  const virtualOnly = order.is_virtual === 1;
  if (state === "processing" && !virtualOnly) {
    const variant =
      status === "fraud"
        ? "invoiced"
        : rng.weighted([
            ["invoiced", 60],
            ["invoiced+partial", 25],
            ["shipped", 15],
          ] as const);
    if (variant !== "shipped") invoiceAll();
    if (variant === "invoiced+partial") shipSome();
    if (variant === "shipped") shipAll();
  } else if (state === "complete" || state === "closed") {
    invoiceAll();
    if (state === "complete" || rng.chance(0.5)) shipAll();
    if (state === "closed") refundAll(order);
  } else if (state === "canceled") {
    cancelOrder(order);
  } else if (state === "holded") {
    const before = virtualOnly
      ? (["new", "pending"] as const)
      : rng.pick([
          ["new", "pending"],
          ["processing", "processing"],
        ] as const);
    if (before[0] === "processing") invoiceAll();
    order.hold_before_state = before[0];
    order.hold_before_status = before[1];
  }
  order.state = state;
  order.status = status;
}

const taxMethods: ReadonlyArray<readonly [TaxMethod, number]> = [
  ["TOTAL_BASE_CALCULATION", 55],
  ["ROW_BASE_CALCULATION", 25],
  ["UNIT_BASE_CALCULATION", 20],
];

/**
 * The tax settings of one order (Stores > Configuration > Sales > Tax), drawn from their own
 * PRNG so that everything but money stays what the seed gave before; `fixed` overrides the draw.
 * The mix leans on Magento's defaults (total method, prices excl. tax, tax after discount) and
 * reaches every combination.
 */
export function seedTaxSettings(
  seed: number,
  entityId: number,
  fixed: Partial<TaxSettings> = {},
): TaxSettings {
  const rng = new Prng(Math.imul(seed, 0x9e3779b1) ^ Math.imul(entityId, 0x85ebca6b));
  const catalogPricesIncludeTax = rng.chance(0.4);
  return {
    method: rng.weighted(taxMethods),
    catalogPricesIncludeTax,
    shippingPricesIncludeTax: rng.chance(0.85) === catalogPricesIncludeTax,
    applyTaxAfterDiscount: rng.chance(0.75),
    discountOnPricesIncludingTax: rng.chance(catalogPricesIncludeTax ? 0.6 : 0.15),
    ...fixed,
    crossBorderTrade: false,
  };
}

function couponLabel(rule: Coupon["rule"]): CorpusCouponKind {
  if (rule.kind === "percent" && rule.amount === 100) return "percent_100";
  if (rule.applyToShipping)
    return rule.kind === "percent" ? "percent_with_shipping" : "by_fixed_with_shipping";
  return rule.kind;
}

export interface SeedOptions {
  /** Tax settings every order uses; unset fields are drawn per order (seedTaxSettings). */
  taxSettings?: Partial<TaxSettings>;
}

/** Builds one order. `plan` comes from the seeded planner; ids continue across orders. */
function buildOrder(
  rng: Prng,
  ids: IdSequences,
  entityId: number,
  createdAt: string,
  plan: OrderPlan,
  settings: TaxSettings,
): MagentoOrderRecord {
  const currency = currencies[plan.currency];
  const country = plan.person.address.country_id;
  const taxPercent = plan.zeroTotal ? 0 : (taxPercentByCountry[country] ?? 0);
  const drafts = draftLines(rng, plan.lineKinds);
  const email = plan.emailVariant ? emailCaseVariant(plan.person.email, rng) : plan.person.email;
  const isVirtual = drafts.every((d) => d.product.isVirtual);
  const shippedUnits = drafts.filter((d) => !d.product.isVirtual).reduce((s, d) => s + d.qty, 0);
  const method = isVirtual ? undefined : plan.zeroTotal ? shippingMethods[2] : rng.pick(shippingMethods);
  const cart: TaxCart = {
    lines: drafts.map((d) => cartLine(d, taxPercent)),
    shipping: method ? method.flat + method.perUnit * shippedUnits : 0,
    // US sales tax mostly leaves shipping alone; VAT countries tax it at the goods' rate.
    shippingTaxPercent: country === "US" ? 0 : taxPercent,
    coupon: plan.coupon?.rule ?? { kind: "none", amount: 0 },
    settings,
    currencyDecimals: currency.code === "JPY" ? 0 : 2,
    baseToOrderRate: currency.rate,
  };
  const totals = calculateTotals(cart);
  const firstItemId = ids.item + 1;
  const flat = flatDrafts(drafts);
  const items = calculatedItems(totals, {
    orderId: entityId,
    itemId: (i) => firstItemId + i,
    createdAt,
    ...(plan.coupon ? { ruleIds: plan.coupon.ruleId } : {}),
    extra: (i, itemId) => itemExtras(flat[i], itemId, plan.storeId),
  });
  ids.item += items.length;
  const money = totals.order;
  const payment = plan.zeroTotal ? freePayment : rng.pick(paymentMethods);
  const billing = address(plan.person, "billing", entityId, email);

  // Half of the coupon orders also hit cart rule 1: applied_rule_ids is a comma list (finset).
  const ruleIds = plan.coupon
    ? entityId % 2 === 0
      ? `1,${plan.coupon.ruleId}`
      : plan.coupon.ruleId
    : undefined;
  const order: MagentoOrderRecord = {
    ...calculatedOrderFields(cart, totals, {
      currency: currency.code,
      ...(plan.coupon && ruleIds ? { coupon: { code: plan.coupon.code, ruleIds } } : {}),
    }),
    billing_address_id: billing.entity_id,
    created_at: createdAt,
    customer_email: email,
    customer_firstname: plan.person.firstname,
    customer_group_id: plan.guest ? 0 : (plan.person.groupId ?? 1),
    ...(plan.guest ? {} : { customer_id: plan.person.customerId }),
    customer_is_guest: plan.guest ? 1 : 0,
    customer_lastname: plan.person.lastname,
    customer_note_notify: 1,
    email_sent: 1,
    entity_id: entityId,
    increment_id: ids.nextIncrement(plan.storeId),
    protect_code: rng.hex(6),
    quote_id: entityId + 1,
    remote_ip: `203.0.113.${rng.int(1, 254)}`,
    ...(method ? { shipping_description: method.description } : {}),
    state: "new",
    status: "pending",
    store_id: plan.storeId,
    store_name: storeNames[plan.storeId] ?? storeNames[1],
    store_to_base_rate: 0,
    store_to_order_rate: 0,
    updated_at: createdAt,
    ...(isVirtual
      ? {}
      : {
          weight: round(
            items.reduce((s, i) => s + Number(i.row_weight ?? 0), 0),
            4,
          ),
        }),
    items,
    billing_address: billing,
    payment: {
      account_status: null,
      additional_information: [...payment.additional],
      amount_ordered: money.grand_total,
      base_amount_ordered: money.base_grand_total,
      base_shipping_amount: money.base_shipping_amount,
      cc_last4: null,
      entity_id: entityId,
      method: payment.method,
      parent_id: entityId,
      shipping_amount: money.shipping_amount,
    },
    status_histories: [],
    extension_attributes: {
      shipping_assignments: [
        {
          shipping: {
            ...(isVirtual
              ? {}
              : { address: address(plan.person, "shipping", entityId, email), method: method?.code }),
            total: {
              base_shipping_amount: money.base_shipping_amount,
              base_shipping_discount_amount: money.base_shipping_discount_amount,
              base_shipping_incl_tax: money.base_shipping_incl_tax,
              base_shipping_tax_amount: money.base_shipping_tax_amount,
              shipping_amount: money.shipping_amount,
              shipping_discount_amount: money.shipping_discount_amount,
              shipping_discount_tax_compensation_amount: money.shipping_discount_tax_compensation_amount,
              shipping_incl_tax: money.shipping_incl_tax,
              shipping_tax_amount: money.shipping_tax_amount,
            },
          },
          items: [],
        },
      ],
      payment_additional_info: [{ key: "method_title", value: payment.title }],
    },
    orderbridge_tax_settings: {
      ...settings,
      coupon: plan.coupon ? couponLabel(plan.coupon.rule) : "none",
      currencyDecimals: cart.currencyDecimals,
      currency: currency.code,
    } satisfies TotalsCorpusSettings,
  };

  const [state] = plan.state;
  const createdMs = parseMagentoDate(createdAt);
  const updatedMs =
    state === "new" || state === "pending_payment"
      ? createdMs + (rng.chance(0.5) ? 1000 : 0)
      : createdMs + rng.int(120, 5 * 86400) * 1000;
  order.updated_at = formatMagentoDate(updatedMs);
  applyState(rng, order, plan);
  if (state !== "new") for (const item of order.items) item.updated_at = order.updated_at;
  order.status_histories = histories(rng, ids, order, plan);
  refreshDerived(order);
  return order;
}

/** Deterministic seed orders: the same (count, seed) always gives deep-equal data. */
export function generateOrders(count: number, seed = 1, options: SeedOptions = {}): MagentoOrderRecord[] {
  const rng = new Prng(seed);
  const plans = planOrders(count, rng);
  const ids = new IdSequences();
  const orders: MagentoOrderRecord[] = [];
  let createdMs = seedStartMs;
  for (let i = 0; i < count; i++) {
    // ~12 % of orders are placed in the same second as the previous one.
    if (i > 0 && !rng.chance(0.12)) createdMs += rng.int(1, 4 * 3600) * 1000;
    const settings = seedTaxSettings(seed, i + 1, options.taxSettings);
    orders.push(buildOrder(rng, ids, i + 1, formatMagentoDate(createdMs), plans[i], settings));
  }
  // Mass actions (ERP status sync, reindex) touch many orders in the same second.
  const batches = [3600, 86400, 2 * 86400].map((s) => createdMs + s * 1000);
  for (const order of orders) {
    if (order.state === "new" || !rng.chance(0.25)) continue;
    const at = rng.pick(batches);
    if (at < parseMagentoDate(order.updated_at)) continue;
    order.updated_at = formatMagentoDate(at);
    for (const item of order.items) item.updated_at = order.updated_at;
    refreshDerived(order);
  }
  return orders;
}

/** One new order (state new/pending) for `addOrder`, created at `at`; deterministic per (seed, entityId). */
export function generateNewOrder(
  entityId: number,
  at: string,
  seed: number,
  existing: Iterable<MagentoOrderRecord>,
  options: SeedOptions = {},
): MagentoOrderRecord {
  const rng = new Prng(seed * 7919 + entityId);
  const plan = { ...randomPlan(rng), state: statePairs[0] };
  const settings = seedTaxSettings(seed, entityId, options.taxSettings);
  const order = buildOrder(rng, IdSequences.after(existing), entityId, at, plan, settings);
  order.updated_at = at;
  refreshDerived(order);
  return order;
}
