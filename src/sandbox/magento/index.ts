/** Strict Magento 2.4 REST simulator (reference/magento-rest.md): orders, auth, search, writes, faults. */
export { startMagentoSimulator, defaultAdmin, defaultIntegration, defaultStoreViews } from "./server";
export { generateOrders, seedTaxSettings, statePairs, type SeedOptions } from "./seed";
export type { TaxSettings } from "./tax-calculator";
export { clock, MagentoClock, formatMagentoDate, parseMagentoDate } from "./clock";
export {
  baseStringUri,
  hmacSha256Signature,
  parseOAuthHeader,
  rfc3986,
  signatureBaseString,
  signedQueryParams,
} from "./oauth";
export type {
  AdminUserOptions,
  FaultKind,
  FaultOptions,
  IntegrationOptions,
  MagentoAddress,
  MagentoInvoiceRecord,
  MagentoOrderItem,
  MagentoOrderRecord,
  MagentoShipmentRecord,
  MagentoSimulator,
  MagentoSimulatorOptions,
  MagentoStatusHistory,
  StoreView,
} from "./types";
