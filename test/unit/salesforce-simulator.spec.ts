/**
 * The Salesforce simulator, driven the way the pack drives Salesforce: through jsforce 3
 * (raw HTTP only where exact status codes and bodies are checked against the published
 * fixtures in test/fixtures/salesforce/).
 */
import assert from "node:assert/strict";
import { createSign, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Connection } from "jsforce";
import {
  startSalesforceSimulator,
  type SalesforceSimulator,
  type SalesforceSimulatorOptions,
} from "../../src/sandbox/salesforce";

type JsforceModule = typeof import("jsforce");
type Rec = Record<string, unknown>;
interface SfError extends Error {
  errorCode?: string;
  data?: Rec;
}

let jsforce: JsforceModule;

function fixture<T = Rec>(name: string): T {
  return JSON.parse(
    readFileSync(path.join(__dirname, "..", "fixtures", "salesforce", `${name}.json`), "utf8"),
  ) as T;
}

const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

function connection(sim: SalesforceSimulator, extra: Rec = {}): Connection {
  const { clientId, clientSecret } = sim.credentials;
  return new jsforce.Connection({
    oauth2: { clientId, clientSecret, loginUrl: sim.url },
    version: "60.0",
    ...extra,
  });
}

async function login(sim: SalesforceSimulator, extra: Rec = {}): Promise<Connection> {
  const conn = connection(sim, extra);
  const { username, password, securityToken } = sim.credentials;
  await conn.login(username, password + securityToken);
  return conn;
}

async function rejection(promise: PromiseLike<unknown>): Promise<SfError> {
  try {
    await promise;
  } catch (err) {
    return err as SfError;
  }
  return assert.fail("expected the call to be refused");
}

async function raw(
  sim: SalesforceSimulator,
  method: string,
  url: string,
  options: { token?: string; body?: unknown; form?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(options.form).toString();
  } else if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const res = await fetch(sim.url + url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

/** Collections report per-record errors with `statusCode`, although jsforce types them as `errorCode`. */
function statusCodeOf(error: unknown): string {
  return (error as { statusCode: string }).statusCode;
}

function signJwt(claims: Rec, privateKeyPem: string): string {
  const encode = (value: Rec): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  const signingInput = `${encode({ alg: "RS256" })}.${encode(claims)}`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(privateKeyPem).toString("base64url");
  return `${signingInput}.${signature}`;
}

function jwtClaims(sim: SalesforceSimulator, overrides: Rec = {}): Rec {
  return {
    iss: sim.credentials.clientId,
    sub: sim.credentials.username,
    aud: sim.url,
    exp: Math.floor(Date.now() / 1000) + 180,
    ...overrides,
  };
}

/** An account, a product with a standard price, and a Draft order on the standard pricebook. */
async function draftOrder(
  conn: Connection,
  sim: SalesforceSimulator,
  key: string,
): Promise<{ accountId: string; productId: string; entryId: string; orderId: string }> {
  const account = (await conn.create("Account", { Name: `Customer ${key}` })) as { id: string };
  const product = (await conn.create("Product2", {
    Name: `Product ${key}`,
    ProductCode: key,
    IsActive: true,
  })) as {
    id: string;
  };
  const entry = (await conn.create("PricebookEntry", {
    Pricebook2Id: sim.db.standardPricebookId,
    Product2Id: product.id,
    UnitPrice: 19.99,
    IsActive: true,
  })) as { id: string };
  const order = (await conn.create("Order", {
    AccountId: account.id,
    EffectiveDate: "2024-05-01",
    Status: "Draft",
    Pricebook2Id: sim.db.standardPricebookId,
  })) as { id: string };
  return { accountId: account.id, productId: product.id, entryId: entry.id, orderId: order.id };
}

const started: SalesforceSimulator[] = [];
async function simulator(options?: SalesforceSimulatorOptions): Promise<SalesforceSimulator> {
  const sim = await startSalesforceSimulator(options);
  started.push(sim);
  return sim;
}

describe("Salesforce simulator, through jsforce 3", () => {
  let sim: SalesforceSimulator;
  let conn: Connection;

  before(async () => {
    // jsforce reads the proxy variables when it is loaded and ignores NO_PROXY (reference §6.6).
    for (const name of ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]) delete process.env[name];
    jsforce = await import("jsforce");
    sim = await simulator();
    conn = await login(sim);
  });

  after(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  describe("OAuth token endpoint and identity", () => {
    it("logs in with clientId/clientSecret + username and password-plus-security-token", async () => {
      const fresh = connection(sim);
      const { username, password, securityToken } = sim.credentials;
      const info = await fresh.login(username, password + securityToken);
      assert.equal(info.organizationId, sim.db.orgId);
      assert.equal(info.id, sim.db.userId);
      assert.equal(fresh.instanceUrl, sim.url);
      const identity = await fresh.identity();
      assert.equal(identity.username, username);
      assert.equal(identity.organization_id, sim.db.orgId);
    });

    it("refuses a password without the security token with the published invalid_grant body", async () => {
      const { username, password } = sim.credentials;
      const err = await rejection(connection(sim).login(username, password));
      assert.equal(err.name, "invalid_grant");
      assert.equal(err.message, "authentication failure");
      const res = await raw(sim, "POST", "/services/oauth2/token", {
        form: {
          grant_type: "password",
          client_id: sim.credentials.clientId,
          client_secret: sim.credentials.clientSecret,
          username,
          password,
        },
      });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body, fixture("salesforce-error-bodies")["400_oauth_token_invalid_grant"]);
    });

    it("refuses an unknown client id, a wrong client secret and an unknown grant type", async () => {
      const { username, password, securityToken, clientSecret } = sim.credentials;
      const unknownClient = new jsforce.Connection({
        oauth2: { clientId: "nope", clientSecret, loginUrl: sim.url },
        version: "60.0",
      });
      assert.equal(
        (await rejection(unknownClient.login(username, password + securityToken))).name,
        "invalid_client_id",
      );
      const wrongSecret = new jsforce.Connection({
        oauth2: { clientId: sim.credentials.clientId, clientSecret: "wrong", loginUrl: sim.url },
        version: "60.0",
      });
      assert.equal(
        (await rejection(wrongSecret.login(username, password + securityToken))).name,
        "invalid_client",
      );
      const unsupported = await rejection(
        connection(sim).authorize({ grant_type: "authorization_code_typo" }),
      );
      assert.equal(unsupported.name, "unsupported_grant_type");
    });

    it("issues a session for the client_credentials grant, with scope and api_instance_url", async () => {
      const cc = connection(sim);
      const info = await cc.authorize({ grant_type: "client_credentials" });
      assert.equal(info.id, sim.db.userId);
      const result = await cc.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true");
      assert.equal(result.totalSize, 1);
      const res = await raw(sim, "POST", "/services/oauth2/token", {
        form: {
          grant_type: "client_credentials",
          client_id: sim.credentials.clientId,
          client_secret: sim.credentials.clientSecret,
        },
      });
      const body = res.body as Rec;
      assert.equal(body.scope, "api");
      assert.equal(body.api_instance_url, sim.url);
      assert.equal(body.token_type, "Bearer");
      assert.match(String(body.id), /\/id\/00D\w{15}\/005\w{15}$/);
    });

    it("accepts a JWT bearer assertion signed with the connected app's key", async () => {
      const jwtConn = new jsforce.Connection({ oauth2: { loginUrl: sim.url }, version: "60.0" });
      const assertion = signJwt(jwtClaims(sim), sim.credentials.privateKeyPem as string);
      const info = await jwtConn.authorize({ grant_type: JWT_BEARER, assertion });
      assert.equal(info.organizationId, sim.db.orgId);
      assert.equal((await jwtConn.query("SELECT Id FROM User")).totalSize, 1);
    });

    it("refuses a JWT with a bad signature, a wrong audience, an expired exp or an unknown issuer", async () => {
      const jwtConn = new jsforce.Connection({ oauth2: { loginUrl: sim.url }, version: "60.0" });
      const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
        .privateKey.export({ type: "pkcs8", format: "pem" })
        .toString();
      const key = sim.credentials.privateKeyPem as string;
      const cases: [Rec, string, string, string][] = [
        [jwtClaims(sim), otherKey, "invalid_grant", "invalid assertion"],
        [
          jwtClaims(sim, { aud: "https://login.salesforce.com" }),
          key,
          "invalid_grant",
          "audience is invalid",
        ],
        [
          jwtClaims(sim, { exp: Math.floor(Date.now() / 1000) - 10 }),
          key,
          "invalid_grant",
          "expired authorization code",
        ],
        [jwtClaims(sim, { iss: "someone-else" }), key, "invalid_client_id", "client identifier invalid"],
      ];
      for (const [claims, signingKey, name, message] of cases) {
        const err = await rejection(
          jwtConn.authorize({ grant_type: JWT_BEARER, assertion: signJwt(claims, signingKey) }),
        );
        assert.equal(err.name, name);
        assert.equal(err.message, message);
      }
    });

    it("lists the served API versions without authentication", async () => {
      const res = await raw(sim, "GET", "/services/data/");
      assert.deepEqual(res.body, [
        { label: "Spring '24", url: "/services/data/v60.0", version: "60.0" },
        { label: "Summer '24", url: "/services/data/v61.0", version: "61.0" },
        { label: "Winter '25", url: "/services/data/v62.0", version: "62.0" },
      ]);
    });

    it("answers a request without a valid token with the published 401 INVALID_SESSION_ID body", async () => {
      const res = await raw(sim, "GET", "/services/data/v60.0/limits", { token: "00Dbogus!token" });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body, fixture("salesforce-error-bodies")["401_INVALID_SESSION_ID"]);
    });

    it("revokes an access token", async () => {
      const revoked = await login(sim);
      const token = revoked.accessToken as string;
      assert.equal((await raw(sim, "POST", "/services/oauth2/revoke", { form: { token } })).status, 200);
      assert.equal((await raw(sim, "GET", "/services/data/v60.0/limits", { token })).status, 401);
    });
  });

  describe("session expiry", () => {
    it("an expired session gets 401 and jsforce logs in again and replays the call", async () => {
      const s = await simulator({ sessionTtlMs: 60_000 });
      const c = await login(s);
      await c.query("SELECT Id FROM Account");
      s.expireSessions();
      const result = await c.query("SELECT Id FROM Account");
      assert.equal(result.totalSize, 0);
      assert.equal(s.counters["session.invalid"], 1);
      assert.equal(s.counters["oauth.token.password"], 2);
    });

    it("access tokens expire after sessionTtlMs", async () => {
      // Far above a local login and query on a busy machine; the wait only has to pass it.
      const ttlMs = 1_000;
      const s = await simulator({ sessionTtlMs: ttlMs });
      const c = await login(s);
      await new Promise((resolve) => setTimeout(resolve, ttlMs + 100));
      await c.query("SELECT Id FROM Account");
      assert.equal(s.counters["session.invalid"], 1);
      assert.equal(s.counters["oauth.token.password"], 2);
    });

    it("a connection holding a refresh token refreshes through the refresh_token grant", async () => {
      const { clientId, clientSecret, refreshToken } = sim.credentials;
      const c = new jsforce.Connection({
        oauth2: { clientId, clientSecret, loginUrl: sim.url },
        instanceUrl: sim.url,
        accessToken: "00Dexpired!token",
        refreshToken,
        version: "60.0",
      });
      const before = sim.counters["oauth.token.refresh_token"] ?? 0;
      const result = await c.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true");
      assert.equal(result.totalSize, 1);
      assert.equal(sim.counters["oauth.token.refresh_token"], before + 1);
      assert.notEqual(c.accessToken, "00Dexpired!token");
    });

    it("client-credentials sessions cannot refresh without a refreshFn; with one they re-authorize", async () => {
      const s = await simulator();
      const bare = connection(s);
      await bare.authorize({ grant_type: "client_credentials" });
      s.expireSessions();
      const err = await rejection(bare.query("SELECT Id FROM Account"));
      assert.match(err.message, /No refresh token found in the connection/);

      const withRefresh = connection(s, {
        refreshFn: (c: Connection, callback: (err: Error | null, token?: string) => void) => {
          c.authorize({ grant_type: "client_credentials" }).then(
            () => callback(null, c.accessToken as string),
            (e: Error) => callback(e),
          );
        },
      });
      await withRefresh.authorize({ grant_type: "client_credentials" });
      s.expireSessions();
      assert.equal((await withRefresh.query("SELECT Id FROM Account")).totalSize, 0);
      assert.equal(s.counters["oauth.token.client_credentials"], 3);
    });
  });

  describe("describe and single records", () => {
    it("describes Order with the configured external-ID field and the required fields", async () => {
      const describe = await conn.describe("Order");
      assert.equal(describe.keyPrefix, "801");
      const byName = new Map(describe.fields.map((f) => [f.name, f]));
      const key = byName.get("Magento_Order_Key__c");
      assert.ok(key);
      assert.equal(key.externalId, true);
      assert.equal(key.custom, true);
      for (const name of ["AccountId", "EffectiveDate", "Status"]) {
        const f = byName.get(name);
        assert.equal(f?.nillable, false, name);
        assert.equal(f?.createable, true, name);
      }
      const status = byName.get("Status");
      assert.equal(status?.restrictedPicklist, true);
      assert.deepEqual(
        status?.picklistValues?.map((v) => v.value),
        ["Draft", "In Progress", "Activated", "Shipped"],
      );
      assert.equal(byName.get("OrderNumber")?.createable, false);
      assert.equal(byName.get("CurrencyIsoCode"), undefined, "single-currency org");
    });

    it("gives 18-character ids with Salesforce key prefixes and a valid case-safe suffix", async () => {
      const { accountId, productId, entryId, orderId } = await draftOrder(conn, sim, "ids");
      const note = (await conn.create("Note", { ParentId: orderId, Title: "Comment", Body: "Paid" })) as {
        id: string;
      };
      const prefixes = [accountId, productId, entryId, orderId, note.id, sim.db.standardPricebookId].map(
        (id) => id.slice(0, 3),
      );
      assert.deepEqual(prefixes, ["001", "01t", "01u", "801", "002", "01s"]);
      for (const id of [accountId, orderId]) {
        assert.match(id, /^[a-zA-Z0-9]{18}$/);
        const record = await conn.retrieve("Order", orderId);
        assert.equal(record.Id, orderId);
        // the 15-character form names the same record
        assert.equal((await conn.retrieve(id === orderId ? "Order" : "Account", id.slice(0, 15))).Id, id);
      }
    });

    it("refuses unknown fields, Magento-style dates, missing required fields and bad ids", async () => {
      const unknown = await rejection(conn.create("Account", { Name: "X", Magento_Unknown__c: "1" }));
      assert.equal(unknown.errorCode, "INVALID_FIELD");
      assert.equal(unknown.message, "No such column 'Magento_Unknown__c' on sobject of type Account");

      const { accountId } = await draftOrder(conn, sim, "validation");
      const date = await rejection(
        conn.create("Order", { AccountId: accountId, EffectiveDate: "2024-05-01 10:00:00", Status: "Draft" }),
      );
      assert.equal(date.errorCode, "JSON_PARSER_ERROR");

      const missing = await rejection(conn.create("Order", { AccountId: accountId }));
      assert.equal(missing.errorCode, "REQUIRED_FIELD_MISSING");
      assert.equal(missing.message, "Required fields are missing: [EffectiveDate, Status]");
      assert.deepEqual(missing.data?.fields, ["EffectiveDate", "Status"]);

      const badId = await rejection(
        conn.create("Order", { AccountId: "001bogus", EffectiveDate: "2024-05-01", Status: "Draft" }),
      );
      assert.equal(badId.errorCode, "MALFORMED_ID");
      assert.deepEqual(badId.data?.fields, ["AccountId"]);

      const currency = await rejection(conn.create("Account", { Name: "X", CurrencyIsoCode: "EUR" }));
      assert.equal(currency.errorCode, "INVALID_FIELD", "no CurrencyIsoCode in a single-currency org");
    });

    it("retrieves, updates and deletes one record; a deleted record is ENTITY_IS_DELETED and only queryAll sees it", async () => {
      const created = (await conn.create("Account", { Name: "Short-lived" })) as { id: string };
      await conn.update("Account", { Id: created.id, Phone: "+1 555 0100" });
      const record = await conn.retrieve("Account", created.id, { fields: ["Name", "Phone"] });
      assert.deepEqual(
        { Name: record.Name, Phone: record.Phone },
        { Name: "Short-lived", Phone: "+1 555 0100" },
      );
      await conn.destroy("Account", created.id);
      const gone = await rejection(conn.retrieve("Account", created.id));
      assert.equal(gone.errorCode, "ENTITY_IS_DELETED");
      const soql = `SELECT Id, IsDeleted FROM Account WHERE Id = '${created.id}'`;
      assert.equal((await conn.query(soql)).totalSize, 0);
      const all = await conn.query(soql, { scanAll: true });
      assert.equal(all.totalSize, 1);
      assert.equal(all.records[0].IsDeleted, true);
    });

    it("answers NOT_FOUND like the fixture for an API version the org does not serve (jsforce's default 50.0)", async () => {
      const old = await login(sim, { version: "50.0" });
      const err = await rejection(old.query("SELECT Id FROM Account"));
      assert.equal(err.errorCode, "NOT_FOUND");
      const res = await raw(sim, "GET", "/services/data/v50.0/limits", { token: old.accessToken as string });
      assert.deepEqual(res.body, fixture("salesforce-error-bodies")["404_NOT_FOUND"]);
    });
  });

  describe("SOQL query", () => {
    it("pages 4500 rows in batches of 2000 through nextRecordsUrl", async () => {
      const s = await simulator();
      for (let i = 0; i < 4500; i++)
        s.db.insert("Product2", { Name: `P-${String(i).padStart(4, "0")}`, IsActive: true });
      const c = await login(s);
      const first = await raw(
        s,
        "GET",
        `/services/data/v60.0/query?q=${encodeURIComponent("SELECT Id, Name FROM Product2")}`,
        {
          token: c.accessToken as string,
        },
      );
      const page = first.body as {
        totalSize: number;
        done: boolean;
        nextRecordsUrl: string;
        records: unknown[];
      };
      assert.equal(page.totalSize, 4500);
      assert.equal(page.done, false);
      assert.equal(page.records.length, 2000);
      assert.match(page.nextRecordsUrl, /^\/services\/data\/v60\.0\/query\/01g[A-Za-z0-9]{15}-2000$/);

      const all = await c.query("SELECT Id, Name FROM Product2 ORDER BY Name DESC", {
        autoFetch: true,
        maxFetch: 10000,
      });
      assert.equal(all.records.length, 4500);
      assert.equal(all.records[0].Name, "P-4499");
      assert.equal(all.records[4499].Name, "P-0000");
      assert.equal(new Set(all.records.map((r) => r.Id)).size, 4500);
      assert.equal(s.counters.query, 2);
      assert.equal(s.counters.queryMore, 2);
    });

    it("matches O\\'Brien with an escaped quote and refuses an unescaped one as MALFORMED_QUERY", async () => {
      await conn.create("Account", [{ Name: "O'Brien Hardware" }, { Name: "OBrien Other" }]);
      const found = await conn.query("SELECT Id, Name FROM Account WHERE Name = 'O\\'Brien Hardware'");
      assert.deepEqual(
        found.records.map((r) => r.Name),
        ["O'Brien Hardware"],
      );
      const like = await conn.query("SELECT Name FROM Account WHERE Name LIKE 'o\\'brien%'");
      assert.deepEqual(
        like.records.map((r) => r.Name),
        ["O'Brien Hardware"],
      );
      const err = await rejection(conn.query("SELECT Id FROM Account WHERE Name = 'O'Brien Hardware'"));
      assert.equal(err.errorCode, "MALFORMED_QUERY");
      const badEscape = await rejection(conn.query("SELECT Id FROM Account WHERE Name = 'a\\qb'"));
      assert.equal(badEscape.errorCode, "MALFORMED_QUERY");
    });

    it("filters with =, !=, IN, NOT IN, LIKE, null, numbers and booleans, grouped AND/OR, ORDER BY and LIMIT", async () => {
      const s = await simulator();
      const c = await login(s);
      await c.create(
        "Product2",
        ["Alpha", "Beta", "Gamma", "Delta"].map((Name, i) => ({
          Name,
          ProductCode: i === 3 ? null : `C-${i}`,
          IsActive: i % 2 === 0,
        })),
      );
      const names = async (where: string): Promise<unknown[]> =>
        (await c.query(`SELECT Name FROM Product2 WHERE ${where} ORDER BY Name`)).records.map((r) => r.Name);
      assert.deepEqual(await names("Name = 'beta'"), ["Beta"], "= is case-insensitive");
      assert.deepEqual(await names("Name != 'Beta'"), ["Alpha", "Delta", "Gamma"]);
      assert.deepEqual(await names("Name IN ('Alpha', 'Gamma', 'Zeta')"), ["Alpha", "Gamma"]);
      assert.deepEqual(await names("Name NOT IN ('Alpha', 'Gamma')"), ["Beta", "Delta"]);
      assert.deepEqual(await names("Name LIKE '%ta'"), ["Beta", "Delta"]);
      assert.deepEqual(await names("ProductCode = null"), ["Delta"]);
      assert.deepEqual(await names("IsActive = true AND (Name = 'Alpha' OR Name = 'Beta')"), ["Alpha"]);
      assert.deepEqual(await names("(IsActive = false AND Name LIKE 'B%') OR ProductCode = 'C-2'"), [
        "Beta",
        "Gamma",
      ]);
      assert.deepEqual(await names("NOT Name = 'Alpha' AND IsActive = true"), ["Gamma"]);
      const limited = await c.query("SELECT Name FROM Product2 ORDER BY Name DESC LIMIT 2");
      assert.deepEqual(
        limited.records.map((r) => r.Name),
        ["Gamma", "Delta"],
      );
      const count = await c.query("SELECT COUNT() FROM Product2 WHERE IsActive = true");
      assert.equal(count.totalSize, 2);
    });

    it("refuses AND mixed with OR without parentheses, and wrongly typed literals, like Salesforce", async () => {
      const mixed = await rejection(
        conn.query("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'"),
      );
      assert.equal(mixed.errorCode, "MALFORMED_QUERY");
      assert.match(mixed.message, /unexpected token: 'OR'/);
      const quotedBoolean = await rejection(conn.query("SELECT Id FROM Product2 WHERE IsActive = 'true'"));
      assert.equal(quotedBoolean.errorCode, "INVALID_FIELD");
      assert.match(quotedBoolean.message, /must be of type boolean and should not be enclosed in quotes/);
      const unquotedText = await rejection(conn.query("SELECT Id FROM Account WHERE Name = 42"));
      assert.match(unquotedText.message, /must be of type string and should be enclosed in quotes/);
      const badId = await rejection(conn.query("SELECT Id FROM Account WHERE Id = 'nope'"));
      assert.equal(badId.errorCode, "INVALID_QUERY_FILTER_OPERATOR");
      const unknownField = await rejection(conn.query("SELECT Id, Nmae FROM Account"));
      assert.equal(unknownField.errorCode, "INVALID_FIELD");
      assert.match(unknownField.message, /No such column 'Nmae' on entity 'Account'/);
      const unknownObject = await rejection(conn.query("SELECT Id FROM SalesOrder"));
      assert.equal(unknownObject.errorCode, "INVALID_TYPE");
      const typo = await rejection(conn.query("SELECT Id FRM Account"));
      assert.equal(typo.errorCode, "MALFORMED_QUERY");
      const groupBy = await rejection(conn.query("SELECT Name FROM Account GROUP BY Name"));
      assert.match(groupBy.message, /not supported by the OrderBridge Salesforce simulator/);
    });

    it("reads relationship fields one level up (Account.Name) and child sub-queries", async () => {
      const { orderId, entryId } = await draftOrder(conn, sim, "relations");
      await conn.create("OrderItem", {
        OrderId: orderId,
        PricebookEntryId: entryId,
        Quantity: 3,
        UnitPrice: 19.99,
      });
      const result = await conn.query(
        `SELECT Id, Account.Name, TotalAmount, (SELECT Quantity, Product2.Name FROM OrderItems) FROM Order WHERE Id = '${orderId}'`,
      );
      const order = result.records[0] as Rec & { Account: Rec; OrderItems: { records: Rec[] } };
      assert.equal(order.Account.Name, "Customer relations");
      assert.equal(order.TotalAmount, 59.97);
      assert.equal(order.OrderItems.records[0].Quantity, 3);
      assert.equal((order.OrderItems.records[0].Product2 as Rec).Name, "Product relations");
      const items = await conn.query(
        `SELECT Order.OrderNumber, PricebookEntry.UnitPrice FROM OrderItem WHERE OrderId = '${orderId}'`,
      );
      assert.match(String((items.records[0].Order as Rec).OrderNumber), /^\d{8}$/);
    });

    it("serves OrderStatus so a caller can tell Draft-category statuses apart", async () => {
      const result = await conn.query(
        "SELECT ApiName, MasterLabel, StatusCode, IsDefault FROM OrderStatus ORDER BY SortOrder",
      );
      assert.deepEqual(
        result.records.map((r) => [r.ApiName, r.StatusCode, r.IsDefault]),
        [
          ["Draft", "Draft", true],
          ["In Progress", "Draft", false],
          ["Activated", "Activated", false],
          ["Shipped", "Activated", false],
        ],
      );
      const err = await rejection(conn.create("OrderStatus", { ApiName: "New" }));
      assert.equal(err.errorCode, "INVALID_TYPE_FOR_OPERATION");
    });
  });

  describe("upsert by external id", () => {
    it("inserts (201, created: true) and then updates (200, created: false) the same Magento order", async () => {
      const { accountId } = await draftOrder(conn, sim, "upsert");
      const order = {
        Magento_Order_Key__c: "default-000000042",
        AccountId: accountId,
        EffectiveDate: "2024-05-02",
        Status: "Draft",
      };
      const created = await conn.upsert("Order", order, "Magento_Order_Key__c");
      assert.deepEqual(
        { ...created, id: undefined },
        { id: undefined, success: true, errors: [], created: true },
      );
      const updated = await conn.upsert("Order", { ...order, Name: "#000000042" }, "Magento_Order_Key__c");
      assert.deepEqual(updated, { id: created.id, success: true, errors: [], created: false });
      assert.equal(
        sim.db.records("Order").filter((o) => o.Magento_Order_Key__c === "default-000000042").length,
        1,
      );
      assert.equal(sim.db.get(created.id as string)?.Name, "#000000042");

      // jsforce puts the value into the URL unencoded (reference §6.7): a "/" makes another resource.
      const slash = await rejection(
        conn.upsert("Order", { ...order, Magento_Order_Key__c: "default/1" }, "Magento_Order_Key__c"),
      );
      assert.equal(slash.errorCode, "NOT_FOUND");

      const res = await raw(
        sim,
        "PATCH",
        "/services/data/v60.0/sobjects/Order/Magento_Order_Key__c/default-000000043",
        {
          token: conn.accessToken as string,
          body: { AccountId: accountId, EffectiveDate: "2024-05-02", Status: "Draft" },
        },
      );
      assert.equal(res.status, 201);
      const again = await raw(
        sim,
        "PATCH",
        "/services/data/v60.0/sobjects/Order/Magento_Order_Key__c/default-000000043",
        {
          token: conn.accessToken as string,
          body: { Description: "again" },
        },
      );
      assert.equal(again.status, 200);
      const bodyWithKey = await raw(
        sim,
        "PATCH",
        "/services/data/v60.0/sobjects/Order/Magento_Order_Key__c/default-000000043",
        {
          token: conn.accessToken as string,
          body: { Magento_Order_Key__c: "default-000000043" },
        },
      );
      assert.equal(bodyWithKey.status, 400, "the external id belongs in the URL, not the body");
    });

    it("answers 300 when the key matches several records, which jsforce raises as MULTIPLE_CHOICES", async () => {
      const { accountId } = await draftOrder(conn, sim, "dupes");
      const order = {
        Magento_Order_Key__c: "dupe-1",
        AccountId: accountId,
        EffectiveDate: "2024-05-02",
        Status: "Draft",
      };
      await conn.create("Order", [order, order]);
      const err = await rejection(conn.upsert("Order", { ...order, Name: "x" }, "Magento_Order_Key__c"));
      assert.equal(err.errorCode, "MULTIPLE_CHOICES");
      assert.equal((err.data as unknown as string[]).length, 2);
    });

    it("upserts a collection by external id and refuses an unknown external-id field", async () => {
      const { accountId } = await draftOrder(conn, sim, "coll-upsert");
      const orders = ["c-1", "c-2"].map((key) => ({
        Magento_Order_Key__c: key,
        AccountId: accountId,
        EffectiveDate: "2024-05-03",
        Status: "Draft",
      }));
      const first = await conn.upsert("Order", orders, "Magento_Order_Key__c");
      assert.deepEqual(
        first.map((r) => r.created),
        [true, true],
      );
      const second = await conn.upsert(
        "Order",
        [...orders, { ...orders[0], Magento_Order_Key__c: "c-3" }],
        "Magento_Order_Key__c",
      );
      assert.deepEqual(
        second.map((r) => [r.success, r.created]),
        [
          [true, false],
          [true, false],
          [true, true],
        ],
      );
      assert.equal(sim.counters["collections.upsert"], 2);
      const err = await rejection(conn.upsert("Order", orders[0], "Name"));
      assert.equal(err.errorCode, "NOT_FOUND");
      assert.match(err.message, /Provided external ID field does not exist or is not accessible: Name/);
    });

    it("links a record to its parent by the parent's external id", async () => {
      await conn.upsert(
        "Account",
        { Magento_Customer_Key__c: "cust-7", Name: "Customer seven" },
        "Magento_Customer_Key__c",
      );
      const created = (await conn.create("Order", {
        Account: { Magento_Customer_Key__c: "cust-7" },
        EffectiveDate: "2024-05-04",
        Status: "Draft",
      })) as { id: string };
      const account = sim.db.records("Account").find((a) => a.Magento_Customer_Key__c === "cust-7");
      assert.equal(sim.db.get(created.id)?.AccountId, account?.Id);
      const missing = await rejection(
        conn.create("Order", {
          Account: { Magento_Customer_Key__c: "nobody" },
          EffectiveDate: "2024-05-04",
          Status: "Draft",
        }),
      );
      assert.equal(missing.errorCode, "INVALID_FIELD");
      assert.match(missing.message, /Foreign key external ID: nobody not found/);
    });
  });

  describe("sObject Collections", () => {
    it("allOrNone false: valid records are created, invalid ones fail alone with statusCode and no id", async () => {
      const results = await conn.create(
        "Account",
        [{ Name: "Valid one" }, { Phone: "no name" }, { Name: "Valid two" }],
        {
          allOrNone: false,
        },
      );
      assert.equal(results[0].success, true);
      assert.equal(results[2].success, true);
      assert.deepEqual(results[1], {
        success: false,
        errors: [
          {
            statusCode: "REQUIRED_FIELD_MISSING",
            message: "Required fields are missing: [Name]",
            fields: ["Name"],
          },
        ],
      });
      assert.ok(sim.db.get(results[0].id as string));
    });

    it("allOrNone true: nothing is written and valid records report ALL_OR_NONE_OPERATION_ROLLED_BACK as published", async () => {
      const before = sim.db.count("Account");
      const results = await conn.create("Account", [{ Name: "Would be valid" }, { Phone: "no name" }], {
        allOrNone: true,
      });
      const published = fixture<Rec[]>("salesforce-collections-create-allornone-true-response");
      assert.deepEqual(results[0], published[1]);
      assert.equal(results[1].success, false);
      assert.equal(sim.db.count("Account"), before);
    });

    it("refuses more than 200 records with EXCEEDED_ID_LIMIT; allowRecursive sends chunks of 200", async () => {
      const records = Array.from({ length: 201 }, (_, i) => ({ Name: `Bulk ${i}` }));
      const before = sim.counters["collections.create"];
      const err = await rejection(conn.create("Account", records));
      assert.equal(err.errorCode, "EXCEEDED_ID_LIMIT");
      const res = await raw(sim, "POST", "/services/data/v60.0/composite/sobjects", {
        token: conn.accessToken as string,
        body: { allOrNone: false, records: records.map((r) => ({ attributes: { type: "Account" }, ...r })) },
      });
      assert.equal(res.status, 400);
      assert.deepEqual(
        res.body,
        fixture("salesforce-error-bodies")["400_EXCEEDED_ID_LIMIT_unverified_shape"],
      );
      const split = await conn.create("Account", records, { allowRecursive: true });
      assert.equal(split.length, 201);
      assert.ok(split.every((r) => r.success));
      assert.equal(sim.counters["collections.create"], before + 4);
    });

    it("updates and deletes collections, reporting missing records per record", async () => {
      const created = await conn.create("Account", [{ Name: "U1" }, { Name: "U2" }]);
      const ids = created.map((r) => r.id as string);
      const updated = await conn.update("Account", [
        { Id: ids[0], Phone: "1" },
        { Id: ids[1], Name: null },
      ]);
      assert.equal(updated[0].success, true);
      assert.equal(statusCodeOf(updated[1].errors[0]), "REQUIRED_FIELD_MISSING");
      const deleted = await conn.destroy("Account", [ids[0], ids[0]]);
      assert.equal(deleted[0].success, true);
      assert.equal(statusCodeOf(deleted[1].errors[0]), "ENTITY_IS_DELETED");
      const fetched = await conn.retrieve("Account", [ids[0], ids[1]], { fields: ["Name"] });
      assert.equal(fetched[0], null);
      assert.equal(fetched[1]?.Name, "U2");
    });
  });

  describe("composite", () => {
    it("creates an Order and its items in one call with @{ref.id} references, counted as one API call", async () => {
      const { accountId, entryId } = await draftOrder(conn, sim, "composite");
      const apiBefore = sim.counters.api;
      const result = await conn.requestPost<{
        compositeResponse: { httpStatusCode: number; body: Rec; referenceId: string }[];
      }>("/composite", {
        allOrNone: true,
        compositeRequest: [
          {
            method: "POST",
            url: "/services/data/v60.0/sobjects/Order",
            referenceId: "refOrder",
            body: {
              AccountId: accountId,
              EffectiveDate: "2024-05-05",
              Status: "Draft",
              Pricebook2Id: sim.db.standardPricebookId,
            },
          },
          ...[1, 2].map((n) => ({
            method: "POST",
            url: "/services/data/v60.0/sobjects/OrderItem",
            referenceId: `refItem${n}`,
            body: { OrderId: "@{refOrder.id}", PricebookEntryId: entryId, Quantity: n, UnitPrice: 10 },
          })),
          {
            method: "GET",
            url: "/services/data/v60.0/query?q=SELECT+TotalAmount+FROM+Order+WHERE+Id='@{refOrder.id}'",
            referenceId: "refTotal",
          },
        ],
      });
      assert.deepEqual(
        result.compositeResponse.map((r) => r.httpStatusCode),
        [201, 201, 201, 200],
      );
      assert.equal((result.compositeResponse[3].body.records as Rec[])[0].TotalAmount, 30);
      assert.equal(sim.counters.api, apiBefore + 1);
    });

    it("allOrNone: one failure rolls everything back; the others report PROCESSING_HALTED as published", async () => {
      const { accountId } = await draftOrder(conn, sim, "composite-fail");
      const ordersBefore = sim.db.count("Order");
      const result = await conn.requestPost<{ compositeResponse: Rec[] }>("/composite", {
        allOrNone: true,
        compositeRequest: [
          {
            method: "POST",
            url: "/services/data/v60.0/sobjects/Order",
            referenceId: "goodOrder",
            body: { AccountId: accountId, EffectiveDate: "2024-05-05", Status: "Draft" },
          },
          {
            method: "POST",
            url: "/services/data/v60.0/sobjects/Order",
            referenceId: "badOrder",
            body: { AccountId: accountId, EffectiveDate: "2024-05-05", Status: "Activated" },
          },
          {
            method: "GET",
            url: "/services/data/v60.0/sobjects/Order/@{goodOrder.id}",
            referenceId: "readBack",
          },
        ],
      });
      const published = fixture<{ compositeResponse: Rec[] }>(
        "salesforce-composite-allornone-case4-response",
      );
      const halted = { ...published.compositeResponse[1] };
      assert.deepEqual(result.compositeResponse[0], { ...halted, referenceId: "goodOrder" });
      assert.deepEqual(result.compositeResponse[2], { ...halted, referenceId: "readBack" });
      assert.equal(result.compositeResponse[1].httpStatusCode, 400);
      assert.equal((result.compositeResponse[1].body as Rec[])[0].errorCode, "FAILED_ACTIVATION");
      assert.equal(sim.db.count("Order"), ordersBefore);
    });

    it("a collections subrequest with a failed record halts an allOrNone composite (published case 4)", async () => {
      const before = sim.db.count("Account");
      const result = await conn.requestPost<{ compositeResponse: Rec[] }>("/composite", {
        allOrNone: true,
        compositeRequest: [
          {
            method: "POST",
            url: "/services/data/v60.0/composite/sobjects",
            referenceId: "collection1",
            body: {
              allOrNone: false,
              records: [
                { attributes: { type: "Account" }, Name: "Kept?" },
                { attributes: { type: "Account" } },
              ],
            },
          },
          {
            method: "POST",
            url: "/services/data/v60.0/sobjects/Contact",
            referenceId: "newContact",
            body: { LastName: "Smith" },
          },
        ],
      });
      const published = fixture<{ compositeResponse: Rec[] }>(
        "salesforce-composite-allornone-case4-response",
      );
      assert.equal(result.compositeResponse[0].httpStatusCode, 200);
      assert.deepEqual(result.compositeResponse[1], published.compositeResponse[1]);
      assert.equal(sim.db.count("Account"), before);
    });

    it("an unresolvable reference is PROCESSING_HALTED 'Invalid reference specified'", async () => {
      const result = await conn.requestPost<{ compositeResponse: { body: Rec[] }[] }>("/composite", {
        allOrNone: false,
        compositeRequest: [
          { method: "GET", url: "/services/data/v60.0/sobjects/Account/@{refX.id}", referenceId: "readX" },
        ],
      });
      assert.deepEqual(result.compositeResponse[0].body, [
        {
          errorCode: "PROCESSING_HALTED",
          message: "Invalid reference specified. No value for refX.id found in refX.",
        },
      ]);
    });

    it("refuses more than 25 subrequests", async () => {
      const compositeRequest = Array.from({ length: 26 }, (_, i) => ({
        method: "GET",
        url: "/services/data/v60.0/limits",
        referenceId: `r${i}`,
      }));
      const err = await rejection(conn.requestPost("/composite", { compositeRequest }));
      assert.equal(err.errorCode, "LIMIT_EXCEEDED");
    });

    it("runs composite graphs, each all-or-none", async () => {
      const result = await conn.requestPost<{ graphs: { graphId: string; isSuccessful: boolean }[] }>(
        "/composite/graph",
        {
          graphs: [
            {
              graphId: "ok",
              compositeRequest: [
                {
                  method: "POST",
                  url: "/services/data/v60.0/sobjects/Account",
                  referenceId: "a",
                  body: { Name: "Graph A" },
                },
                {
                  method: "POST",
                  url: "/services/data/v60.0/sobjects/Contact",
                  referenceId: "c",
                  body: { LastName: "G", AccountId: "@{a.id}" },
                },
              ],
            },
            {
              graphId: "bad",
              compositeRequest: [
                {
                  method: "POST",
                  url: "/services/data/v60.0/sobjects/Account",
                  referenceId: "a",
                  body: { Name: "Graph B" },
                },
                {
                  method: "POST",
                  url: "/services/data/v60.0/sobjects/Contact",
                  referenceId: "c",
                  body: { AccountId: "@{a.id}" },
                },
              ],
            },
          ],
        },
      );
      assert.deepEqual(
        result.graphs.map((g) => [g.graphId, g.isSuccessful]),
        [
          ["ok", true],
          ["bad", false],
        ],
      );
      const names = sim.db.records("Account").map((a) => a.Name);
      assert.ok(names.includes("Graph A"));
      assert.ok(!names.includes("Graph B"));
    });
  });

  describe("Order-domain rules", () => {
    it("creates new orders only in a Draft-category status, with the seed's error text otherwise", async () => {
      const { accountId } = await draftOrder(conn, sim, "draft-rule");
      const base = { AccountId: accountId, EffectiveDate: "2024-05-06" };
      const inProgress = (await conn.create("Order", { ...base, Status: "In Progress" })) as { id: string };
      assert.equal(sim.db.get(inProgress.id)?.StatusCode, "Draft");
      for (const status of ["Activated", "Shipped"]) {
        const err = await rejection(conn.create("Order", { ...base, Status: status }));
        assert.equal(err.errorCode, "FAILED_ACTIVATION");
        assert.equal(
          err.message,
          "Choose a valid status and save your changes. For a new or cloned order, choose Draft. An Activated order's status can't be edited.",
        );
        assert.deepEqual(err.data?.fields, ["Status"]);
      }
      const unknown = await rejection(conn.create("Order", { ...base, Status: "Pending" }));
      assert.equal(unknown.errorCode, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    });

    it("refuses items on an order without a pricebook, or from another pricebook", async () => {
      const { accountId, entryId } = await draftOrder(conn, sim, "no-pricebook");
      const order = (await conn.create("Order", {
        AccountId: accountId,
        EffectiveDate: "2024-05-06",
        Status: "Draft",
      })) as {
        id: string;
      };
      const err = await rejection(
        conn.create("OrderItem", { OrderId: order.id, PricebookEntryId: entryId, Quantity: 1, UnitPrice: 5 }),
      );
      assert.equal(err.errorCode, "FIELD_INTEGRITY_EXCEPTION");
      assert.match(
        err.message,
        /pricebook entry is in a different pricebook than the one assigned to the Order, or Order has no pricebook assigned/,
      );
      const missing = await rejection(
        conn.create("OrderItem", { OrderId: order.id, PricebookEntryId: entryId }),
      );
      assert.equal(missing.message, "Required fields are missing: [Quantity, UnitPrice]");
    });

    it("locks an activated order: no edits, no new or removed items, no delete; back to Draft reopens it", async () => {
      const { orderId, entryId, accountId } = await draftOrder(conn, sim, "activation");
      const item = (await conn.create("OrderItem", {
        OrderId: orderId,
        PricebookEntryId: entryId,
        Quantity: 1,
        UnitPrice: 19.99,
      })) as {
        id: string;
      };
      await conn.update("Order", { Id: orderId, Status: "Activated" });
      const activated = sim.db.get(orderId);
      assert.equal(activated?.StatusCode, "Activated");
      assert.ok(activated?.ActivatedDate);

      const edit = await rejection(conn.update("Order", { Id: orderId, Description: "changed" }));
      assert.equal(edit.errorCode, "FAILED_ACTIVATION");
      assert.match(edit.message, /An Activated order's status can't be edited\./);
      const shipped = await rejection(conn.update("Order", { Id: orderId, Status: "Shipped" }));
      assert.equal(shipped.errorCode, "FAILED_ACTIVATION");
      const account = await rejection(conn.update("Order", { Id: orderId, AccountId: accountId, Name: "x" }));
      assert.equal(account.errorCode, "FAILED_ACTIVATION");

      const locked =
        "Unable to modify activated or superseded Order: cannot delete Order, or add or remove Order Products";
      const add = await rejection(
        conn.create("OrderItem", { OrderId: orderId, PricebookEntryId: entryId, Quantity: 1, UnitPrice: 1 }),
      );
      assert.deepEqual([add.errorCode, add.message], ["ENTITY_IS_LOCKED", locked]);
      const remove = await rejection(conn.destroy("OrderItem", item.id));
      assert.equal(remove.errorCode, "ENTITY_IS_LOCKED");
      const change = await rejection(conn.update("OrderItem", { Id: item.id, Quantity: 2 }));
      assert.equal(change.errorCode, "ENTITY_IS_LOCKED");
      const drop = await rejection(conn.destroy("Order", orderId));
      assert.equal(drop.errorCode, "ENTITY_IS_LOCKED");

      await conn.update("Order", { Id: orderId, Status: "In Progress" });
      await conn.create("OrderItem", {
        OrderId: orderId,
        PricebookEntryId: entryId,
        Quantity: 2,
        UnitPrice: 19.99,
      });
      await conn.update("Order", { Id: orderId, Status: "Shipped" });
      assert.equal(sim.db.get(orderId)?.StatusCode, "Activated");
      assert.equal(sim.db.get(orderId)?.TotalAmount, 59.97);
    });

    it("refuses create-only fields on update (OrderItem.OrderId)", async () => {
      const { orderId, entryId } = await draftOrder(conn, sim, "create-only");
      const item = (await conn.create("OrderItem", {
        OrderId: orderId,
        PricebookEntryId: entryId,
        Quantity: 1,
        UnitPrice: 1,
      })) as {
        id: string;
      };
      const err = await rejection(conn.update("OrderItem", { Id: item.id, OrderId: orderId, Quantity: 2 }));
      assert.equal(err.errorCode, "INVALID_FIELD_FOR_INSERT_UPDATE");
      assert.deepEqual(err.data?.fields, ["OrderId"]);
    });

    it("needs a standard price before a custom-pricebook price, and one price per pricebook and product", async () => {
      const product = (await conn.create("Product2", { Name: "Mug", ProductCode: "MUG" })) as { id: string };
      const custom = (await conn.create("Pricebook2", { Name: "Magento Store", IsActive: true })) as {
        id: string;
      };
      const early = await rejection(
        conn.create("PricebookEntry", {
          Pricebook2Id: custom.id,
          Product2Id: product.id,
          UnitPrice: 8,
          IsActive: true,
        }),
      );
      assert.deepEqual(
        [early.errorCode, early.message],
        ["STANDARD_PRICE_NOT_DEFINED", "Before creating a custom price, create a standard price."],
      );
      await conn.create("PricebookEntry", {
        Pricebook2Id: sim.db.standardPricebookId,
        Product2Id: product.id,
        UnitPrice: 9,
        IsActive: true,
      });
      await conn.create("PricebookEntry", {
        Pricebook2Id: custom.id,
        Product2Id: product.id,
        UnitPrice: 8,
        IsActive: true,
      });
      const dup = await rejection(
        conn.create("PricebookEntry", {
          Pricebook2Id: custom.id,
          Product2Id: product.id,
          UnitPrice: 7,
          IsActive: true,
        }),
      );
      assert.equal(dup.errorCode, "DUPLICATE_VALUE");
    });

    it("in a multi-currency org needs an entry per currency and items in the order's currency", async () => {
      const s = await simulator({ multiCurrency: true });
      const c = await login(s);
      const currencies = await c.query("SELECT IsoCode, IsCorporate FROM CurrencyType WHERE IsActive = true");
      assert.deepEqual(
        currencies.records.map((r) => r.IsoCode),
        ["USD", "EUR", "GBP"],
      );
      const account = (await c.create("Account", { Name: "Euro customer", CurrencyIsoCode: "EUR" })) as {
        id: string;
      };
      const product = (await c.create("Product2", { Name: "Lamp", IsActive: true })) as { id: string };
      const entry = (price: number, CurrencyIsoCode: string): Promise<unknown> =>
        c.create("PricebookEntry", {
          Pricebook2Id: s.db.standardPricebookId,
          Product2Id: product.id,
          UnitPrice: price,
          IsActive: true,
          CurrencyIsoCode,
        });
      const usd = (await entry(10, "USD")) as { id: string };
      const eur = (await entry(9, "EUR")) as { id: string };
      assert.equal((await rejection(entry(11, "EUR"))).errorCode, "DUPLICATE_VALUE");
      const order = (await c.create("Order", {
        AccountId: account.id,
        EffectiveDate: "2024-05-07",
        Status: "Draft",
        Pricebook2Id: s.db.standardPricebookId,
        CurrencyIsoCode: "EUR",
      })) as { id: string };
      const wrong = await rejection(
        c.create("OrderItem", { OrderId: order.id, PricebookEntryId: usd.id, Quantity: 1, UnitPrice: 10 }),
      );
      assert.equal(wrong.errorCode, "FIELD_INTEGRITY_EXCEPTION");
      assert.match(wrong.message, /currency code does not match order currency code/);
      const item = (await c.create("OrderItem", {
        OrderId: order.id,
        PricebookEntryId: eur.id,
        Quantity: 1,
        UnitPrice: 9,
      })) as { id: string };
      assert.equal(s.db.get(item.id)?.CurrencyIsoCode, "EUR");
      const bad = await rejection(c.create("Account", { Name: "X", CurrencyIsoCode: "JPY" }));
      assert.equal(bad.errorCode, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    });

    it("keeps Notes on orders: Title is at most 80 characters and ParentId must exist", async () => {
      const { orderId } = await draftOrder(conn, sim, "notes");
      await conn.create("Note", {
        ParentId: orderId,
        Title: "Status: processing",
        Body: "Order is processing",
        IsPrivate: false,
      });
      const long = await rejection(conn.create("Note", { ParentId: orderId, Title: "x".repeat(81) }));
      assert.equal(long.errorCode, "STRING_TOO_LONG");
      assert.deepEqual(long.data?.fields, ["Title"]);
      const orphan = await rejection(conn.create("Note", { ParentId: "801Sm0000000zzzIAA", Title: "t" }));
      assert.equal(orphan.errorCode, "INVALID_CROSS_REFERENCE_KEY");
      const notes = await conn.query(
        `SELECT Id, (SELECT Title FROM Notes) FROM Order WHERE Id = '${orderId}'`,
      );
      assert.equal(
        ((notes.records[0].Notes as { records: Rec[] }).records[0] as Rec).Title,
        "Status: processing",
      );
    });

    it("accepts ContentNote content only with HTML special characters escaped", async () => {
      const { orderId } = await draftOrder(conn, sim, "content-note");
      const content = (text: string): string => Buffer.from(text).toString("base64");
      const bad = await rejection(
        conn.create("ContentNote", { Title: "T", Content: content("Fish & chips") }),
      );
      assert.equal(bad.errorCode, "FIELD_INTEGRITY_EXCEPTION");
      const note = (await conn.create("ContentNote", {
        Title: "T",
        Content: content("<p>Fish &amp; chips</p>"),
      })) as { id: string };
      await conn.create("ContentDocumentLink", {
        ContentDocumentId: note.id,
        LinkedEntityId: orderId,
        ShareType: "V",
      });
      const links = await conn.query(
        `SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '${orderId}'`,
      );
      assert.equal(links.records[0].ContentDocumentId, note.id);
      const unfiltered = await rejection(conn.query("SELECT Id FROM ContentDocumentLink"));
      assert.equal(unfiltered.errorCode, "MALFORMED_QUERY");
    });
  });

  describe("limits, counters, latency and faults", () => {
    it("counts API calls: DailyApiRequests.Remaining falls and jsforce reads Sforce-Limit-Info", async () => {
      const s = await simulator({ dailyApiLimit: 1000 });
      const c = await login(s);
      const first = await c.limits();
      await c.query("SELECT Id FROM Account");
      await c.create("Account", [{ Name: "A" }, { Name: "B" }]);
      const second = await c.limits();
      assert.equal(first.DailyApiRequests.Max, 1000);
      assert.equal(first.DailyApiRequests.Remaining - second.DailyApiRequests.Remaining, 3);
      assert.deepEqual(c.limitInfo.apiUsage, { used: 4, limit: 1000 });
      assert.equal(s.counters.api, 4);
      assert.equal(s.counters["oauth.token"], 1, "logins are not API calls");
    });

    it("answers 403 REQUEST_LIMIT_EXCEEDED as published once the daily limit is used up", async () => {
      const s = await simulator({ dailyApiLimit: 2 });
      const c = await login(s);
      await c.query("SELECT Id FROM Account");
      await c.query("SELECT Id FROM Account");
      const err = await rejection(c.query("SELECT Id FROM Account"));
      assert.equal(err.errorCode, "REQUEST_LIMIT_EXCEEDED");
      const res = await raw(s, "GET", "/services/data/v60.0/limits", { token: c.accessToken as string });
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, fixture("salesforce-error-bodies")["403_REQUEST_LIMIT_EXCEEDED"]);
    });

    it("concurrent_limit: 403 REQUEST_LIMIT_EXCEEDED naming the concurrent limit, the request not processed", async () => {
      const s = await simulator();
      const c = await login(s);
      s.setFaults({ rate: 1, kinds: ["concurrent_limit"] });
      const err = await rejection(c.create("Account", { Name: "Refused" }));
      assert.equal(err.errorCode, "REQUEST_LIMIT_EXCEEDED");
      assert.equal(err.message, "ConcurrentPerOrgLongTxn Limit exceeded.");
      const res = await raw(s, "GET", "/services/data/v60.0/query?q=SELECT+Id+FROM+Account", {
        token: c.accessToken as string,
      });
      assert.equal(res.status, 403);
      assert.deepEqual(res.body, [
        { message: "ConcurrentPerOrgLongTxn Limit exceeded.", errorCode: "REQUEST_LIMIT_EXCEEDED" },
      ]);
      s.setFaults(undefined);
      assert.equal(
        (await c.query("SELECT Id FROM Account")).totalSize,
        0,
        "the refused create wrote nothing",
      );
      assert.equal(s.counters["fault.concurrent_limit"], 2);
    });

    it("adds latencyMs to every response", async () => {
      const s = await simulator({ latencyMs: 120 });
      const c = await login(s);
      const startedAt = Date.now();
      await c.query("SELECT Id FROM Account");
      assert.ok(Date.now() - startedAt >= 120);
    });

    it("injects the same faults for the same seed", async () => {
      const pattern = async (): Promise<string> => {
        const s = await simulator({ faults: { rate: 0.5, kinds: ["500", "503"], seed: 42 } });
        const c = await login(s);
        let outcome = "";
        for (let i = 0; i < 16; i++) {
          // POST is never retried by jsforce, so every fault reaches the caller.
          outcome += await c.create("Account", { Name: `F${i}` }).then(
            () => ".",
            (e: SfError) =>
              e.errorCode === "UNKNOWN_EXCEPTION" ? "5" : e.errorCode === "SERVER_UNAVAILABLE" ? "3" : "?",
          );
        }
        assert.equal(s.db.count("Account"), outcome.split(".").length - 1, "faulted calls write nothing");
        return outcome;
      };
      const first = await pattern();
      assert.equal(await pattern(), first);
      assert.match(first, /\./);
      assert.match(first, /[53]/);
      assert.doesNotMatch(first, /\?/);
    });

    it("reset: the write is committed but the connection drops before the answer", async () => {
      const s = await simulator();
      const c = await login(s);
      s.setFaults({ rate: 1, kinds: ["reset"] });
      const err = await rejection(c.create("Account", { Name: "Committed anyway" }));
      // undici (jsforce's fetch) reports the dropped socket as the cause of TypeError "fetch failed"
      const cause = (err as { cause?: { message?: string; code?: string } }).cause;
      assert.match(
        `${err.name} ${err.message} ${String((err as { code?: string }).code)} ${cause?.message} ${cause?.code}`,
        /ECONNRESET|socket hang up|other side closed/i,
      );
      s.setFaults(undefined);
      assert.equal((await c.query("SELECT Id FROM Account WHERE Name = 'Committed anyway'")).totalSize, 1);
      assert.equal(s.counters["fault.reset"], 1);
    });

    it("record_error fails one record of a collection with UNABLE_TO_LOCK_ROW; unable_to_lock_row fails every write", async () => {
      const s = await simulator();
      const c = await login(s);
      s.setFaults({ rate: 1, kinds: ["record_error"] });
      const results = await c.create("Account", [{ Name: "L1" }, { Name: "L2" }, { Name: "L3" }]);
      assert.deepEqual(
        results.map((r) => (r.success ? "ok" : statusCodeOf(r.errors[0]))),
        ["UNABLE_TO_LOCK_ROW", "ok", "ok"],
      );
      s.setFaults({ rate: 1, kinds: ["unable_to_lock_row"] });
      const single = await rejection(c.create("Account", { Name: "L4" }));
      assert.equal(single.errorCode, "UNABLE_TO_LOCK_ROW");
      assert.equal((await c.query("SELECT Id FROM Account")).totalSize, 2, "reads are not locked");
      s.setFaults({ rate: 1, kinds: ["request_limit"] });
      assert.equal(
        (await rejection(c.create("Account", { Name: "L5" }))).errorCode,
        "REQUEST_LIMIT_EXCEEDED",
      );
      s.setFaults({ rate: 1, kinds: ["slow"], slowMs: 150 });
      const startedAt = Date.now();
      await c.create("Account", { Name: "L6" });
      assert.ok(Date.now() - startedAt >= 150);
      s.setFaults(undefined);
      assert.equal(s.counters["fault.record_error"], 1);
      assert.equal(s.counters["fault.unable_to_lock_row"], 1);
    });
  });
});
