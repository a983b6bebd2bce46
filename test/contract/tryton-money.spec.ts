/**
 * Money exactly right (docs/money.md): 2,000 orders whose totals follow Magento's own tax
 * calculator (src/sandbox/magento/tax-calculator.ts) over every tax setting × coupon kind ×
 * currency precision, plus hand-written cases, imported into the simulator and each real Tryton.
 * Every sale totals `grand_total` exactly, or is held as `mismatch` naming the cause; none is
 * held among the orders Magento computed consistently (amounts that add up, in no finer units
 * than the currency has). Prints the table per setting.
 */
import assert from "node:assert/strict";

import { amount } from "../../src/sync/amounts";
import type { SyncResult } from "../../src/sync/result";
import { decimal, type TrytonClient } from "../../src/tryton/rpc";
import { SaleImporter, type ImportSettings } from "../../src/tryton/sale-import";
import { describeOnEveryTryton, type ContractContext } from "./harness";
import {
  consistent,
  corpus,
  CURRENCIES,
  payable,
  RATES,
  tableText,
  tally,
  type Row,
} from "../support/money-corpus";

async function moneySetup(client: TrytonClient, ctx: ContractContext): Promise<ImportSettings> {
  const f = ctx.fixtures;
  const haveCurrencies = await client.searchRead(
    "currency.currency",
    [["code", "in", CURRENCIES.map((c) => c.code)]],
    ["code"],
  );
  await client.create(
    "currency.currency",
    CURRENCIES.filter((c) => !haveCurrencies.some((r) => r.code === c.code)).map((c) => ({
      ...c,
      symbol: c.code,
      rounding: decimal(c.rounding),
    })),
  );
  const taxMap: Record<string, number[]> = {};
  for (const rate of RATES) {
    const name = `Money test tax ${rate}%`;
    const [found] = await client.search("account.tax", [["name", "=", name]]);
    const id =
      found ??
      ((
        await client.create("account.tax", [
          {
            name,
            description: name,
            type: "percentage",
            rate: decimal(String(Number(rate) / 100)),
            company: f.company,
            invoice_account: f.accounts.tax,
            credit_note_account: f.accounts.tax,
          },
        ])
      )[0] as number);
    taxMap[rate] = [id];
  }
  return { referencePrefix: "MONEY-", timeZone: "UTC", taxMap, confirmChunk: 5 };
}

function moneyContract(ctx: ContractContext): void {
  it("2,000 orders over every tax setting and the hand-written cases: every total equals grand_total, or is held naming the cause", async function () {
    this.timeout(1_800_000);
    const client = ctx.client();
    const settings = await moneySetup(client, ctx);
    const importer = new SaleImporter(client, settings);
    const cases = corpus();
    const results = new Map<number, SyncResult>();
    for (let i = 0; i < cases.length; i += 100) {
      const page = cases.slice(i, i + 100).map((c) => c.order);
      const summary = await importer.importOrders(page);
      for (const r of summary.results) results.set(r.orderId as number, r);
    }
    const totals = new Map<number, string>();
    const ids = [...results.values()]
      .map((r) => r.targetId)
      .filter((id): id is number => typeof id === "number");
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await client.read("sale.sale", ids.slice(i, i + 500), ["total_amount"]);
      for (const r of rows) totals.set(r.id, String(r.total_amount));
    }

    const table = new Map<string, Row>();
    const problems: string[] = [];
    for (const { order, group } of cases) {
      const r = results.get(order.entity_id);
      const total = r && typeof r.targetId === "number" ? totals.get(r.targetId) : undefined;
      const equal = total !== undefined && amount(total) === payable(order);
      const held = r?.error?.code === "mismatch";
      const isConsistent = consistent(order);
      if (!equal && !held)
        problems.push(`#${order.increment_id}: ${total} ≠ ${order.grand_total}, ${JSON.stringify(r)}`);
      if (held && isConsistent)
        problems.push(`#${order.increment_id} held though consistent: ${r?.error?.message}`);
      if (held && !/: .+; the sale is not confirmed|: .+\.$/.test(r?.error?.message ?? ""))
        problems.push(`#${order.increment_id} held without a cause: ${r?.error?.message}`);
      const rounding = r?.adjustments?.some((a) => a.startsWith("tax rounding line")) ?? false;
      tally(table, order, group, { equal, held, rounding });
    }
    console.log(tableText(`[${ctx.server.kind}] ${cases.length} orders into Tryton`, table));
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} orders wrong`);
  });
}

describe("Tryton money contract", function () {
  this.timeout(120_000);
  describeOnEveryTryton("money", moneyContract);
});
