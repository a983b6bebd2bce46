/**
 * Columns of the tables behind the search routes. searchCriteria may filter and sort on these;
 * any other field (e.g. `items.sku`, a typo) makes MySQL fail, which Magento reports as a 500.
 */
const words = (text: string): ReadonlySet<string> => new Set(text.trim().split(/\s+/));

/** sales_order (Magento 2.4 db_schema.xml). */
export const orderColumns = words(`
  entity_id state status coupon_code protect_code shipping_description is_virtual store_id customer_id
  base_discount_amount base_discount_canceled base_discount_invoiced base_discount_refunded base_grand_total
  base_shipping_amount base_shipping_canceled base_shipping_invoiced base_shipping_refunded
  base_shipping_tax_amount base_shipping_tax_refunded base_subtotal base_subtotal_canceled
  base_subtotal_invoiced base_subtotal_refunded base_tax_amount base_tax_canceled base_tax_invoiced
  base_tax_refunded base_to_global_rate base_to_order_rate base_total_canceled base_total_invoiced
  base_total_invoiced_cost base_total_offline_refunded base_total_online_refunded base_total_paid
  base_total_qty_ordered base_total_refunded discount_amount discount_canceled discount_invoiced
  discount_refunded grand_total shipping_amount shipping_canceled shipping_invoiced shipping_refunded
  shipping_tax_amount shipping_tax_refunded store_to_base_rate store_to_order_rate subtotal
  subtotal_canceled subtotal_invoiced subtotal_refunded tax_amount tax_canceled tax_invoiced tax_refunded
  total_canceled total_invoiced total_offline_refunded total_online_refunded total_paid total_qty_ordered
  total_refunded can_ship_partially can_ship_partially_item customer_is_guest customer_note_notify
  billing_address_id customer_group_id edit_increment email_sent send_email forced_shipment_with_invoice
  payment_auth_expiration quote_address_id quote_id shipping_address_id adjustment_negative
  adjustment_positive base_adjustment_negative base_adjustment_positive base_shipping_discount_amount
  base_subtotal_incl_tax base_total_due payment_authorization_amount shipping_discount_amount
  subtotal_incl_tax total_due weight customer_dob increment_id applied_rule_ids base_currency_code
  customer_email customer_firstname customer_lastname customer_middlename customer_prefix customer_suffix
  customer_taxvat discount_description ext_customer_id ext_order_id global_currency_code
  hold_before_state hold_before_status order_currency_code original_increment_id relation_child_id
  relation_child_real_id relation_parent_id relation_parent_real_id remote_ip shipping_method
  store_currency_code store_name x_forwarded_for customer_note created_at updated_at total_item_count
  customer_gender discount_tax_compensation_amount base_discount_tax_compensation_amount
  shipping_discount_tax_compensation_amount base_shipping_discount_tax_compensation_amnt
  discount_tax_compensation_invoiced base_discount_tax_compensation_invoiced
  discount_tax_compensation_refunded base_discount_tax_compensation_refunded shipping_incl_tax
  base_shipping_incl_tax coupon_rule_name gift_message_id paypal_ipn_customer_notified
`);

/** sales_shipment. */
export const shipmentColumns = words(`
  entity_id store_id total_weight total_qty email_sent send_email order_id customer_id shipping_address_id
  billing_address_id shipment_status increment_id created_at updated_at packages shipping_label
  customer_note customer_note_notify
`);

/** sales_invoice. */
export const invoiceColumns = words(`
  entity_id store_id base_grand_total shipping_tax_amount tax_amount base_tax_amount store_to_order_rate
  base_shipping_tax_amount base_discount_amount base_to_order_rate grand_total shipping_amount
  subtotal_incl_tax base_subtotal_incl_tax store_to_base_rate base_shipping_amount total_qty
  base_to_global_rate subtotal base_subtotal discount_amount billing_address_id is_used_for_refund order_id
  email_sent send_email can_void_flag state shipping_address_id store_currency_code transaction_id
  order_currency_code base_currency_code global_currency_code increment_id created_at updated_at
  discount_tax_compensation_amount base_discount_tax_compensation_amount shipping_incl_tax
  base_shipping_incl_tax base_total_refunded discount_description customer_note customer_note_notify
`);

/** sales_order_status_history (GET /V1/orders/:id/comments). */
export const historyColumns = words(`
  entity_id parent_id is_customer_notified is_visible_on_front comment status created_at entity_name
`);

export const columnsFor = {
  orders: { columns: orderColumns, idField: "entity_id" },
  shipments: { columns: shipmentColumns, idField: "entity_id" },
  invoices: { columns: invoiceColumns, idField: "entity_id" },
  comments: { columns: historyColumns, idField: "entity_id" },
} as const;
