/**
 * SalesforceSession: each OAuth grant logs in once, is shared by concurrent callers, and
 * survives an expired session; bad settings and refused logins say what to fix without
 * showing a secret.
 */
import assert from "node:assert/strict";
import { createPublicKey, createVerify, generateKeyPairSync } from "node:crypto";
import { SalesforceError } from "../../src/salesforce/errors";
import { privateKeyOf, signJwtAssertion } from "../../src/salesforce/jwt";
import {
  SalesforceSession,
  checkApiVersion,
  resolveLoginUrl,
  type AuthMode,
} from "../../src/salesforce/session";
import { redact } from "../../src/sync/secrets";
import { orders, pusher, session, simulator, stopAll } from "./salesforce-fixtures";

const GRANTS: AuthMode[] = ["password", "client_credentials", "jwt", "refresh_token"];
const TOKEN_COUNTER: Record<AuthMode, string> = {
  password: "oauth.token.password",
  client_credentials: "oauth.token.client_credentials",
  jwt: "oauth.token.urn:ietf:params:oauth:grant-type:jwt-bearer",
  refresh_token: "oauth.token.refresh_token",
};

describe("Salesforce session (jsforce 3 against the simulator)", function () {
  afterEach(stopAll);

  for (const grant of GRANTS) {
    it(`${grant}: logs in once for concurrent callers and survives an expired session`, async () => {
      const sim = await simulator();
      const s = session(sim, grant);
      const [a, b] = await Promise.all([s.connection(), s.connection()]);
      assert.equal(a, b);
      assert.equal(sim.counters[TOKEN_COUNTER[grant]], 1, "one login");
      assert.equal(a.version, "60.0");
      const statuses = await s.orderStatuses();
      assert.deepEqual(
        statuses.map((x) => [x.apiName, x.statusCode]),
        [
          ["Draft", "Draft"],
          ["In Progress", "Draft"],
          ["Activated", "Activated"],
          ["Shipped", "Activated"],
        ],
      );
      sim.expireSessions();
      await s.orderStatuses();
      assert.equal(sim.counters["session.invalid"], 1);
      assert.equal(sim.counters[TOKEN_COUNTER[grant]], 2, "logged in again with the same grant");
      const summary = await s.summary();
      assert.equal(summary.username, sim.credentials.username);
      assert.equal(summary.organizationId, sim.db.orgId);
      assert.deepEqual(summary.versions, ["60.0", "61.0", "62.0"]);
      assert.equal(summary.apiUsage.max, 15000);
      assert.ok(summary.apiUsage.used > 0);
    });
  }

  it("pushes orders through each grant and keeps pushing after the session expires mid-way", async () => {
    for (const grant of GRANTS) {
      const sim = await simulator();
      const push = pusher(sim, {}, grant);
      const list = orders(30, 21);
      await push.push(list.slice(0, 15));
      sim.expireSessions();
      const summary = await push.push(list.slice(15));
      assert.ok(
        summary.results.every((r) => r.action === "created"),
        grant,
      );
      assert.equal(sim.db.count("Order"), 30, grant);
    }
  });

  it("reports a refused login with the flow and what to check, and no secret", async () => {
    const sim = await simulator();
    const c = sim.credentials;
    const wrong = new SalesforceSession({
      loginUrl: sim.url,
      authMode: "password",
      credentials: {
        clientId: c.clientId,
        clientSecret: c.clientSecret,
        username: c.username,
        password: "Wrong-Pass-9",
        securityToken: c.securityToken,
      },
    });
    await assert.rejects(wrong.connection(), (err: unknown) => {
      assert.ok(err instanceof SalesforceError);
      assert.equal(err.code, "invalid_grant");
      assert.match(
        err.message,
        /Salesforce login failed \(password flow, invalid_grant\): authentication failure/,
      );
      assert.match(err.message, /security token/);
      for (const secret of [c.clientSecret, "Wrong-Pass-9", c.securityToken])
        assert.ok(!err.message.includes(secret));
      return true;
    });
    // A failed login is not remembered: the next call tries again.
    await assert.rejects(wrong.connection());
    assert.equal(sim.counters["oauth.token.password"], 2);
    await wrong.close();
  });

  it("stops when Salesforce keeps refusing fresh sessions instead of looping like jsforce would", async () => {
    const sim = await simulator({ sessionTtlMs: 0 }); // every access token is dead on arrival
    const s = session(sim, "client_credentials");
    await assert.rejects(s.orderStatuses(), /refused 3 fresh sessions within 30 s/);
    assert.equal(sim.counters["oauth.token.client_credentials"], 4, "the first login and three refreshes");
  });

  it("refreshes again once 30 s passed since its refreshes, however often it was called meanwhile", async () => {
    const sim = await simulator({ sessionTtlMs: 0 });
    const s = session(sim, "client_credentials");
    const realNow = Date.now;
    let now = realNow();
    Date.now = () => now;
    try {
      await assert.rejects(s.orderStatuses(), /refused 3 fresh sessions/);
      // Calls while the window is full are refused without a login, and do not extend it.
      for (let i = 0; i < 5; i++) {
        now += 5_000;
        await assert.rejects(s.orderStatuses(), /refused 3 fresh sessions/);
      }
      const logins = sim.counters["oauth.token.client_credentials"];
      now += 6_000; // 31 s after the last refresh
      await assert.rejects(s.orderStatuses(), /refused 3 fresh sessions/);
      assert.ok(
        sim.counters["oauth.token.client_credentials"] > logins,
        "it logged in again after the window",
      );
    } finally {
      Date.now = realNow;
    }
  });

  it("refuses unusable settings before any call, naming what is missing", () => {
    assert.throws(
      () =>
        new SalesforceSession({
          loginUrl: "production",
          authMode: "password",
          credentials: { clientId: "x" },
        }),
      /lacks: client secret \(consumer secret\), username, password/,
    );
    assert.throws(
      () =>
        new SalesforceSession({
          loginUrl: "sandbox",
          authMode: "jwt",
          credentials: { clientId: "x", username: "u", privateKey: "nope" },
        }),
      /not a usable RSA private key/,
    );
    assert.throws(() => resolveLoginUrl("https://acme.lightning.force.com"), /My Domain URL/);
    assert.throws(() => resolveLoginUrl("http://login.salesforce.com"), /must use https/);
    assert.equal(resolveLoginUrl("sandbox"), "https://test.salesforce.com");
    assert.equal(resolveLoginUrl("https://acme.my.salesforce.com/"), "https://acme.my.salesforce.com");
    assert.equal(checkApiVersion(""), "60.0");
    assert.equal(checkApiVersion("62"), "62.0");
    assert.throws(() => checkApiVersion("50.0"), /too old: use 60\.0 or newer/);
  });

  it("says when the org does not serve the chosen API version", async () => {
    const sim = await simulator({ apiVersions: ["61.0", "62.0"] });
    const c = sim.credentials;
    const s = new SalesforceSession({
      loginUrl: sim.url,
      apiVersion: "60.0",
      authMode: "client_credentials",
      credentials: { clientId: c.clientId, clientSecret: c.clientSecret },
    });
    await assert.rejects(s.summary(), /does not serve API version 60\.0; it serves 61\.0, 62\.0/);
    await s.close();
  });

  it("registers every credential and access token as a secret", async () => {
    const sim = await simulator();
    const s = session(sim, "password");
    const conn = await s.connection();
    const token = conn.accessToken as string;
    const c = sim.credentials;
    const text = `token ${token} secret ${c.clientSecret} pass ${c.password + c.securityToken}`;
    const shown = redact(text);
    for (const secret of [token, c.clientSecret, c.password, c.securityToken])
      assert.ok(!shown.includes(secret), shown);
  });

  it("signs JWT bearer assertions RS256 with iss, sub, aud and a short exp", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const jwt = signJwtAssertion(
      {
        clientId: "cid",
        username: "u@example.com",
        audience: "https://login.salesforce.com/",
        now: () => 1_700_000_000_000,
      },
      privateKeyOf(pem),
    );
    const [header, claims, signature] = jwt.split(".");
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { alg: "RS256", typ: "JWT" });
    assert.deepEqual(JSON.parse(Buffer.from(claims, "base64url").toString()), {
      iss: "cid",
      sub: "u@example.com",
      aud: "https://login.salesforce.com",
      exp: 1_700_000_180,
    });
    const ok = createVerify("RSA-SHA256")
      .update(`${header}.${claims}`)
      .verify(
        createPublicKey(publicKey.export({ type: "spki", format: "pem" })),
        Buffer.from(signature, "base64url"),
      );
    assert.ok(ok);
  });
});
