/**
 * The real Tryton server of one bench run, through `scripts/tryton.sh` as the tests do
 * (`src/sandbox/tryton-instance.ts`): its own instance `runs/bench-<pid>`, started from the
 * template snapshot, put back to the snapshot between measurements (`restore`), and stopped by
 * PID at the end (`stop`), also when the bench dies.
 */
import { startTrytonInstance, type TrytonFlavour, type TrytonInstance } from "../src/sandbox/tryton-instance";

export interface BenchTrytonFixtures {
  company: number;
  accounts: Record<"receivable" | "payable" | "tax" | "revenue" | "expense", number>;
  tax: Record<"us_ca_sales_8_25" | "de_vat_19" | "de_vat_7" | "gb_vat_20", number>;
}

export interface BenchTrytonServer extends TrytonInstance {
  fixtures: BenchTrytonFixtures;
}

export async function startTryton(
  log: (line: string) => void,
  flavour: TrytonFlavour = "6.0-sqlite",
): Promise<BenchTrytonServer> {
  return (await startTrytonInstance(flavour, "bench", log)) as BenchTrytonServer;
}
