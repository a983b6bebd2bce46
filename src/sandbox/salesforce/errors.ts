/**
 * The three error shapes of the Salesforce REST API (reference/salesforce-rest.md §3):
 * - single-resource errors: HTTP status + JSON array of `{message, errorCode, fields?}`;
 * - per-record errors inside sObject Collections results: `{statusCode, message, fields}`;
 * - OAuth token errors: `{error, error_description}` (see oauth.ts).
 */

export interface ApiErrorItem {
  message: string;
  errorCode: string;
  fields?: string[];
}

/** A whole request fails: the HTTP status and the error array are sent as they are. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
  }

  body(): ApiErrorItem[] {
    if (this.errorCode === "NOT_FOUND") return [{ errorCode: this.errorCode, message: this.message }];
    const item: ApiErrorItem = { message: this.message, errorCode: this.errorCode };
    if (this.fields) item.fields = this.fields;
    return [item];
  }
}

/**
 * One record fails a DML operation. A single-record call turns it into HTTP 400
 * `[{message, errorCode, fields}]`; a collections call reports it in the record's slot.
 */
export class RecordError extends Error {
  constructor(
    readonly statusCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }

  toApiError(): ApiError {
    return new ApiError(400, this.statusCode, this.message, this.fields);
  }

  toCollectionError(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.statusCode, message: this.message, fields: this.fields };
  }
}

export const MESSAGES = {
  invalidSession: "Session expired or invalid",
  requestLimit: "TotalRequests Limit exceeded.",
  concurrentLimit: "ConcurrentPerOrgLongTxn Limit exceeded.",
  notFound: "The requested resource does not exist",
  exceededIdLimit: "record limit reached. cannot submit more than 200 records into this call",
  rolledBack:
    "Record rolled back because not all records were valid and the request was using AllOrNone header",
  processingHalted: "The transaction was rolled back since another operation in the same transaction failed.",
  /** The seed's text for a non-Draft status on a new order and for edits of an activated order. */
  failedActivation:
    "Choose a valid status and save your changes. For a new or cloned order, choose Draft. An Activated order's status can't be edited.",
  activatedOrderLocked:
    "Unable to modify activated or superseded Order: cannot delete Order, or add or remove Order Products",
  pricebookMismatch:
    "field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the Order, or Order has no pricebook assigned)",
  standardPriceNotDefined: "Before creating a custom price, create a standard price.",
  duplicatePriceDefinition: "This price definition already exists in this price book",
} as const;

export const notFound = (): ApiError => new ApiError(404, "NOT_FOUND", MESSAGES.notFound);
