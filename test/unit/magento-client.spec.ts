import assert from "node:assert/strict";
import { MagentoClient } from "../../src/magento/client";
import { MagentoError } from "../../src/magento/errors";
import { waitUntil } from "../support/wait";
import { fixtureOrder, loadFixture, sendJson, startStub, type StubServer } from "./magento-fixtures";

const bearer = { kind: "bearer" as const, token: "client-spec-token" };
const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const bodies = loadFixture<Record<string, unknown>>("magento-error-bodies.json");

describe("Magento client (magento/client.ts)", () => {
  let stub: StubServer | undefined;
  let client: MagentoClient | undefined;
  afterEach(async () => {
    client?.close();
    await stub?.stop();
    stub = client = undefined;
  });

  async function serve(
    handler: Parameters<typeof startStub>[0],
    extra: Partial<ConstructorParameters<typeof MagentoClient>[0]> = {},
  ) {
    stub = await startStub(handler);
    client = new MagentoClient({ baseUrl: stub.url, auth: bearer, retry: fastRetry, ...extra });
    return client;
  }

  it("builds /rest/<store>/V1/… URLs from the shop root, with an RFC 3986 query", async () => {
    const c = await serve((_req, res) => sendJson(res, 200, { items: [], total_count: 0 }), {
      storeCode: "de_store",
    });
    await c.request("GET", "/V1/orders", { query: { "searchCriteria[pageSize]": 5, q: "a b,c" } });
    await c.request("GET", "/V1/orders", { query: { searchCriteria: "" }, storeCode: "all" });
    assert.equal(
      stub!.requests[0].url,
      "/rest/de_store/V1/orders?searchCriteria%5BpageSize%5D=5&q=a%20b%2Cc",
    );
    assert.equal(stub!.requests[1].url, "/rest/all/V1/orders?searchCriteria=");
    assert.equal(stub!.requests[0].headers.authorization, "Bearer client-spec-token");
    assert.equal(stub!.requests[0].headers.accept, "application/json");
  });

  it("tolerates a base URL with a trailing slash or /rest, and keeps a sub-directory", async () => {
    stub = await startStub((_req, res) => sendJson(res, 200, []));
    for (const baseUrl of [`${stub.url}/`, `${stub.url}/rest`, `${stub.url}/shop/rest/`]) {
      const c = new MagentoClient({ baseUrl, auth: bearer });
      await c.storeViews();
      c.close();
    }
    assert.deepEqual(
      stub.requests.map((r) => r.url),
      [
        "/rest/default/V1/store/storeViews",
        "/rest/default/V1/store/storeViews",
        "/shop/rest/default/V1/store/storeViews",
      ],
    );
  });

  it("refuses unusable settings with a config error on the first call, never in the constructor", async () => {
    const noScheme = new MagentoClient({ baseUrl: "shop.example.com", auth: bearer });
    await assert.rejects(
      noScheme.storeViews(),
      (e: MagentoError) => e.code === "config" && /not a URL/.test(e.message),
    );
    const ftp = new MagentoClient({ baseUrl: "ftp://x", auth: bearer });
    await assert.rejects(ftp.testConnection(), /http:\/\/ or https:\/\//);
    const blank = new MagentoClient({
      baseUrl: "https://shop.example.com",
      auth: {
        kind: "oauth1",
        consumerKey: "key1",
        consumerSecret: "",
        accessToken: "tok1",
        accessTokenSecret: " ",
      },
    });
    await assert.rejects(blank.storeViews(), /the consumer secret, access token secret are not set/);
    for (const c of [noScheme, ftp, blank]) c.close();
  });

  it("gets an order and sends JSON bodies", async () => {
    const c = await serve((req, res) =>
      req.method === "GET" ? sendJson(res, 200, fixtureOrder()) : sendJson(res, 200, true),
    );
    const order = (await c.getOrder(3)) as { increment_id: string };
    assert.equal(order.increment_id, "000000003");
    const ok = await c.request<boolean>("POST", "/V1/orders/3/comments", {
      body: { statusHistory: { comment: "Synced" } },
    });
    assert.equal(ok, true);
    assert.equal(stub!.requests[1].headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(stub!.requests[1].body), { statusHistory: { comment: "Synced" } });
    await assert.rejects(c.getOrder(0), (e: MagentoError) => e.code === "config");
  });

  it("reports a missing order with Magento's own words and the call", async () => {
    const c = await serve((_req, res) => sendJson(res, 404, bodies["404_no_such_order"]));
    await assert.rejects(c.getOrder(999), (err: MagentoError) => {
      assert.equal(err.code, "http_404");
      assert.equal(err.call, "GET /V1/orders/999");
      assert.equal(
        err.message,
        "Magento GET /V1/orders/999 failed (HTTP 404): The entity that was requested doesn't exist. Verify the entity and try again.",
      );
      return true;
    });
  });

  it("gives a clear invalid_response for an HTML page or cut-off JSON with status 200", async () => {
    let n = 0;
    const c = await serve((_req, res) => {
      n += 1;
      res.writeHead(200, { "Content-Type": n === 1 ? "text/html" : "application/json" });
      res.end(n === 1 ? "<html><title>Home page</title></html>" : '{"items":[{"entity_id":1');
    });
    await assert.rejects(
      c.searchOrders({ pageSize: 1 }),
      (e: MagentoError) => e.code === "invalid_response" && /HTML page/.test(e.message),
    );
    await assert.rejects(
      c.searchOrders({ pageSize: 1 }),
      (e: MagentoError) => e.code === "invalid_response" && /not valid JSON/.test(e.message),
    );
  });

  it("gives a clear error for an HTML 502 from a proxy, after retrying it", async () => {
    const c = await serve((_req, res) => {
      res.writeHead(502, { "Content-Type": "text/html" });
      res.end("<html><head><title>502 Bad Gateway</title></head></html>");
    });
    await assert.rejects(
      c.storeViews(),
      (e: MagentoError) => e.code === "http_502" && /HTML page.*502 Bad Gateway/.test(e.message),
    );
    assert.equal(stub!.requests.length, fastRetry.attempts);
  });

  it("checks the shape of a search result", async () => {
    const c = await serve((_req, res) => sendJson(res, 200, { items: "nope" }));
    await assert.rejects(c.searchOrders({ pageSize: 1 }), (e: MagentoError) => e.code === "invalid_response");
  });

  it("clamps a search page size to 300", async () => {
    const c = await serve((_req, res) => sendJson(res, 200, { items: [], total_count: 0 }));
    await c.searchOrders({ pageSize: 5000, currentPage: 1 });
    assert.match(decodeURIComponent(stub!.requests[0].url), /\[pageSize\]=300/);
  });

  it("tests a connection: orders readable and store views listed", async () => {
    const c = await serve((req, res) =>
      req.url.includes("storeViews")
        ? sendJson(res, 200, [
            { id: 0, code: "admin", name: "Admin", website_id: 0, store_group_id: 0, is_active: 1 },
          ])
        : sendJson(res, 200, { items: [], total_count: 0 }),
    );
    const result = await c.testConnection();
    assert.deepEqual(result, {
      ok: true,
      storeViews: [{ id: 0, code: "admin", name: "Admin", website_id: 0, store_group_id: 0, is_active: 1 }],
    });
  });

  it("fails a connection test with the ACL message of the orders call", async () => {
    const c = await serve((_req, res) => sendJson(res, 401, bodies["401_acl"]));
    await assert.rejects(
      c.testConnection(),
      (e: MagentoError) => e.call === "GET /V1/orders" && e.status === 401,
    );
  });

  it("times out a silent server, retries, then reports a timeout", async () => {
    const c = await serve(() => undefined, { timeoutMs: 50 });
    await assert.rejects(
      c.storeViews(),
      (e: MagentoError) => e.code === "timeout" && /did not answer in time/.test(e.message),
    );
    assert.equal(stub!.requests.length, fastRetry.attempts);
  });

  it("reports an unreachable server as a network error", async () => {
    stub = await startStub(() => undefined);
    const url = stub.url;
    await stub.stop();
    stub = undefined;
    client = new MagentoClient({ baseUrl: url, auth: bearer, retry: fastRetry });
    await assert.rejects(
      client.storeViews(),
      (e: MagentoError) => e.code === "network" && /ECONNREFUSED/.test(e.message),
    );
  });

  it("close() aborts requests in flight and refuses new ones", async () => {
    const c = await serve(() => undefined);
    const pending = c.storeViews();
    await waitUntil("the request at the server", () => stub!.requests.length > 0);
    c.close();
    // Ended by close(): the silent server never answers, and the client's own timeout is 30 s.
    await assert.rejects(pending, (e: MagentoError) => e.code === "aborted");
    await assert.rejects(c.storeViews(), (e: MagentoError) => e.code === "aborted");
    assert.equal(c.closed, true);
  });

  it("a caller's signal aborts just that request", async () => {
    const ctl = new AbortController();
    // Aborted once the server has it: in flight.
    const c = await serve((req, res) => (req.url.includes("slow") ? ctl.abort() : sendJson(res, 200, [])));
    const pending = c.request("GET", "/V1/slow", { signal: ctl.signal });
    await assert.rejects(pending, (e: MagentoError) => e.code === "aborted");
    assert.deepEqual(await c.storeViews(), []);
  });

  it("reports a redirect instead of following it with the credentials", async () => {
    const c = await serve((_req, res) => {
      res.writeHead(301, { Location: "https://shop.example.com/rest/default/V1/store/storeViews" });
      res.end();
    });
    await assert.rejects(c.storeViews(), /redirects to https:\/\/shop\.example\.com.*base URL/);
    assert.equal(stub!.requests.length, 1);
  });
});
