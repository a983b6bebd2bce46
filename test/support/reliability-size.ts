/**
 * The reliability suite (test/reliability, `npm test` runs it before the end-to-end step):
 *
 *   npx mocha --timeout 600000 'test/reliability/**\/*.spec.ts'
 *   SOAK_ORDERS=30000 npx mocha --timeout 3600000 'test/reliability/**\/*.spec.ts'   # the long soak
 *
 * One knob, SOAK_ORDERS (default 3000), sizes every volume test:
 * - fault soak → Salesforce simulator: SOAK_ORDERS orders;
 * - fault soak → real Tryton 6.0: SOAK_ORDERS / 15 (it confirms about 10 sales/s);
 * - crash and resume (SIGKILL ×3, real Node-RED, both targets): SOAK_ORDERS / 15;
 * - two Node-RED instances on one shop: SOAK_ORDERS / 50.
 * The default keeps the whole suite at about 4 minutes on a 2-core machine. The other parts
 * (bad-input corpus, malformed answers, lost write answers, security) do not scale.
 * The figures of the last run are printed at the end and written to .tmp/reliability-report.md
 * (docs/reliability.md holds a copy).
 */
export const SOAK_ORDERS = Math.max(100, Number(process.env.SOAK_ORDERS) || 3000);
export const TRYTON_SOAK_ORDERS = Math.ceil(SOAK_ORDERS / 15);
export const CRASH_ORDERS = Math.ceil(SOAK_ORDERS / 15);
export const TWIN_ORDERS = Math.ceil(SOAK_ORDERS / 50);
