/**
 * Command line of `npm run bench`: `--quick`, `--json`, `--only <scenario,...>`,
 * `--tryton <flavour,...>` (the Tryton servers of the Tryton scenario: 6.0-sqlite and
 * 7.0-postgresql by default).
 */
import { isTrytonFlavour, type TrytonFlavour } from "../src/sandbox/tryton-instance";

export const scenarios = ["cpu", "tryton", "salesforce", "memory"] as const;
export type Scenario = (typeof scenarios)[number];
export const benchTrytonFlavours = ["6.0-sqlite", "7.0-postgresql"] as const satisfies TrytonFlavour[];
export type BenchTrytonFlavour = (typeof benchTrytonFlavours)[number];

export interface BenchSizes {
  cpuOrders: number;
  trytonOrders: number;
  trytonNaiveOrders: number;
  salesforceOrders: number;
  salesforceNaiveOrders: number;
  /** The two stream lengths of the memory scenario. */
  memoryOrders: [number, number];
}

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  only: Scenario[];
  trytonFlavours: BenchTrytonFlavour[];
  /** `--parallel-tryton`: the Tryton servers measured at the same time (faster, each slower). */
  parallelTryton: boolean;
  sizes: BenchSizes;
}

export const fullSizes: BenchSizes = {
  cpuOrders: 2000,
  trytonOrders: 1000,
  trytonNaiveOrders: 1000,
  salesforceOrders: 10_000,
  salesforceNaiveOrders: 200,
  memoryOrders: [10_000, 100_000],
};

export const quickSizes: BenchSizes = {
  cpuOrders: 500,
  trytonOrders: 100,
  trytonNaiveOrders: 30,
  salesforceOrders: 1000,
  salesforceNaiveOrders: 20,
  memoryOrders: [1000, 4000],
};

export function parseArgs(argv: string[]): BenchArgs {
  let quick = false;
  let json = false;
  let only: Scenario[] = [...scenarios];
  let trytonFlavours: BenchTrytonFlavour[] = [...benchTrytonFlavours];
  let parallelTryton = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--quick") quick = true;
    else if (arg === "--json") json = true;
    else if (arg === "--parallel-tryton") parallelTryton = true;
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      const wanted = String(value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = wanted.filter((s) => !(scenarios as readonly string[]).includes(s));
      if (wanted.length === 0 || unknown.length > 0) {
        throw new Error(`--only takes a list of ${scenarios.join(", ")}; got "${value ?? ""}"`);
      }
      only = wanted as Scenario[];
    } else if (arg === "--tryton" || arg.startsWith("--tryton=")) {
      const value = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      const wanted = String(value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const unknown = wanted.filter(
        (s) => !isTrytonFlavour(s) || !(benchTrytonFlavours as readonly string[]).includes(s),
      );
      if (wanted.length === 0 || unknown.length > 0) {
        throw new Error(`--tryton takes a list of ${benchTrytonFlavours.join(", ")}; got "${value ?? ""}"`);
      }
      trytonFlavours = wanted as BenchTrytonFlavour[];
    } else if (arg === "--help" || arg === "-h") {
      throw new Error(
        "usage: npm run bench -- [--quick] [--json] [--only cpu,tryton,salesforce,memory] [--tryton 6.0-sqlite,7.0-postgresql] [--parallel-tryton]",
      );
    } else {
      throw new Error(`unknown option "${arg}" (try --help)`);
    }
  }
  return { quick, json, only, trytonFlavours, parallelTryton, sizes: quick ? quickSizes : fullSizes };
}
