import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { AdminTokenSession, queryPairs, signOAuth1 } from "../../src/magento/auth";
import { MagentoClient } from "../../src/magento/client";
import { MagentoError } from "../../src/magento/errors";
import { encodeQuery } from "../../src/magento/search";
import { loadFixture, sendJson, startStub, verifyOAuthRequest, type StubServer } from "./magento-fixtures";

const creds = {
  kind: "oauth1" as const,
  consumerKey: "ck-123",
  consumerSecret: "cs-456",
  accessToken: "at-789",
  accessTokenSecret: "ats-000",
};

const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
const bodies = loadFixture<Record<string, unknown>>("magento-error-bodies.json");

describe("Magento authentication (magento/auth.ts)", () => {
  describe("OAuth 1.0a signing", () => {
    const query = {
      "searchCriteria[filter_groups][0][filters][0][field]": "updated_at",
      "searchCriteria[filter_groups][0][filters][0][value]": "2024-01-01 10:00:00",
      "searchCriteria[filter_groups][1][filters][0][value]": "processing,complete",
      "searchCriteria[filter_groups][2][filters][0][value]": "%O'Brien (VIP)!%",
    };
    const url = `http://Shop.Example.com:80/rest/default/V1/orders?${encodeQuery(query)}`;

    // RFC 5849 §3.4.1 by hand: decoded query pairs and oauth_* params, each name and value
    // RFC 3986-encoded, sorted by name, joined with & — and that whole string encoded once
    // more. Host lower-cased, default port dropped.
    const expectedBaseString =
      "GET" +
      "&http%3A%2F%2Fshop.example.com%2Frest%2Fdefault%2FV1%2Forders" +
      "&oauth_consumer_key%3Dck-123" +
      "%26oauth_nonce%3Dn0nce" +
      "%26oauth_signature_method%3DHMAC-SHA256" +
      "%26oauth_timestamp%3D1700000000" +
      "%26oauth_token%3Dat-789" +
      "%26oauth_version%3D1.0" +
      "%26searchCriteria%255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B0%255D%255Bfield%255D%3Dupdated_at" +
      "%26searchCriteria%255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B0%255D%255Bvalue%255D%3D2024-01-01%252010%253A00%253A00" +
      "%26searchCriteria%255Bfilter_groups%255D%255B1%255D%255Bfilters%255D%255B0%255D%255Bvalue%255D%3Dprocessing%252Ccomplete" +
      "%26searchCriteria%255Bfilter_groups%255D%255B2%255D%255Bfilters%255D%255B0%255D%255Bvalue%255D%3D%2525O%2527Brien%2520%2528VIP%2529%2521%2525";

    it("builds the RFC 5849 base string for query values with spaces, commas, % and brackets", () => {
      const signed = signOAuth1(creds, "get", url, { nonce: "n0nce", timestamp: 1700000000 });
      assert.equal(signed.baseString, expectedBaseString);
    });

    it("signs it with HMAC-SHA256 keyed by both secrets and puts it in a comma-separated header", () => {
      const signed = signOAuth1(creds, "GET", url, { nonce: "n0nce", timestamp: 1700000000 });
      const expected = createHmac("sha256", "cs-456&ats-000").update(expectedBaseString).digest("base64");
      assert.equal(signed.signature, expected);
      assert.equal(
        signed.authorization,
        `OAuth oauth_consumer_key="ck-123",oauth_nonce="n0nce",oauth_signature="${encodeURIComponent(expected)}",` +
          `oauth_signature_method="HMAC-SHA256",oauth_timestamp="1700000000",oauth_token="at-789",oauth_version="1.0"`,
      );
    });

    it("signs raw and percent-encoded brackets alike (the server decodes before signing)", () => {
      const raw = url.replace(/%5B/g, "[").replace(/%5D/g, "]");
      const a = signOAuth1(creds, "GET", raw, { nonce: "n0nce", timestamp: 1700000000 });
      assert.equal(a.baseString, expectedBaseString);
      assert.deepEqual(queryPairs(raw), Object.entries(query));
    });

    it("uses a fresh nonce for every signature", () => {
      const a = signOAuth1(creds, "GET", url);
      const b = signOAuth1(creds, "GET", url);
      assert.notEqual(a.authorization, b.authorization);
    });
  });

  describe("through the client", () => {
    let stub: StubServer | undefined;
    let client: MagentoClient | undefined;
    afterEach(async () => {
      client?.close();
      await stub?.stop();
      stub = client = undefined;
    });

    it("OAuth: the server can verify every request, keyset query and retried request included", async () => {
      stub = await startStub((req, res) => {
        const host = new URL(stub!.url).host;
        const check = verifyOAuthRequest(req, host, creds);
        if (!check.ok) return sendJson(res, 401, { message: `The signature is invalid. ${check.why}` });
        if (stub!.requests.length === 1) return sendJson(res, 503, { message: "busy" });
        sendJson(res, 200, { items: [], total_count: 0 });
      });
      client = new MagentoClient({ baseUrl: stub.url, auth: creds, retry: fastRetry });
      await client.searchOrders({
        filterGroups: [
          {
            filters: [
              { field: "updated_at", value: "2024-01-01 10:00:00", conditionType: "gt" },
              { field: "customer_lastname", value: "%O'Brien (VIP)%", conditionType: "like" },
            ],
          },
          { filters: [{ field: "status", value: ["processing", "complete"], conditionType: "in" }] },
        ],
        sortOrders: [{ field: "updated_at", direction: "ASC" }],
        pageSize: 10,
        currentPage: 1,
      });
      const [first, second] = stub.requests;
      assert.equal(stub.requests.length, 2);
      assert.equal(first.url, second.url);
      const nonce = (h: unknown) => /oauth_nonce="([^"]+)"/.exec(String(h))?.[1];
      assert.notEqual(nonce(first.headers.authorization), nonce(second.headers.authorization));
      assert.match(first.url, /value%5D=2024-01-01%2010%3A00%3A00/);
    });

    it("OAuth: a wrong consumer secret gives a clear 401 naming the credentials to check", async () => {
      stub = await startStub((req, res) => {
        const check = verifyOAuthRequest(req, new URL(stub!.url).host, creds);
        if (!check.ok) return sendJson(res, 401, bodies["401_oauth_bad_signature"]);
        sendJson(res, 200, []);
      });
      client = new MagentoClient({
        baseUrl: stub.url,
        auth: { ...creds, consumerSecret: "wrong-secret" },
        retry: fastRetry,
      });
      await assert.rejects(client.storeViews(), (err: MagentoError) => {
        assert.equal(err.code, "http_401");
        assert.match(err.message, /signature is invalid/);
        assert.match(err.message, /consumer secret/);
        assert.doesNotMatch(err.message, /wrong-secret/);
        return true;
      });
      assert.equal(stub.requests.length, 1, "401 is not retried");
    });

    it("bearer: sends the integration token and explains the ACL 401", async () => {
      stub = await startStub((req, res) =>
        req.headers.authorization === "Bearer integration-token-1"
          ? sendJson(res, 401, bodies["401_acl"])
          : sendJson(res, 400, { message: "no token" }),
      );
      client = new MagentoClient({
        baseUrl: stub.url,
        auth: { kind: "bearer", token: "integration-token-1" },
      });
      await assert.rejects(client.getOrder(3), (err: MagentoError) => {
        assert.match(err.message, /isn't authorized to access Magento_Sales::actions_view/);
        assert.match(err.message, /standalone Bearer/);
        return true;
      });
    });

    describe("admin token", () => {
      /** A Magento that issues admin tokens and forgets them on demand. */
      async function adminMagento(opts: { twoFactor?: "401" | "400" } = {}) {
        let issued = 0;
        const valid = new Set<string>();
        const server = await startStub((req, res) => {
          if (req.method === "POST" && req.url === "/rest/V1/integration/admin/token") {
            const body = JSON.parse(req.body) as { username: string; password: string };
            if (body.username !== "admin" || body.password !== "Adm1n-Pa55") {
              return sendJson(res, 401, bodies["401_bad_admin_credentials"]);
            }
            if (opts.twoFactor === "401") return sendJson(res, 401, bodies["401_tfa_enabled_admin_token"]);
            if (opts.twoFactor === "400") {
              return sendJson(res, 400, {
                message: "Please use the 2fa provider-specific endpoints to obtain a token.",
              });
            }
            const token = `admintoken${++issued}xyz`;
            valid.add(token);
            return sendJson(res, 200, token);
          }
          const token = String(req.headers.authorization ?? "").replace(/^Bearer /, "");
          if (!valid.has(token)) return sendJson(res, 401, bodies["401_acl"]);
          sendJson(res, 200, [
            {
              id: 1,
              code: "default",
              name: "Default Store View",
              website_id: 1,
              store_group_id: 1,
              is_active: 1,
            },
          ]);
        });
        return { server, expire: () => valid.clear(), issued: () => issued };
      }

      it("logs in once, reuses the token, and logs in again once after it expired", async () => {
        const magento = await adminMagento();
        stub = magento.server;
        client = new MagentoClient({
          baseUrl: `${stub.url}/`,
          auth: { kind: "admin", username: "admin", password: "Adm1n-Pa55" },
        });
        await Promise.all([client.storeViews(), client.storeViews(), client.storeViews()]);
        assert.equal(magento.issued(), 1, "concurrent calls share one login");
        magento.expire();
        const views = await client.storeViews();
        assert.equal(views[0].code, "default");
        assert.equal(magento.issued(), 2);
        const tokenCalls = stub.requests.filter((r) => r.url.endsWith("/admin/token"));
        assert.equal(tokenCalls.length, 2);
        assert.equal(tokenCalls[0].headers.authorization, undefined);
      });

      it("renews the token before its lifetime runs out", async () => {
        let now = 0;
        let logins = 0;
        const session = new AdminTokenSession(
          async () => `tok-${++logins}-abcd`,
          4 * 3600_000,
          () => now,
        );
        assert.equal(await session.current(), "tok-1-abcd");
        now = 3 * 3600_000;
        assert.equal(await session.current(), "tok-1-abcd");
        now = 4 * 3600_000 - 60_000; // inside the renewal margin
        assert.equal(await session.current(), "tok-2-abcd");
      });

      it("turns the 2FA refusal (401 and the older 400) into advice to use an integration", async () => {
        for (const twoFactor of ["401", "400"] as const) {
          const magento = await adminMagento({ twoFactor });
          stub = magento.server;
          client = new MagentoClient({
            baseUrl: stub.url,
            auth: { kind: "admin", username: "admin", password: "Adm1n-Pa55" },
          });
          await assert.rejects(client.storeViews(), (err: MagentoError) => {
            assert.equal(err.call, "POST /V1/integration/admin/token");
            assert.match(err.message, /two-factor authentication is enabled/i);
            assert.match(err.message, /integration/);
            assert.doesNotMatch(err.message, /Adm1n-Pa55/);
            return true;
          });
          client.close();
          await stub.stop();
          stub = client = undefined;
        }
      });

      it("reports wrong admin credentials without retrying the login in a loop", async () => {
        const magento = await adminMagento();
        stub = magento.server;
        client = new MagentoClient({
          baseUrl: stub.url,
          auth: { kind: "admin", username: "admin", password: "nope-nope" },
        });
        await assert.rejects(
          client.storeViews(),
          /account sign-in was incorrect.*Check the admin username and password/,
        );
        assert.equal(stub.requests.length, 1);
      });
    });

    it("never lets a credential into an error message, even when the server echoes it", async () => {
      // A hostile or debugging proxy that reflects the request into its error body.
      stub = await startStub((req, res) => {
        if (req.url.endsWith("/admin/token") && !req.body.includes("echo-pass"))
          return sendJson(res, 200, "echoed-admin-token");
        sendJson(res, 500, {
          message: `failed for %1 with %2`,
          parameters: [String(req.headers.authorization), req.body],
        });
      });
      const auths = [
        { kind: "bearer" as const, token: "echo-bearer-token" },
        {
          ...creds,
          consumerKey: "echo-ck",
          consumerSecret: "echo-cs",
          accessToken: "echo-at",
          accessTokenSecret: "echo-ats",
        },
        { kind: "admin" as const, username: "admin", password: "echo-pass" },
        { kind: "admin" as const, username: "admin", password: "echo-pa55word" },
      ];
      const secrets = [
        "echo-bearer-token",
        "echo-cs",
        "echo-ats",
        "echo-at",
        "echo-ck",
        "echo-pass",
        "echoed-admin-token",
      ];
      for (const auth of auths) {
        const c = new MagentoClient({
          baseUrl: stub.url,
          auth,
          retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
        });
        const err = await c
          .request("POST", "/V1/orders/3/comments", { body: { password: "echo-pass" } })
          .then(
            () => assert.fail("should fail"),
            (e: MagentoError) => e,
          );
        c.close();
        assert.ok(err instanceof MagentoError);
        for (const secret of secrets)
          assert.ok(!err.message.includes(secret), `${auth.kind}: ${err.message}`);
        assert.ok(!String(err.stack).includes("echo-"), "stack carries the same redacted message");
      }
    });
  });
});
