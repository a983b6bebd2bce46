import assert from "node:assert/strict";
import {
  MagentoError,
  describeErrorBody,
  fromRequestError,
  substitutePlaceholders,
} from "../../src/magento/errors";
import { registerSecret } from "../../src/sync/secrets";
import { loadFixture } from "./magento-fixtures";

type Bodies = Record<string, { message: string; parameters?: unknown }>;

/** An axios-shaped failure with a response, as the client sees it. */
function httpFailure(status: number, data: unknown, headers: Record<string, unknown> = {}) {
  return {
    isAxiosError: true,
    code: "ERR_BAD_REQUEST",
    message: "x",
    response: { status, statusText: "", data, headers },
  };
}

describe("Magento errors (magento/errors.ts)", () => {
  const bodies = loadFixture<Bodies>("magento-error-bodies.json");

  describe("placeholders", () => {
    it("fills %name from an object and %1 from an array", () => {
      assert.equal(
        substitutePlaceholders("Access to %resources denied", { resources: "A::b" }),
        "Access to A::b denied",
      );
      assert.equal(
        substitutePlaceholders("Signature method %1 is not supported", ["HMAC-SHA1"]),
        "Signature method HMAC-SHA1 is not supported",
      );
      assert.equal(substitutePlaceholders("%1 and %2, %1 again", ["a", "b"]), "a and b, a again");
    });

    it("leaves unknown placeholders and joins list values", () => {
      assert.equal(substitutePlaceholders("%missing stays", { other: 1 }), "%missing stays");
      assert.equal(
        substitutePlaceholders("use %active_providers", { active_providers: ["google", "duo"] }),
        "use google, duo",
      );
      assert.equal(substitutePlaceholders("no params %1", undefined), "no params %1");
    });

    it("reads every error body of the fixture into a substituted sentence", () => {
      assert.equal(
        describeErrorBody(bodies["401_acl"]),
        "The consumer isn't authorized to access Magento_Sales::actions_view.",
      );
      assert.equal(
        describeErrorBody(bodies["400_missing_searchCriteria"]),
        '"searchCriteria" is required. Enter and try again.',
      );
      assert.equal(
        describeErrorBody(JSON.stringify(bodies["404_no_such_order"])),
        bodies["404_no_such_order"].message,
      );
      for (const [key, body] of Object.entries(bodies)) {
        if (key.startsWith("_")) continue;
        const text = describeErrorBody(body);
        assert.ok(text && !/%[A-Za-z_]/.test(text), `${key}: ${text}`);
      }
    });
  });

  describe("odd bodies", () => {
    it("lists the entries of an errors[] body", () => {
      const text = describeErrorBody({
        message: "One or more input exceptions have occurred.",
        errors: [
          { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName: "email" } },
          { message: "Invalid value of %1 provided for the %2 field.", parameters: ["abc", "qty"] },
        ],
      });
      assert.equal(
        text,
        'One or more input exceptions have occurred: "email" is required. Enter and try again.; Invalid value of abc provided for the qty field.',
      );
    });

    it("names an HTML page instead of crashing on it", () => {
      const html =
        "<!doctype html><html><head><title>503 Service Unavailable</title></head><body><h1>Maintenance</h1></body></html>";
      const text = describeErrorBody(html) ?? "";
      assert.match(text, /HTML page instead of JSON/);
      assert.match(text, /503 Service Unavailable/);
    });

    it("says so for invalid or truncated JSON, with a short excerpt", () => {
      assert.match(
        describeErrorBody('{"message":"The entity that was requ') ?? "",
        /not valid JSON.*The entity that was requ/,
      );
      assert.match(describeErrorBody("x".repeat(1000)) ?? "", /…"$/);
      assert.equal(describeErrorBody(""), undefined);
      assert.equal(describeErrorBody(Buffer.from('{"message":"bytes"}')), "bytes");
      assert.match(describeErrorBody([1, 2]) ?? "", /unexpected answer/);
      assert.equal(describeErrorBody('"bare string"'), "bare string");
    });
  });

  describe("MagentoError", () => {
    it("carries status, code, call and the substituted server message", () => {
      const err = fromRequestError(httpFailure(401, JSON.stringify(bodies["401_acl"])), "GET /V1/orders");
      assert.ok(err instanceof MagentoError);
      assert.equal(err.status, 401);
      assert.equal(err.code, "http_401");
      assert.equal(err.call, "GET /V1/orders");
      assert.equal(err.serverMessage, "The consumer isn't authorized to access Magento_Sales::actions_view.");
      assert.match(
        err.message,
        /^Magento GET \/V1\/orders failed \(HTTP 401\): The consumer isn't authorized/,
      );
      assert.match(err.message, /standalone Bearer tokens/);
    });

    it("turns the 2FA refusal into advice to use an integration", () => {
      const err = fromRequestError(
        httpFailure(401, bodies["401_tfa_enabled_admin_token"]),
        "POST /V1/integration/admin/token",
      );
      assert.match(err.message, /two-factor authentication is enabled/i);
      assert.match(err.message, /integration/);
      assert.match(err.message, /bearer|OAuth/);
    });

    it("reads network failures and timeouts", () => {
      assert.equal(
        fromRequestError(
          { code: "ECONNREFUSED", message: "connect ECONNREFUSED 127.0.0.1:9" },
          "GET /V1/orders",
        ).code,
        "network",
      );
      assert.equal(
        fromRequestError({ code: "ETIMEDOUT", message: "timeout" }, "GET /V1/orders").code,
        "timeout",
      );
      assert.equal(
        fromRequestError({ code: "ERR_CANCELED", name: "CanceledError" }, "GET /V1/orders").code,
        "aborted",
      );
      const tls = fromRequestError(
        { code: "DEPTH_ZERO_SELF_SIGNED_CERT", message: "self-signed certificate" },
        "GET /V1/orders",
      );
      assert.match(tls.message, /TLS certificate/);
    });

    it("says a 429 is rate limiting, with the retries made, even when a proxy sent an HTML page", () => {
      const page = "<html><head><title>429 Too Many Requests</title></head><body>nginx</body></html>";
      const err = fromRequestError(
        { ...httpFailure(429, page, { "retry-after": "30" }), config: { "axios-retry": { retryCount: 4 } } },
        "GET /V1/orders",
      );
      assert.equal(err.code, "http_429");
      assert.equal(err.transient, true);
      assert.match(
        err.message,
        /^Magento GET \/V1\/orders failed \(HTTP 429\): Magento is rate-limiting this client \(Too Many Requests\); the request was retried 4 times honouring its Retry-After header\. Lower the pace .* or raise the shop's rate limit/,
      );
      assert.doesNotMatch(err.message, /maintenance|base URL|proxy/);
    });

    it("keeps other statuses' messages: an HTML 503 still points at the base URL, a proxy or maintenance", () => {
      const page = "<html><head><title>503 Service Unavailable</title></head></html>";
      const err = fromRequestError(httpFailure(503, page), "GET /V1/orders");
      assert.match(
        err.message,
        /HTML page instead of JSON \("503 Service Unavailable"\) — check the base URL/,
      );
      assert.doesNotMatch(err.message, /rate-limiting/);
    });

    it("tells a redirect apart and advises the final URL", () => {
      const err = fromRequestError(
        httpFailure(301, "", { location: "https://shop.example.com/rest/default/V1/orders?x=1" }),
        "GET /V1/orders",
      );
      assert.match(err.message, /redirects to https:\/\/shop\.example\.com\/rest\/default\/V1\/orders/);
      assert.doesNotMatch(err.message, /x=1/);
    });

    it("redacts registered secrets even when the server echoes them", () => {
      registerSecret("s3cr3t-token-value");
      const err = fromRequestError(
        httpFailure(500, { message: "bad token %1", parameters: ["s3cr3t-token-value"] }),
        "GET /V1/orders",
      );
      assert.doesNotMatch(err.message, /s3cr3t-token-value/);
      assert.doesNotMatch(err.serverMessage ?? "", /s3cr3t-token-value/);
    });

    it("converts to the per-order SyncError shape", () => {
      const err = new MagentoError({
        code: "http_404",
        call: "GET /V1/orders/9",
        status: 404,
        serverMessage: "gone",
      });
      assert.deepEqual(err.toSyncError("entity_id"), {
        code: "http_404",
        message: err.message,
        field: "entity_id",
      });
      assert.equal(err.transient, false);
      assert.equal(
        new MagentoError({ code: "http_503", call: "GET /V1/orders", status: 503 }).transient,
        true,
      );
    });
  });
});
