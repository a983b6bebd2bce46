/**
 * The countries and tax rates the generated Magento shop's customers need beyond the shared
 * Tryton fixtures (scripts/tryton-fixtures.ts), created once per database, and the import
 * settings that map Magento's tax rates to them. Used by the contract and reliability suites
 * and by the bench, each with its own tax names so they never share a record.
 */
import { decimal, type TrytonClient } from "../../tryton/rpc";
import type { ImportSettings } from "../../tryton/sale-import";

/** The part of the fixtures this needs (the test and bench fixture files both have it). */
export interface ShopFixtures {
  company: number;
  accounts: { tax: number };
  tax: Record<"us_ca_sales_8_25" | "de_vat_19" | "de_vat_7" | "gb_vat_20", number>;
}

const COUNTRIES = ["ES", "SE", "IE", "NO", "CN"];
const RATES = ["21", "23", "25"] as const;

export async function shopImportSettings(
  client: TrytonClient,
  f: ShopFixtures,
  opts: { taxLabel: string; referencePrefix: string },
): Promise<ImportSettings> {
  const have = await client.searchRead("country.country", [["code", "in", COUNTRIES]], ["code"]);
  await client.create(
    "country.country",
    COUNTRIES.filter((c) => !have.some((r) => r.code === c)).map((code) => ({
      code,
      name: `Country ${code}`,
    })),
  );
  const taxes: Record<string, number> = {};
  for (const rate of RATES) {
    const name = `${opts.taxLabel} ${rate}%`;
    const [found] = await client.search("account.tax", [["name", "=", name]]);
    taxes[rate] =
      found ??
      ((
        await client.create("account.tax", [
          {
            name,
            description: name,
            type: "percentage",
            rate: decimal(`0.${rate}`),
            company: f.company,
            invoice_account: f.accounts.tax,
            credit_note_account: f.accounts.tax,
          },
        ])
      )[0] as number);
  }
  return {
    referencePrefix: opts.referencePrefix,
    timeZone: "UTC",
    taxMap: {
      "8.25": [f.tax.us_ca_sales_8_25],
      "19": [f.tax.de_vat_19],
      "7": [f.tax.de_vat_7],
      "20": [f.tax.gb_vat_20],
      ...Object.fromEntries(RATES.map((rate) => [rate, [taxes[rate] as number]])),
    },
  };
}
