/**
 * `searchCriteria` as Magento 2.4 reads and applies it (reference §5, §5.1, §5.2, §6):
 * filters ORed within a group, groups ANDed; sort direction DESC unless ASC is sent; no
 * pageSize → every match (or 20 with input limits on); currentPage 0 → 1; overflow per mode.
 * Values are compared the way MySQL would: numbers numerically (text cast by its numeric
 * prefix), text case-insensitively (utf8 general_ci), and NULL matches only `null`.
 */
import {
  badRequest,
  bodies,
  internalError,
  invalidType,
  MagentoHttpError,
  required,
  unsupportedField,
} from "./errors";
import type { PhpArray, PhpValue } from "./query";

export interface Filter {
  field: string;
  value?: string;
  conditionType: string;
}

export interface SortOrder {
  field: string;
  direction?: "ASC" | "DESC";
}

export interface SearchCriteria {
  filterGroups: Filter[][];
  sortOrders: SortOrder[];
  pageSize?: number;
  currentPage?: number;
}

export interface SearchOptions {
  inputLimit: boolean;
}

const maxPageSize = 300;
const defaultLimitedPageSize = 20;

/** snake_case or camelCase key → the UpperCamelCase property name Magento resolves. */
export function upperCamel(key: string): string {
  return key
    .split("_")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}

/**
 * Reads a data object, refusing keys its interface does not have (ServiceInputProcessor).
 * Returns the values by snake_case name.
 */
export function readDataObject(
  raw: unknown,
  allowed: readonly string[],
  typeName: string,
): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === "") return {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw invalidType(raw, typeName);
  const byCamel = new Map(allowed.map((name) => [upperCamel(name), name]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = byCamel.get(upperCamel(key));
    if (!name) throw unsupportedField(upperCamel(key));
    out[name] = value;
  }
  return out;
}

function list(raw: unknown, typeName: string): unknown[] {
  if (raw === undefined || raw === "") return [];
  if (typeof raw !== "object" || raw === null) throw invalidType(raw, typeName);
  return Array.isArray(raw) ? raw : Object.values(raw);
}

function text(raw: unknown, typeName = "string"): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === "object") throw invalidType(JSON.stringify(raw), typeName);
  return String(raw);
}

export function integer(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw === "number" && Number.isInteger(raw)) return raw;
  if (typeof raw === "string" && /^[+-]?\d+$/.test(raw.trim())) return Number(raw);
  throw invalidType(typeof raw === "object" ? JSON.stringify(raw) : raw, "int");
}

/** Parses `searchCriteria` from the PHP-decoded query; throws Magento's 400 bodies. */
export function parseSearchCriteria(query: PhpArray, options: SearchOptions): SearchCriteria {
  const raw: PhpValue | undefined = query.searchCriteria;
  if (raw === undefined) throw new MagentoHttpError(400, required("searchCriteria"));
  if (typeof raw === "string" && raw !== "")
    throw invalidType(raw, "Magento\\Framework\\Api\\SearchCriteriaInterface");
  const sc = readDataObject(
    raw,
    ["filter_groups", "sort_orders", "page_size", "current_page"],
    "SearchCriteria",
  );
  const filterGroups = list(sc.filter_groups, "FilterGroup[]").map((group) =>
    list(readDataObject(group, ["filters"], "FilterGroup").filters, "Filter[]").map((f): Filter => {
      const filter = readDataObject(f, ["field", "value", "condition_type"], "Filter");
      return {
        field: text(filter.field) ?? "",
        value: text(filter.value),
        conditionType: text(filter.condition_type) || "eq",
      };
    }),
  );
  const sortOrders = list(sc.sort_orders, "SortOrder[]").map((s): SortOrder => {
    const sort = readDataObject(s, ["field", "direction"], "SortOrder");
    const direction = text(sort.direction);
    if (direction === undefined || direction === "") return { field: text(sort.field) ?? "" };
    const normalized = direction.toUpperCase();
    // SortOrder::validateDirection (unverified wording).
    if (normalized !== "ASC" && normalized !== "DESC") {
      throw badRequest('Sort order "%1" is not supported. Supported sort orders are: %2', [
        direction,
        "ASC, DESC",
      ]);
    }
    return { field: text(sort.field) ?? "", direction: normalized };
  });
  let pageSize = integer(sc.page_size);
  if (options.inputLimit) {
    pageSize ??= defaultLimitedPageSize;
    if (pageSize > maxPageSize) throw badRequest(bodies.pageSizeOverLimit.message);
  }
  return { filterGroups, sortOrders, pageSize, currentPage: integer(sc.current_page) };
}

/** The `search_criteria` Magento echoes (condition_type defaults shown as "eq"). */
export function echoSearchCriteria(sc: SearchCriteria): Record<string, unknown> {
  return {
    filter_groups: sc.filterGroups.map((group) => ({
      filters: group.map((f) => ({
        field: f.field,
        ...(f.value === undefined ? {} : { value: f.value }),
        condition_type: f.conditionType,
      })),
    })),
    ...(sc.sortOrders.length > 0
      ? {
          sort_orders: sc.sortOrders.map((s) => ({
            field: s.field,
            ...(s.direction ? { direction: s.direction } : {}),
          })),
        }
      : {}),
    ...(sc.pageSize === undefined ? {} : { page_size: sc.pageSize }),
    ...(sc.currentPage === undefined ? {} : { current_page: sc.currentPage }),
  };
}

/** MySQL casts text to a number by its numeric prefix ('12abc' → 12, 'abc' → 0). */
function mysqlNumber(value: string): number {
  const m = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(value);
  return m ? Number(m[0]) : 0;
}

const isNull = (v: unknown) => v === undefined || v === null;

function compare(column: unknown, value: string): number {
  if (typeof column === "number") return Math.sign(column - mysqlNumber(value));
  const a = String(column).toLowerCase();
  const b = value.toLowerCase();
  return a < b ? -1 : a > b ? 1 : 0;
}

function likePattern(pattern: string): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\" && i + 1 < pattern.length) source += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (c === "%") source += "[\\s\\S]*";
    else if (c === "_") source += "[\\s\\S]";
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "i");
}

function matches(row: Record<string, unknown>, f: Filter): boolean {
  const column = row[f.field];
  if (f.conditionType === "null") return isNull(column);
  if (f.conditionType === "notnull") return !isNull(column);
  if (isNull(column)) return false; // SQL: any comparison with NULL is not true
  const value = f.value ?? "";
  const inList = () => value.split(",").some((v) => compare(column, v) === 0);
  const inSet = () => String(column).toLowerCase().split(",").includes(value.toLowerCase());
  switch (f.conditionType) {
    case "neq":
      return compare(column, value) !== 0;
    case "like":
      return likePattern(value).test(String(column));
    case "nlike":
      return !likePattern(value).test(String(column));
    case "in":
      return inList();
    case "nin":
      return !inList();
    case "gt":
      return compare(column, value) > 0;
    case "gteq":
    case "moreq":
    case "from":
      return compare(column, value) >= 0;
    case "lt":
      return compare(column, value) < 0;
    case "lteq":
    case "to":
      return compare(column, value) <= 0;
    case "finset":
      return inSet();
    case "nfinset":
      return !inSet();
    default:
      // Mysql::prepareSqlCondition falls back to "field = value" for a key it does not know,
      // so a typo such as "gte" silently acts as eq.
      return compare(column, value) === 0;
  }
}

function sortValue(a: unknown, b: unknown): number {
  if (isNull(a) || isNull(b)) return isNull(a) === isNull(b) ? 0 : isNull(a) ? -1 : 1; // NULL first in ASC
  if (typeof a === "number" && typeof b === "number") return Math.sign(a - b);
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Deterministic scramble for rows a sort does not separate (see `search`). */
function tieOrder(id: number, salt: number): number {
  let h = Math.imul(id ^ (salt * 0x9e3779b1), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return h ^ (h >>> 16);
}

export interface SearchSchema {
  /** Table columns that may be filtered and sorted on; anything else is an SQL error (500). */
  columns: ReadonlySet<string>;
  idField: string;
}

export interface SearchResult<T> {
  items: T[];
  total_count: number;
}

/**
 * Filters, sorts and pages `rows`. Rows a non-unique sort leaves tied come back in an order
 * that changes with the page asked for, as MySQL may do with ORDER BY … LIMIT (magento2#25001,
 * #39031): clients paging on a non-unique sort see duplicates and gaps, like in production.
 */
export function search<T extends Record<string, unknown>>(
  rows: T[],
  sc: SearchCriteria,
  schema: SearchSchema,
  overflowMode: "empty" | "repeat-last",
): SearchResult<T> {
  for (const f of sc.filterGroups.flat()) {
    if (!schema.columns.has(f.field)) throw internalError(unknownColumnReport(f.field));
  }
  for (const s of sc.sortOrders) {
    if (!schema.columns.has(s.field)) throw internalError(unknownColumnReport(s.field));
  }
  const matched = rows.filter((row) => sc.filterGroups.every((group) => group.some((f) => matches(row, f))));
  const currentPage = Math.max(sc.currentPage ?? 1, 1);
  const id = (row: T) => Number(row[schema.idField]);
  matched.sort((a, b) => {
    for (const s of sc.sortOrders) {
      const c = sortValue(a[s.field], b[s.field]);
      if (c !== 0) return s.direction === "ASC" ? c : -c;
    }
    if (sc.sortOrders.length === 0) return id(a) - id(b); // primary key order
    return tieOrder(id(a), currentPage) - tieOrder(id(b), currentPage);
  });
  const total = matched.length;
  if (!sc.pageSize || sc.pageSize <= 0) return { items: matched, total_count: total };
  const lastPage = Math.max(Math.ceil(total / sc.pageSize), 1);
  const page = overflowMode === "repeat-last" ? Math.min(currentPage, lastPage) : currentPage;
  const start = (page - 1) * sc.pageSize;
  return { items: matched.slice(start, start + sc.pageSize), total_count: total };
}

function unknownColumnReport(field: string): string {
  return Buffer.from(`column:${field}`).toString("hex").slice(0, 13);
}
