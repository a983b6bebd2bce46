/**
 * The Magento side every scenario shares: the simulator with N generated orders (deterministic
 * seed, realistic mix: guests, configurable/bundle/virtual items, four currencies, coupons,
 * every state), and the pack's own keyset pull (`pullSince`) over it, a page per call.
 */
import { MagentoClient } from "../src/magento/client";
import { pullSince, type PulledPage } from "../src/magento/order-source";
import { lineItems, type MagentoOrder } from "../src/magento/schema";
import { defaultIntegration, startMagentoSimulator, type MagentoSimulator } from "../src/sandbox/magento";

export const SEED = 8;

export async function magentoWith(orders: number, latencyMs: number): Promise<MagentoSimulator> {
  return startMagentoSimulator({ orders, seed: SEED, latencyMs });
}

export function magentoClient(sim: MagentoSimulator, pageSize: number): MagentoClient {
  return new MagentoClient({
    baseUrl: sim.url,
    auth: { kind: "bearer", token: defaultIntegration.accessToken },
    pageSize,
  });
}

/** Every page of the simulator's orders, oldest first, as `magento-order-in` pulls them. */
export async function* pages(client: MagentoClient, pageSize: number): AsyncGenerator<PulledPage> {
  yield* pullSince(client, { since: null, pageSize });
}

/** Average sellable lines per order (items as the pack maps them, before shipping/discount/tax lines). */
export function itemsPerOrder(orders: MagentoOrder[]): number {
  if (orders.length === 0) return 0;
  return orders.reduce((n, o) => n + lineItems(o).length, 0) / orders.length;
}

/**
 * The same pages, the next one fetched while the current one is processed: in a flow,
 * `magento-order-in` sends pages without waiting for the node after it.
 */
export async function* prefetched<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  for (;;) {
    const current = await next;
    if (current.done) return;
    next = source.next();
    // An error of the prefetch surfaces when it is awaited, not as an unhandled rejection.
    next.catch(() => undefined);
    yield current.value;
  }
}
