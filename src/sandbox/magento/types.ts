/**
 * Shapes of the Magento 2.4 REST simulator: its options, its live state and the records it
 * serves. Records are plain JSON objects shaped like `Sales/Api/Data/*Interface` output
 * (reference/magento-rest.md §7): null fields are omitted, so most fields are optional.
 */

export interface StoreView {
  id: number;
  code: string;
  name: string;
  website_id: number;
  store_group_id: number;
  is_active: number;
}

export type FaultKind = "500" | "503" | "429" | "reset" | "slow";

export interface FaultOptions {
  /** Probability (0..1) that a request gets a fault. */
  rate: number;
  /** Kinds picked uniformly; default 500, 503, 429 and reset (slow only when listed). */
  kinds?: FaultKind[];
  /** `Retry-After` of a 429, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** Delay of a `slow` fault before the normal answer (default 15000). */
  slowMs?: number;
  /** PRNG seed, so a run of faults replays exactly (default 1). */
  seed?: number;
  /** Only route keys matching this get faults (e.g. /^GET \/V1\/orders$/). The token route never does unless matched here. */
  routes?: RegExp;
}

export interface AdminUserOptions {
  username: string;
  password: string;
  /** Magento_TwoFactorAuth enabled: the admin-token route refuses (reference §2.1). Default false. */
  twoFactor?: boolean;
  /** Admin token lifetime (default 4 h). */
  tokenTtlMs?: number;
}

export interface IntegrationOptions {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
  /** `oauth/consumer/enable_integration_as_bearer` (reference §2.2). Default true. */
  bearerEnabled?: boolean;
}

export interface MagentoSimulatorOptions {
  host?: string;
  port?: number;
  orders?: number;
  seed?: number;
  admin?: AdminUserOptions;
  integration?: IntegrationOptions;
  /** currentPage past the last page: "empty" (2.4) or "repeat-last" (2.3), reference §5.1. */
  overflowMode?: "empty" | "repeat-last";
  /** webapi input limit: max pageSize 300, default page size 20 (reference §5.2). Default true. */
  inputLimit?: boolean;
  latencyMs?: number;
  faults?: FaultOptions;
  stores?: StoreView[];
  /**
   * Tax settings (Stores > Configuration > Sales > Tax) for every generated order; fields left
   * out are drawn per order from the seed (a realistic mix over every combination).
   */
  taxSettings?: Partial<import("./tax-calculator").TaxSettings>;
  /** Clock for updated_at and token expiry; defaults to the shared `clock`. */
  clock?: import("./clock").MagentoClock;
}

export interface MagentoOrderItem {
  item_id: number;
  order_id: number;
  sku: string;
  name: string;
  product_type: string;
  qty_ordered: number;
  parent_item_id?: number;
  parent_item?: MagentoOrderItem;
  [field: string]: unknown;
}

export interface MagentoAddress {
  address_type: "billing" | "shipping";
  entity_id: number;
  parent_id: number;
  firstname: string;
  lastname: string;
  street: string[];
  city: string;
  postcode: string;
  country_id: string;
  telephone: string;
  [field: string]: unknown;
}

export interface MagentoStatusHistory {
  comment?: string;
  created_at: string;
  entity_id: number;
  entity_name: string;
  is_customer_notified?: number;
  is_visible_on_front: number;
  parent_id: number;
  status?: string;
  [field: string]: unknown;
}

export interface MagentoShippingAssignment {
  shipping: { address?: MagentoAddress; method?: string; total: Record<string, number> };
  items: MagentoOrderItem[];
}

/** One order as `GET /V1/orders/:id` returns it; the simulator's live state. */
export interface MagentoOrderRecord {
  entity_id: number;
  increment_id: string;
  state: string;
  status: string;
  created_at: string;
  updated_at: string;
  store_id: number;
  items: MagentoOrderItem[];
  status_histories: MagentoStatusHistory[];
  [field: string]: unknown;
}

export interface MagentoShipmentRecord {
  entity_id: number;
  increment_id: string;
  order_id: number;
  store_id: number;
  total_qty: number;
  created_at: string;
  updated_at: string;
  items: Array<Record<string, unknown>>;
  tracks: Array<Record<string, unknown>>;
  comments: Array<Record<string, unknown>>;
  packages: unknown[];
  [field: string]: unknown;
}

export interface MagentoInvoiceRecord {
  entity_id: number;
  increment_id: string;
  order_id: number;
  store_id: number;
  state: number;
  grand_total: number;
  base_grand_total: number;
  total_qty: number;
  created_at: string;
  updated_at: string;
  items: Array<Record<string, unknown>>;
  comments: Array<Record<string, unknown>>;
  [field: string]: unknown;
}

export interface MagentoSimulator {
  /** "http://127.0.0.1:PORT"; clients append /rest/<store>/V1/... */
  url: string;
  port: number;
  /** Live orders by entity_id. */
  orders: Map<number, MagentoOrderRecord>;
  /** Shipments and invoices created by the ship/invoice routes (and derived from the seed). */
  shipments: Map<number, MagentoShipmentRecord>;
  invoices: Map<number, MagentoInvoiceRecord>;
  /** Requests per route key ("GET /V1/orders", "POST /V1/orders/:id/cancel", ...), plus "faults" and "unmatched". */
  counters: Record<string, number>;
  clock: import("./clock").MagentoClock;
  resetCounters(): void;
  setFaults(f: FaultOptions | undefined): void;
  /** Sets updated_at to the clock's now (never before any existing updated_at), then applies the patch. */
  touchOrder(entityId: number, patch?: Record<string, unknown>): void;
  addOrder(partial?: Record<string, unknown>): MagentoOrderRecord;
  /** Called with the route key before each matched request is handled. */
  onRequest?: (routeKey: string) => void;
  /** Invalidates every admin token issued so far. */
  expireTokens(): void;
  stop(): Promise<void>;
}
