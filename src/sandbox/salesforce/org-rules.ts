/**
 * The Order-domain rules of reference/salesforce-rest.md §4, run by the DML engine after the
 * generic field checks:
 * - a new Order needs a Draft-category status (FAILED_ACTIVATION with the seed's text);
 * - an activated Order can only be moved back to a Draft-category status; any other change
 *   is refused with the same text; items cannot be added, changed or removed
 *   (ENTITY_IS_LOCKED) and the order cannot be deleted;
 * - an OrderItem needs an active entry of the order's pricebook (and currency);
 * - a custom-pricebook entry needs an active standard entry first; one entry per
 *   pricebook, product (and currency).
 * - with State and Country/Territory Picklists on: address codes and texts checked and synced
 *   (addresses.ts).
 * Texts marked (unverified) are not from a published source.
 */
import { amount, amountText, roundTo, sum, times } from "../../sync/amounts";
import { applyAddressPicklists, type AddressPicklists } from "./addresses";
import { MESSAGES, RecordError } from "./errors";
import { STORED_CURRENCY_DECIMALS } from "./fields";
import type { OrderStatusDef, Schema, SObjectDef } from "./schema";
import type { RecordStore, Row } from "./store";

export interface OrgConfig {
  orderStatuses: OrderStatusDef[];
  multiCurrency: boolean;
  /** ISO codes; the first one is the corporate currency. */
  currencies: string[];
  /** State and Country/Territory Picklists (undefined: off). */
  addressPicklists?: AddressPicklists;
}

type MutableRow = Record<string, unknown>;

const ALLOWED_NOTE_TAGS = /^<\/?(p|br|b|strong|i|em|u|s|strike|ul|ol|li|a)(\s[^<>]*)?\/?>/i;
const ENTITY = /^&(#\d+|#x[0-9a-f]+|[a-z]+);/i;

/** A computed amount (TotalPrice, TotalAmount) as stored: exact, to the decimals currency amounts keep. */
function storedAmount(value: bigint): number {
  return Number(amountText(roundTo(value, amount(`1e-${STORED_CURRENCY_DECIMALS}`))));
}

export class OrgRules {
  private orderNumber = 99;
  private orderItemNumber = 0;

  constructor(
    private readonly schema: Schema,
    private readonly store: RecordStore,
    private readonly config: OrgConfig,
  ) {}

  applyDefaults(def: SObjectDef, row: MutableRow, userId: string): void {
    for (const f of def.fields) {
      if (f.type === "boolean" && (row[f.name] === undefined || row[f.name] === null)) row[f.name] = false;
    }
    if (this.schema.field(def, "OwnerId") && row.OwnerId == null) row.OwnerId = userId;
    const currency = this.schema.field(def, "CurrencyIsoCode");
    if (currency?.createable && row.CurrencyIsoCode == null) row.CurrencyIsoCode = this.config.currencies[0];
    if (def.name === "ContentDocumentLink" && row.Visibility == null) row.Visibility = "AllUsers";
  }

  beforeInsert(def: SObjectDef, row: MutableRow, userId: string): void {
    this.addresses(def, row, (name) => row[name] !== undefined);
    switch (def.name) {
      case "Order":
        return this.orderInsert(row);
      case "OrderItem":
        return this.orderItemWrite(row);
      case "PricebookEntry":
        return this.entryInsert(row);
      case "Pricebook2":
        row.IsStandard = false;
        return;
      case "Contact":
        row.Name = [row.FirstName, row.LastName].filter((s) => s).join(" ");
        return;
      case "ContentNote":
        return this.noteContent(row, userId);
      case "ContentDocumentLink":
        return this.linkInsert(row);
    }
  }

  beforeUpdate(def: SObjectDef, old: Row, next: MutableRow, changed: Set<string>, userId: string): void {
    this.addresses(def, next, (name) => changed.has(name));
    switch (def.name) {
      case "Order":
        return this.orderUpdate(old, next, changed, userId);
      case "OrderItem":
        return this.orderItemWrite(next);
      case "Contact":
        next.Name = [next.FirstName, next.LastName].filter((s) => s).join(" ");
        return;
      case "ContentNote":
        if (changed.has("Content")) this.noteContent(next, userId);
        return;
    }
  }

  private addresses(def: SObjectDef, row: MutableRow, changed: (name: string) => boolean): void {
    const lists = this.config.addressPicklists;
    if (!lists) return;
    applyAddressPicklists(
      lists,
      def.name,
      row,
      changed,
      (name) => this.schema.field(def, name)?.label ?? name,
    );
  }

  /** Derived values on other records (the order's total follows its items). */
  afterWrite(def: SObjectDef, row: Row): void {
    if (def.name === "OrderItem") this.recomputeOrderTotal(row.OrderId as string);
  }

  /** Refuses protected deletes; returns the dependent rows deleted with this one. */
  beforeDelete(def: SObjectDef, row: Row): { type: string; row: Row }[] {
    const id = row.Id as string;
    const children = (type: string, field: string): { type: string; row: Row }[] =>
      this.liveWhere(type, field, id).map((r) => ({ type, row: r }));
    const notes = (): { type: string; row: Row }[] => [
      ...children("Note", "ParentId"),
      ...children("ContentDocumentLink", "LinkedEntityId"),
    ];
    switch (def.name) {
      case "Account": {
        const orders = this.store.rows("Order").filter((o) => o.AccountId === id);
        if (orders.length > 0) throw this.deleteFailed(row.Name, "orders", orders, "OrderNumber");
        return [...children("Contact", "AccountId"), ...notes()];
      }
      case "Contact": {
        const orders = this.store
          .rows("Order")
          .filter((o) => o.BillToContactId === id || o.ShipToContactId === id);
        if (orders.length > 0) throw this.deleteFailed(row.Name, "orders", orders, "OrderNumber");
        return notes();
      }
      case "Order":
        if (row.StatusCode === "Activated")
          throw new RecordError("ENTITY_IS_LOCKED", MESSAGES.activatedOrderLocked);
        return [...children("OrderItem", "OrderId"), ...notes()];
      case "OrderItem": {
        const order = this.store.get(row.OrderId as string)?.row;
        if (order?.StatusCode === "Activated") {
          throw new RecordError("ENTITY_IS_LOCKED", MESSAGES.activatedOrderLocked);
        }
        return [];
      }
      case "Product2": {
        const items = this.store.rows("OrderItem").filter((i) => i.Product2Id === id);
        if (items.length > 0) throw this.deleteFailed(row.Name, "order products", items, "OrderItemNumber");
        return [...children("PricebookEntry", "Product2Id"), ...notes()];
      }
      case "Pricebook2": {
        if (row.IsStandard === true) {
          // (unverified) text
          throw new RecordError("DELETE_FAILED", "You can't delete the standard price book.");
        }
        const orders = this.store.rows("Order").filter((o) => o.Pricebook2Id === id);
        if (orders.length > 0) throw this.deleteFailed(row.Name, "orders", orders, "OrderNumber");
        return children("PricebookEntry", "Pricebook2Id");
      }
      case "PricebookEntry": {
        const items = this.store.rows("OrderItem").filter((i) => i.PricebookEntryId === id);
        if (items.length > 0) throw this.deleteFailed(row.Name, "order products", items, "OrderItemNumber");
        if (this.isStandardEntry(row) && this.customEntriesOf(row).length > 0) {
          // (unverified) text
          throw new RecordError(
            "DELETE_FAILED",
            "This standard price is used by one or more custom price book entries.",
          );
        }
        return [];
      }
      case "ContentNote":
        return children("ContentDocumentLink", "ContentDocumentId");
      default:
        return [];
    }
  }

  statusOf(apiName: unknown): OrderStatusDef | undefined {
    return this.config.orderStatuses.find((s) => s.apiName === apiName);
  }

  private orderInsert(row: MutableRow): void {
    if (this.statusOf(row.Status)?.statusCode !== "Draft") {
      throw new RecordError("FAILED_ACTIVATION", MESSAGES.failedActivation, ["Status"]);
    }
    this.orderNumber += 1;
    row.StatusCode = "Draft";
    row.OrderNumber = String(this.orderNumber).padStart(8, "0");
    row.TotalAmount = 0;
    row.IsReductionOrder = false;
  }

  private orderUpdate(old: Row, next: MutableRow, changed: Set<string>, userId: string): void {
    const newCode = this.statusOf(next.Status)?.statusCode ?? "Draft";
    if (old.StatusCode === "Activated" && newCode === "Activated" && changed.size > 0) {
      throw new RecordError("FAILED_ACTIVATION", MESSAGES.failedActivation, ["Status"]);
    }
    const hasItems = this.liveWhere("OrderItem", "OrderId", old.Id).length > 0;
    for (const locked of ["Pricebook2Id", "CurrencyIsoCode"]) {
      if (changed.has(locked) && hasItems) {
        // (unverified) text
        throw new RecordError(
          "FIELD_INTEGRITY_EXCEPTION",
          `field integrity exception: ${locked} (cannot be changed on an order with order products)`,
          [locked],
        );
      }
    }
    if (old.StatusCode !== "Activated" && newCode === "Activated") {
      next.ActivatedDate = new Date().toISOString().replace("Z", "+0000");
      next.ActivatedById = userId;
    }
    next.StatusCode = newCode;
  }

  private orderItemWrite(row: MutableRow): void {
    const order = this.store.get(row.OrderId as string)?.row;
    const entry = this.store.get(row.PricebookEntryId as string)?.row;
    if (!order || !entry) return;
    if (order.StatusCode === "Activated")
      throw new RecordError("ENTITY_IS_LOCKED", MESSAGES.activatedOrderLocked);
    if (!order.Pricebook2Id || entry.Pricebook2Id !== order.Pricebook2Id) {
      throw new RecordError("FIELD_INTEGRITY_EXCEPTION", MESSAGES.pricebookMismatch, ["PricebookEntryId"]);
    }
    if (entry.IsActive !== true) {
      throw new RecordError(
        "FIELD_INTEGRITY_EXCEPTION",
        "field integrity exception: PricebookEntryId (pricebook entry is inactive)",
        ["PricebookEntryId"],
      );
    }
    if (this.config.multiCurrency && entry.CurrencyIsoCode !== order.CurrencyIsoCode) {
      throw new RecordError(
        "FIELD_INTEGRITY_EXCEPTION",
        "field integrity exception: PricebookEntryId (pricebook entry currency code does not match order currency code)",
        ["PricebookEntryId"],
      );
    }
    if (row.Product2Id != null && row.Product2Id !== entry.Product2Id) {
      // (unverified) text
      throw new RecordError(
        "FIELD_INTEGRITY_EXCEPTION",
        "field integrity exception: Product2Id (product does not match the pricebook entry)",
        ["Product2Id"],
      );
    }
    row.Product2Id = entry.Product2Id;
    row.ListPrice = entry.UnitPrice;
    row.TotalPrice = storedAmount(times(amount(row.Quantity as number), amount(row.UnitPrice as number)));
    if (this.config.multiCurrency) row.CurrencyIsoCode = order.CurrencyIsoCode;
    if (row.OrderItemNumber == null) {
      this.orderItemNumber += 1;
      row.OrderItemNumber = String(this.orderItemNumber).padStart(10, "0");
    }
  }

  /** Live rows of `type` whose `field` holds the id `id` (indexed: no table scan). */
  private liveWhere(type: string, field: string, id: unknown): Row[] {
    return this.store.rowsWhere(type, field, id).filter((r) => r.IsDeleted !== true && r[field] === id);
  }

  private recomputeOrderTotal(orderId: string): void {
    const order = this.store.get(orderId);
    if (!order || order.row.IsDeleted === true) return;
    const items = this.liveWhere("OrderItem", "OrderId", orderId);
    const total = storedAmount(sum(items.map((i) => amount(i.TotalPrice as number))));
    if (order.row.TotalAmount !== total) this.store.put("Order", { ...order.row, TotalAmount: total });
  }

  private isStandardEntry(entry: Row): boolean {
    return this.store.get(entry.Pricebook2Id as string)?.row.IsStandard === true;
  }

  private sameProductAndCurrency(a: Row, b: Row): boolean {
    return (
      a.Product2Id === b.Product2Id && (!this.config.multiCurrency || a.CurrencyIsoCode === b.CurrencyIsoCode)
    );
  }

  private customEntriesOf(standardEntry: Row): Row[] {
    return this.store
      .rows("PricebookEntry")
      .filter((e) => e.Id !== standardEntry.Id && this.sameProductAndCurrency(e, standardEntry));
  }

  private entryInsert(row: MutableRow): void {
    const pricebook = this.store.get(row.Pricebook2Id as string)?.row;
    const product = this.store.get(row.Product2Id as string)?.row;
    if (!pricebook || !product) return;
    const entries = this.store.rows("PricebookEntry");
    if (entries.some((e) => e.Pricebook2Id === row.Pricebook2Id && this.sameProductAndCurrency(e, row))) {
      throw new RecordError("DUPLICATE_VALUE", MESSAGES.duplicatePriceDefinition);
    }
    if (pricebook.IsStandard === true) {
      if (row.UseStandardPrice === true) {
        // (unverified) text
        throw new RecordError(
          "FIELD_INTEGRITY_EXCEPTION",
          "field integrity exception: UseStandardPrice (a standard price book entry cannot use the standard price)",
          ["UseStandardPrice"],
        );
      }
    } else {
      const standard = entries.find(
        (e) => e.IsActive === true && this.isStandardEntry(e) && this.sameProductAndCurrency(e, row),
      );
      if (!standard) throw new RecordError("STANDARD_PRICE_NOT_DEFINED", MESSAGES.standardPriceNotDefined);
      if (row.UseStandardPrice === true) row.UnitPrice = standard.UnitPrice;
    }
    row.Name = product.Name;
    row.ProductCode = product.ProductCode ?? null;
  }

  private noteContent(row: MutableRow, userId: string): void {
    const html = row.Content == null ? "" : Buffer.from(row.Content as string, "base64").toString("utf8");
    for (let i = 0; i < html.length; i++) {
      const rest = html.slice(i);
      const c = html[i];
      const tag = c === "<" ? ALLOWED_NOTE_TAGS.exec(rest) : null;
      if (tag) {
        i += tag[0].length - 1;
        continue;
      }
      if ((c === "&" && !ENTITY.test(rest)) || c === "<" || c === ">") {
        // (unverified) text
        throw new RecordError(
          "FIELD_INTEGRITY_EXCEPTION",
          "Note can't be saved because it contains HTML tags or unescaped characters that are not allowed in a Note.",
          ["Content"],
        );
      }
    }
    const text = html
      .replace(/<[^>]*>/g, " ")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&")
      .replace(/\s+/g, " ")
      .trim();
    row.TextPreview = text.slice(0, 255) || null;
    row.FileType = "SNOTE";
    row.FileExtension = "snote";
    if (row.OwnerId == null) row.OwnerId = userId;
  }

  private linkInsert(row: MutableRow): void {
    const duplicate = this.store
      .rows("ContentDocumentLink")
      .find((l) => l.ContentDocumentId === row.ContentDocumentId && l.LinkedEntityId === row.LinkedEntityId);
    if (duplicate) {
      throw new RecordError(
        "DUPLICATE_VALUE",
        `Document with ID: ${String(row.ContentDocumentId)} is already linked with the entity with ID: ${String(row.LinkedEntityId)}`,
      );
    }
  }

  private deleteFailed(name: unknown, what: string, rows: Row[], numberField: string): RecordError {
    return new RecordError(
      "DELETE_FAILED",
      `Your attempt to delete ${String(name)} could not be completed because it is associated with the following ${what}.: ${rows
        .map((r) => String(r[numberField]))
        .join(", ")}`,
    );
  }
}
