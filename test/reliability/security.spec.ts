/**
 * Security, on a real Node-RED (CLI) with the built pack:
 * - no credential appears anywhere a run leaves traces: the Node-RED log at trace level,
 *   debug messages, node status, Catch messages, the editor's Test buttons, the Order sync
 *   panel, flows.json; flows_cred.json is encrypted — while logins fail, sessions and tokens
 *   expire and are renewed mid-run;
 * - every admin route of the pack (`/orderbridge/*`, found in the sources) needs its permission
 *   when `adminAuth` is on: anonymous calls get 401, a read-only user cannot write;
 * - TLS verification is on by default: a self-signed HTTPS server is refused by Magento, Tryton
 *   and Salesforce alike, and accepted once its CA is configured (Magento: the config node's CA;
 *   Tryton and Salesforce: NODE_EXTRA_CA_CERTS of the Node-RED process);
 * - order data never reaches SOQL unescaped nor a URL path unencoded.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { startMagentoSimulator, type MagentoSimulator } from "../../src/sandbox/magento";
import { REPO_ROOT, startNodeRed, type NodeRedInstance } from "../../src/sandbox/node-red-runtime";
import type { SalesforceSimulator } from "../../src/sandbox/salesforce";
import { startTrytonSimulator, type TrytonSimulator } from "../../src/sandbox/tryton";
import { TrytonClient } from "../../src/tryton/rpc";
import { ensureBuilt } from "../support/reliability-build";
import { shopFlow } from "../support/reliability-flows";
import { startFaultProxy, type FaultProxy } from "../support/reliability-proxy";
import { OrderPusher } from "../../src/salesforce/order-pusher";
import { salesforceSession, salesforceSimulator, stopSalesforce } from "../support/reliability-salesforce";
import { shopSettings } from "../support/reliability-shop";
import { startStub } from "../support/reliability-stub";
import { waitUntil } from "../support/wait";

/** Every file under `dir` a run wrote (not the pack link, not the generated settings or credential key). */
function filesOf(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "settings.js" || name === ".orderbridge-credential-secret")
      continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesOf(full));
    else out.push(full);
  }
  return out;
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe("reliability: security", function () {
  this.timeout(10 * 60_000);
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  before(() => ensureBuilt());
  after(async () => {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    await stopSalesforce();
  });

  it("no secret in the trace log, debug messages, status, errors, Test buttons, sync panel or flows.json; flows_cred.json encrypted", async () => {
    const secrets = {
      magentoAdminPassword: "Mag-Admin-Secret-7f3k",
      trytonPassword: "Tryton-Secret-9q2w-Zx",
      trytonWrongPassword: "Tryton-Wrong-4e5r-Yv",
      sfClientSecret: "SF-ClientSecret-8h7g6f5d",
      sfPassword: "SF-Password-3j4k5l",
      sfSecurityToken: "SFsecTOKEN2m3n4b5v",
      sfWrongSecret: "SF-WrongSecret-1a2s3d4f",
    };
    const magento: MagentoSimulator = await startMagentoSimulator({
      orders: 60,
      seed: 41,
      admin: { username: "shop-admin", password: secrets.magentoAdminPassword },
    });
    const tryton: TrytonSimulator = await startTrytonSimulator({ password: secrets.trytonPassword });
    const sf: SalesforceSimulator = await salesforceSimulator({
      currencies: ["USD", "EUR", "GBP", "JPY"],
      users: [
        {
          username: "integration@orderbridge.example",
          password: secrets.sfPassword,
          securityToken: secrets.sfSecurityToken,
        },
      ],
      clients: [{ clientId: "3MVG9-reliability-client", clientSecret: secrets.sfClientSecret }],
    });
    cleanup.push(
      () => magento.stop(),
      () => tryton.stop(),
    );
    const admin = new TrytonClient({
      url: tryton.url,
      database: tryton.database,
      username: tryton.username,
      password: tryton.password,
    });
    const settings = await shopSettings(admin, tryton.fixtures);
    await admin.logout();
    const sfCreds = {
      clientId: "3MVG9-reliability-client",
      clientSecret: secrets.sfClientSecret,
      username: "integration@orderbridge.example",
      password: secrets.sfPassword,
      securityToken: secrets.sfSecurityToken,
    };
    const good = shopFlow({
      magentoUrl: magento.url,
      magentoToken: "unused",
      tryton: {
        url: tryton.url,
        database: tryton.database,
        username: tryton.username,
        password: secrets.trytonPassword,
        settings,
      },
      salesforce: { url: sf.url, credentials: sfCreds },
    });
    // The same flow with wrong secrets: its logins fail, and say so without the secrets.
    const bad = shopFlow({
      prefix: "bad",
      magentoUrl: magento.url,
      magentoToken: "unused",
      tryton: {
        url: tryton.url,
        database: tryton.database,
        username: tryton.username,
        password: secrets.trytonWrongPassword,
        settings,
      },
      salesforce: { url: sf.url, credentials: { ...sfCreds, clientSecret: secrets.sfWrongSecret } },
    });
    const adminAuthMagento = (flows: object[]) =>
      flows.map((n) => {
        const node = n as Record<string, unknown>;
        if (node.type === "magento-config") return { ...node, authMode: "admin" };
        if (node.type === "debug") return { ...node, console: true, complete: "true" };
        return node;
      });
    // Status and Catch of every node to the debug node too: the log then holds everything a user sees.
    const watchers = (prefix: string) => [
      {
        id: `${prefix}-status`,
        type: "status",
        z: `${prefix}-tab`,
        scope: null,
        wires: [[`${prefix}-debug`]],
      },
      {
        id: `${prefix}-catch`,
        type: "catch",
        z: `${prefix}-tab`,
        scope: null,
        uncaught: false,
        wires: [[`${prefix}-debug`]],
      },
    ];
    const flows = [
      ...adminAuthMagento(good.flows),
      ...watchers("rel"),
      ...adminAuthMagento(bad.flows),
      ...watchers("bad"),
    ];
    const credentials = {
      ...good.credentials,
      ...bad.credentials,
      "rel-magento-cfg": { username: "shop-admin", password: secrets.magentoAdminPassword },
      "bad-magento-cfg": { username: "shop-admin", password: secrets.magentoAdminPassword },
    };
    const userDir = mkdtempSync(path.join(os.tmpdir(), "orderbridge-secrets-"));
    cleanup.push(() => rmSync(userDir, { recursive: true, force: true }));
    const nr: NodeRedInstance = await startNodeRed({
      userDir,
      removeUserDir: false,
      persistentContext: true,
      flows,
      credentials,
      settings: { logging: { console: { level: "trace", metrics: false, audit: true } } },
    });
    cleanup.push(() => nr.stop("SIGKILL"));

    // Mid-run: every token and session expires and is renewed, three times, each once the flow moved on.
    const pushed = () => sf.db.count("Order");
    for (let i = 0; i < 3; i += 1) {
      const before = pushed();
      await waitUntil("the good flow to push more orders", () => pushed() > before || pushed() >= 60, {
        capMs: 5 * 60_000,
      });
      magento.expireTokens();
      tryton.expireSessions();
      sf.expireSessions();
    }
    await waitUntil("the good flow to push all 60 orders", () => pushed() >= 60, {
      capMs: 5 * 60_000,
      detail: () => `${pushed()} so far`,
    });
    assert.equal(pushed(), 60, "the good flow ran");
    const refusals = /login refused|Salesforce login failed/i;
    await waitUntil(
      "the bad flow's refused logins in the log",
      () => nr.logs().some((l) => refusals.test(l)),
      {
        capMs: 5 * 60_000,
        everyMs: 500,
      },
    );

    // What the editor shows: the Test buttons (typed wrong secrets, and the deployed node's saved ones), the sync panel.
    const traces: string[] = [];
    for (const [route, body] of [
      [
        "/orderbridge/magento/test",
        {
          id: "rel-magento-cfg",
          baseUrl: magento.url,
          authMode: "admin",
          credentials: { username: "shop-admin", password: "typed-Wrong-Pass-0" },
        },
      ],
      ["/orderbridge/magento/test", { id: "rel-magento-cfg", baseUrl: magento.url, authMode: "admin" }],
      ["/orderbridge/tryton/test", { id: "bad-tryton-cfg", url: tryton.url, database: tryton.database }],
      ["/orderbridge/tryton/test", { id: "rel-tryton-cfg", url: tryton.url, database: tryton.database }],
      [
        "/orderbridge/salesforce/test",
        {
          id: "bad-salesforce-cfg",
          loginUrl: "custom",
          customUrl: sf.url,
          apiVersion: "60.0",
          authMode: "password",
        },
      ],
      [
        "/orderbridge/salesforce/test",
        {
          id: "rel-salesforce-cfg",
          loginUrl: "custom",
          customUrl: sf.url,
          apiVersion: "60.0",
          authMode: "password",
        },
      ],
    ] as const) {
      const res = await post(nr.url + route, body);
      traces.push(`${route} → ${res.text}`);
    }
    assert.ok(
      traces.some((t) => t.includes('"ok":true')) && traces.some((t) => t.includes('"ok":false')),
      traces.join("\n"),
    );
    for (const route of [
      "/orderbridge/sync/results?history=1&limit=1000",
      "/orderbridge/sync/intakes",
      "/orderbridge/sync/queue",
    ]) {
      const res = await fetch(nr.url + route);
      traces.push(`${route} → ${await res.text()}`);
    }
    await nr.stop();

    const log = nr.logs().join("\n");
    assert.match(log, /\[trace\]/, "the log ran at trace level");
    assert.match(log, refusals, "the failing logins were reported");
    const files = filesOf(userDir).map((f) => ({ f, text: readFileSync(f, "utf8") }));
    const cred = files.find((x) => x.f.endsWith("flows_cred.json"));
    assert.ok(cred, "flows_cred.json written");
    assert.deepEqual(
      Object.keys(JSON.parse(cred.text) as object),
      ["$"],
      "flows_cred.json holds only the encrypted blob",
    );
    const everything = [
      ["the Node-RED log", log],
      ["editor routes", traces.join("\n")],
      ...files.map(({ f, text }) => [path.relative(userDir, f), text]),
    ];
    const leaks: string[] = [];
    const values = [
      ...Object.values(secrets),
      secrets.sfPassword + secrets.sfSecurityToken,
      "typed-Wrong-Pass-0",
    ];
    for (const [where, text] of everything) {
      for (const secret of values)
        if (text!.includes(secret) || text!.includes(encodeURIComponent(secret)))
          leaks.push(`${secret} in ${where}`);
    }
    assert.deepEqual(leaks, []);
    console.log(
      `      [secrets] scanned ${log.split("\n").length} log lines (trace), ${files.length} files, ${traces.length} editor answers for ${values.length} secrets: none found`,
    );
  });

  it("every /orderbridge/* admin route needs its permission with adminAuth: anonymous 401, read-only cannot write", async () => {
    // The routes, as the sources register them (a new route cannot slip past this test).
    const found = new Set<string>();
    const scan = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) scan(full);
        else if (full.endsWith(".ts")) {
          const text = readFileSync(full, "utf8");
          for (const m of text.matchAll(/httpAdmin\.(get|post|put|delete)\(\s*"([^"]+)"/g))
            found.add(`${m[1]!.toUpperCase()} ${m[2]}`);
          for (const m of text.matchAll(/^\s+(\w+): "(\/orderbridge\/[^"]+)",?$/gm))
            found.add(`ROUTE ${m[2]}`);
        }
      }
    };
    scan(path.join(REPO_ROOT, "src"));
    const routes: Array<{ method: "GET" | "POST"; path: string; write: boolean }> = [
      { method: "POST", path: "/orderbridge/magento/test", write: true },
      { method: "GET", path: "/orderbridge/magento/x1/store-views", write: false },
      { method: "POST", path: "/orderbridge/tryton/test", write: true },
      { method: "GET", path: "/orderbridge/tryton/x1/companies", write: false },
      { method: "POST", path: "/orderbridge/salesforce/test", write: true },
      { method: "GET", path: "/orderbridge/salesforce/x1/order-statuses", write: false },
      { method: "POST", path: "/orderbridge/salesforce/x1/setup-check", write: true },
      { method: "GET", path: "/orderbridge/sync/results", write: false },
      { method: "GET", path: "/orderbridge/sync/intakes", write: false },
      { method: "POST", path: "/orderbridge/sync/again", write: true },
      { method: "GET", path: "/orderbridge/sync/queue", write: false },
      { method: "POST", path: "/orderbridge/sync/queue/again", write: true },
      { method: "POST", path: "/orderbridge/sync/queue/dismiss", write: true },
    ];
    const covered = new Set(routes.map((r) => r.path.replace("/x1/", "/:id/")));
    const uncovered = [...found].map((r) => r.replace(/^\w+ /, "")).filter((p) => !covered.has(p));
    assert.deepEqual(uncovered, [], "every route of the pack is in this test");

    const nodeRedRequire = createRequire(require.resolve("node-red/package.json", { paths: [REPO_ROOT] }));
    const bcrypt = nodeRedRequire("bcryptjs") as { hashSync(p: string, rounds: number): string };
    const hash = bcrypt.hashSync("reliability-Admin-pw1", 4);
    const nr = await startNodeRed({
      settings: {
        adminAuth: {
          type: "credentials",
          users: [
            { username: "reader", password: hash, permissions: "read" },
            { username: "admin", password: hash, permissions: "*" },
          ],
        },
      },
    });
    cleanup.push(() => nr.stop("SIGKILL"));
    const login = async (username: string, scope: string) => {
      const res = await post(`${nr.url}/auth/token`, {
        client_id: "node-red-admin",
        grant_type: "password",
        scope,
        username,
        password: "reliability-Admin-pw1",
      });
      assert.equal(res.status, 200, `login as ${username}`);
      return { Authorization: `Bearer ${(JSON.parse(res.text) as { access_token: string }).access_token}` };
    };
    const call = async (r: (typeof routes)[number], headers: Record<string, string> = {}) => {
      const res = await fetch(nr.url + r.path, {
        method: r.method,
        headers: { ...headers, ...(r.method === "POST" ? { "Content-Type": "application/json" } : {}) },
        ...(r.method === "POST" ? { body: "{}" } : {}),
      });
      await res.text();
      return res.status;
    };
    const reader = await login("reader", "read");
    const adminUser = await login("admin", "*");
    const table: string[] = [];
    for (const r of routes) {
      const anonymous = await call(r);
      const read = await call(r, reader);
      const full = await call(r, adminUser);
      table.push(`${r.method} ${r.path}: anonymous ${anonymous}, read-only ${read}, admin ${full}`);
      assert.equal(anonymous, 401, `${r.method} ${r.path} anonymous`);
      if (r.write) assert.equal(read, 401, `${r.method} ${r.path}: a read-only user cannot write`);
      else assert.notEqual(read, 401, `${r.method} ${r.path}: a read-only user may read`);
      assert.notEqual(full, 401, `${r.method} ${r.path}: an admin may`);
    }
    console.log(`      [adminAuth] ${table.join("\n      [adminAuth] ")}`);
  });

  it("TLS: a self-signed HTTPS server is refused by default by Magento, Tryton and Salesforce, and accepted with its CA configured", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "orderbridge-tls-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" }); // prettier-ignore
    const tls = {
      key: readFileSync(path.join(dir, "key.pem"), "utf8"),
      cert: readFileSync(path.join(dir, "cert.pem"), "utf8"),
    };
    const magento = await startMagentoSimulator({ orders: 3 });
    const tryton = await startTrytonSimulator({ password: "tls-tryton-Secret-5" });
    const sf = await salesforceSimulator();
    cleanup.push(
      () => magento.stop(),
      () => tryton.stop(),
    );
    const fronts: FaultProxy[] = [];
    for (const target of [magento.url, tryton.url, sf.url])
      fronts.push(await startFaultProxy({ target, tls }));
    cleanup.push(() => Promise.all(fronts.map((f) => f.stop())));
    const [shop, erp, crm] = fronts.map((f) => f.url) as [string, string, string];
    assert.match(shop, /^https:/);

    const c = sf.credentials;
    const tests = (ca?: string) =>
      [
        [
          "magento",
          "/orderbridge/magento/test",
          {
            baseUrl: shop,
            authMode: "bearer",
            ca: ca ?? "",
            credentials: { token: "simaccesstoken000000000000000001" },
          },
        ],
        [
          "tryton",
          "/orderbridge/tryton/test",
          {
            url: erp,
            database: tryton.database,
            credentials: { username: "admin", password: "tls-tryton-Secret-5" },
          },
        ],
        [
          "salesforce",
          "/orderbridge/salesforce/test",
          {
            loginUrl: "custom",
            customUrl: crm,
            apiVersion: "60.0",
            authMode: "password",
            credentials: {
              clientId: c.clientId,
              clientSecret: c.clientSecret,
              username: c.username,
              password: c.password,
              securityToken: c.securityToken,
            },
          },
        ],
      ] as const;
    const run = async (nr: NodeRedInstance, ca?: string) => {
      const out: Record<string, { ok: boolean; error?: string }> = {};
      for (const [name, route, body] of tests(ca))
        out[name] = JSON.parse((await post(nr.url + route, body)).text) as { ok: boolean; error?: string };
      return out;
    };
    const plain = await startNodeRed({});
    cleanup.push(() => plain.stop("SIGKILL"));
    const refused = await run(plain);
    for (const name of ["magento", "tryton", "salesforce"]) {
      assert.equal(refused[name]!.ok, false, `${name} refuses the self-signed server by default`);
      assert.match(
        refused[name]!.error!,
        /certificate|self[- ]signed|TLS/i,
        `${name}: ${refused[name]!.error}`,
      );
    }
    assert.equal(
      (await run(plain, tls.cert)).magento!.ok,
      true,
      "Magento trusts it with the CA in its configuration",
    );
    await plain.stop();

    const caFile = path.join(dir, "ca.pem");
    writeFileSync(caFile, tls.cert);
    const trusting = await startNodeRed({ env: { NODE_EXTRA_CA_CERTS: caFile } });
    cleanup.push(() => trusting.stop("SIGKILL"));
    const accepted = await run(trusting, tls.cert);
    for (const name of ["magento", "tryton", "salesforce"])
      assert.equal(accepted[name]!.ok, true, `${name}: ${accepted[name]!.error ?? "ok"}`);
    console.log(
      `      [tls] refused by default: ${Object.entries(refused)
        .map(([n, r]) => `${n} (${r.error!.slice(0, 70)})`)
        .join("; ")}; accepted with the CA configured`,
    );
  });

  it("order data reaches SOQL only as escaped literals and URLs only encoded: hostile SKUs and names match nothing else", async () => {
    const sf = await salesforceSimulator();
    const paths: string[] = [];
    const spy = await startStub({
      valid: () => "{}",
      seen: (p) => paths.push(p),
      forward: sf.url,
    });
    cleanup.push(() => spy.stop());
    const base = JSON.parse(
      readFileSync(path.join(__dirname, "..", "fixtures", "bad-orders", "base.json"), "utf8"),
    ) as Record<string, unknown>;
    const hostile = [
      "x' OR Magento_Sku__c != '",
      "x\\' OR Name LIKE '%",
      "'; DELETE FROM Product2 --",
      "a/../../sobjects/User?q=1#x",
      "%27%20OR%20Id%20!%3D%20%27",
      "REL-TEE",
    ];
    const orders = hostile.map((sku, i) => ({
      ...structuredClone(base),
      entity_id: 960_000 + i,
      increment_id: `SEC-${i}`,
      customer_email: `sec${i}+'or'1'='1@example.com`,
      customer_lastname: sku,
      items: [{ ...(base.items as object[])[0], sku, name: `name ${sku}` }, (base.items as object[])[1]],
    }));
    // Every call passes the spy (login URL, and the instance URL it hands out).
    const pusher = new OrderPusher(salesforceSession(sf, spy.url), {
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    const summary = await pusher.push(orders);
    assert.deepEqual(
      summary.results.map((r) => [r.action, r.error?.message]),
      orders.map(() => ["created", undefined]),
    );
    const products = sf.db.records("Product2").map((p) => String(p.Magento_Sku__c));
    for (const sku of hostile)
      assert.equal(products.filter((p) => p === sku).length, 1, `one product for ${JSON.stringify(sku)}`);
    // Each order's items point at the product with their own SKU (an injected lookup would match others).
    const entries = new Map(sf.db.records("PricebookEntry").map((e) => [String(e.Id), String(e.Product2Id)]));
    const bySku = new Map(sf.db.records("Product2").map((p) => [String(p.Id), String(p.Magento_Sku__c)]));
    for (const [i, sku] of hostile.entries()) {
      const order = sf.db.records("Order").find((o) => o.Magento_Order_Key__c === `magento-${960_000 + i}`)!;
      const skus = sf.db
        .records("OrderItem")
        .filter((it) => it.OrderId === order.Id)
        .map((it) => bySku.get(entries.get(String(it.PricebookEntryId))!));
      assert.ok(
        skus.includes(sku),
        `order ${i} has an item with SKU ${JSON.stringify(sku)}: ${skus.join(", ")}`,
      );
    }
    // No order value in a URL path: paths hold only API names, ids and encoded query strings.
    const raw = paths
      .map((p) => p.split("?")[0]!)
      .filter((p) => /['\s#]|\.\.\/|DELETE|Magento_Sku__c !=/.test(decodeURIComponent(p)));
    assert.deepEqual(raw, [], "no order data in a request path");
    const queries = paths
      .filter((p) => p.includes("/query"))
      .map((p) => decodeURIComponent(p.split("q=")[1] ?? "").replace(/\+/g, " "));
    assert.ok(
      queries.some((q) => q.includes("\\'")),
      "quotes reached SOQL escaped",
    );
    console.log(
      `      [soql] ${paths.length} requests, ${queries.length} queries; every hostile value stayed a literal`,
    );
  });
});
