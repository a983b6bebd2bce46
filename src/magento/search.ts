import { rfc3986 } from "./auth";

/** Magento `condition_type` values (reference §5). */
export type ConditionType =
  | "eq"
  | "neq"
  | "like"
  | "nlike"
  | "in"
  | "nin"
  | "gt"
  | "gteq"
  | "lt"
  | "lteq"
  | "moreq"
  | "from"
  | "to"
  | "finset"
  | "nfinset"
  | "null"
  | "notnull";

export interface SearchFilter {
  field: string;
  /** Arrays are joined with commas (for `in` / `nin`). Omit for `null` / `notnull`. */
  value?: string | number | ReadonlyArray<string | number>;
  /** Defaults to `eq` on the server; always sent explicitly here. */
  conditionType?: ConditionType;
}

/** Filters inside a group are ORed; groups are ANDed. */
export interface FilterGroup {
  filters: SearchFilter[];
}

export interface SortOrder {
  field: string;
  /** Required: Magento's default is DESC, which is never what a sync wants silently. */
  direction: "ASC" | "DESC";
}

export interface SearchCriteria {
  filterGroups?: FilterGroup[];
  sortOrders?: SortOrder[];
  /** Without it Magento returns every match; keep it ≤ 300 (input limits, §5.2). */
  pageSize?: number;
  currentPage?: number;
}

/** Watermark of the last processed order (reference §6). */
export interface OrderCursor {
  /** Magento format, UTC: `YYYY-MM-DD HH:MM:SS`. */
  updatedAt: string;
  entityId: number;
}

/** Magento accepts at most 300 rows per page when input limits are on (§5.2). */
export const maxPageSize = 300;

/**
 * searchCriteria in PHP bracket notation, as ordered key/value pairs (not yet encoded).
 * An empty criteria gives `searchCriteria=` — Magento's "everything" — because the
 * parameter itself is mandatory.
 */
export function buildSearchQuery(criteria: SearchCriteria): Record<string, string> {
  const query: Record<string, string> = {};
  (criteria.filterGroups ?? []).forEach((group, g) => {
    group.filters.forEach((filter, f) => {
      const prefix = `searchCriteria[filter_groups][${g}][filters][${f}]`;
      query[`${prefix}[field]`] = filter.field;
      if (filter.value !== undefined) {
        query[`${prefix}[value]`] = Array.isArray(filter.value)
          ? filter.value.join(",")
          : String(filter.value);
      }
      query[`${prefix}[condition_type]`] = filter.conditionType ?? "eq";
    });
  });
  (criteria.sortOrders ?? []).forEach((sort, s) => {
    query[`searchCriteria[sortOrders][${s}][field]`] = sort.field;
    query[`searchCriteria[sortOrders][${s}][direction]`] = sort.direction;
  });
  if (criteria.pageSize !== undefined) query["searchCriteria[pageSize]"] = String(criteria.pageSize);
  if (criteria.currentPage !== undefined) query["searchCriteria[currentPage]"] = String(criteria.currentPage);
  if (Object.keys(query).length === 0) query.searchCriteria = "";
  return query;
}

/**
 * Encode query pairs RFC 3986 (brackets as `%5B`/`%5D`, space as `%20`, comma `%2C`,
 * percent `%25`). The client sends exactly this string and signs exactly this string.
 */
export function encodeQuery(query: Record<string, string | number>): string {
  return Object.entries(query)
    .map(([key, value]) => `${rfc3986(key)}=${rfc3986(String(value))}`)
    .join("&");
}

/**
 * The keyset page after `cursor` (reference §6):
 * `(updated_at > W) OR (updated_at = W AND entity_id > X)` in conjunctive form, sorted
 * `updated_at ASC, entity_id ASC`, always page 1. `extraGroups` (status, store …) are
 * ANDed after the two keyset groups. A null cursor means "from the beginning".
 */
export function keysetCriteria(
  cursor: OrderCursor | null,
  pageSize: number,
  extraGroups: FilterGroup[] = [],
): SearchCriteria {
  const groups: FilterGroup[] = [];
  if (cursor) {
    const w = cursor.updatedAt;
    groups.push(
      {
        filters: [
          { field: "updated_at", value: w, conditionType: "gt" },
          { field: "updated_at", value: w, conditionType: "eq" },
        ],
      },
      {
        filters: [
          { field: "updated_at", value: w, conditionType: "gt" },
          { field: "entity_id", value: cursor.entityId, conditionType: "gt" },
        ],
      },
    );
  }
  return {
    filterGroups: [...groups, ...extraGroups],
    sortOrders: [
      { field: "updated_at", direction: "ASC" },
      { field: "entity_id", direction: "ASC" },
    ],
    pageSize: clampPageSize(pageSize),
    currentPage: 1,
  };
}

export function clampPageSize(pageSize: number): number {
  if (!Number.isFinite(pageSize)) return 100;
  return Math.min(maxPageSize, Math.max(1, Math.floor(pageSize)));
}

/** Total order on cursors: updated_at (fixed-width text compares as time), then entity_id. */
export function compareCursors(a: OrderCursor, b: OrderCursor): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? -1 : 1;
  return a.entityId - b.entityId;
}
