/**
 * The Magento write routes the status export uses (reference/magento-rest.md §3–4), each
 * turned into an outcome a result can carry: cancel, comment, ship, invoice.
 *
 * - `POST /V1/orders/:id/cancel` answers `true`, or `false` when `!canCancel()` (already
 *   invoiced/shipped in full, on hold, complete, closed): `false` is a `conflict`, never a success.
 * - `POST /V1/order/:orderId/ship` and `/invoice` use the **singular** `order`, the entity id,
 *   items as `{order_item_id, qty}` (bundles by their parent only) and answer the new id.
 * - `POST /V1/orders/:id/comments` with the order's current status: Magento copies a history
 *   entry's status onto the order, and a missing one is not safe on every 2.x version.
 * - Every write is sent as a `write` request: repeated only when Magento surely did not act,
 *   since a second partial shipment or invoice after a lost answer would ship twice. The next
 *   export run reads the order and decides again.
 */
import type { MagentoClient } from "./client";
import { MagentoError } from "./errors";

export interface ItemQty {
  order_item_id: number;
  qty: number;
}

export interface Track {
  track_number: string;
  title: string;
  carrier_code: string;
}

export interface ShipRequest {
  items: ItemQty[];
  tracks: Track[];
  /** Stored on the Magento shipment (not shown to the customer). */
  comment?: string;
  /** E-mail the customer (Magento's shipment e-mail, with the tracking numbers). */
  notify: boolean;
}

export interface InvoiceRequest {
  items: ItemQty[];
  /** `true`: capture online through the payment gateway; `false`: offline (the invoice is registered as paid). */
  capture: boolean;
  comment?: string;
  notify: boolean;
}

export interface CommentRequest {
  comment: string;
  /** The order's current status (Magento copies it onto the order). */
  status: string;
}

export type WriteOutcome =
  { ok: true; id?: number } | { ok: false; code: string; message: string; error?: MagentoError };

/** The part of the client the writer needs (tests may stand in). */
export type MagentoRequester = Pick<MagentoClient, "request">;

function refused(err: unknown): WriteOutcome {
  if (err instanceof MagentoError) return { ok: false, code: err.code, message: err.message, error: err };
  throw err;
}

export class StatusWriter {
  constructor(private readonly client: MagentoRequester) {}

  async cancel(orderId: number, signal?: AbortSignal): Promise<WriteOutcome> {
    try {
      const answer = await this.client.request<unknown>("POST", `/V1/orders/${orderId}/cancel`, {
        signal,
        write: true,
      });
      if (answer === true) return { ok: true };
      return {
        ok: false,
        code: "conflict",
        message:
          "Magento refused to cancel the order (POST /V1/orders/:id/cancel answered false): it is already " +
          "invoiced or shipped in full, on hold, in payment review, complete or closed.",
      };
    } catch (err) {
      return refused(err);
    }
  }

  async comment(orderId: number, req: CommentRequest, signal?: AbortSignal): Promise<WriteOutcome> {
    try {
      await this.client.request<unknown>("POST", `/V1/orders/${orderId}/comments`, {
        body: {
          statusHistory: {
            comment: req.comment,
            is_customer_notified: 0,
            is_visible_on_front: 0,
            parent_id: orderId,
            status: req.status,
          },
        },
        signal,
        write: true,
      });
      return { ok: true };
    } catch (err) {
      return refused(err);
    }
  }

  async ship(orderId: number, req: ShipRequest, signal?: AbortSignal): Promise<WriteOutcome> {
    try {
      const id = await this.client.request<unknown>("POST", `/V1/order/${orderId}/ship`, {
        body: {
          items: req.items,
          notify: req.notify,
          appendComment: false,
          ...(req.comment ? { comment: { comment: req.comment, is_visible_on_front: 0 } } : {}),
          tracks: req.tracks,
        },
        signal,
        write: true,
      });
      return { ok: true, ...(typeof id === "number" ? { id } : {}) };
    } catch (err) {
      return refused(err);
    }
  }

  async invoice(orderId: number, req: InvoiceRequest, signal?: AbortSignal): Promise<WriteOutcome> {
    try {
      const id = await this.client.request<unknown>("POST", `/V1/order/${orderId}/invoice`, {
        body: {
          capture: req.capture,
          notify: req.notify,
          appendComment: false,
          items: req.items,
          ...(req.comment ? { comment: { comment: req.comment, is_visible_on_front: 0 } } : {}),
        },
        signal,
        write: true,
      });
      return { ok: true, ...(typeof id === "number" ? { id } : {}) };
    } catch (err) {
      return refused(err);
    }
  }
}
