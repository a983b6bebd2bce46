/**
 * Which REQUEST_LIMIT_EXCEEDED stops a run: only the daily budget (src/salesforce/errors.ts and
 * the "Request limits" section of src/salesforce/README.md).
 */
import assert from "node:assert/strict";
import { describeError, failureKind, readError } from "../../src/salesforce/errors";
import { SubrequestError } from "../../src/salesforce/soql";

/** A 403 as jsforce throws it (HttpApiError: name and errorCode are Salesforce's errorCode). */
function refused(message: string): Error {
  return Object.assign(new Error(message), {
    name: "REQUEST_LIMIT_EXCEEDED",
    errorCode: "REQUEST_LIMIT_EXCEEDED",
  });
}

describe("Salesforce request limits (salesforce/errors.ts)", () => {
  it("takes only TotalRequests for the daily limit, in a plain answer and in a composite subrequest", () => {
    assert.equal(failureKind(refused("TotalRequests Limit exceeded.")), "limit");
    assert.equal(
      failureKind(new SubrequestError("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")),
      "limit",
    );
  });

  it("retries the concurrent limits, another limit's message and an empty one", () => {
    for (const message of [
      "ConcurrentPerOrgLongTxn Limit exceeded.",
      "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
      "Some future limit exceeded.",
      "",
    ])
      assert.equal(failureKind(refused(message)), "transient", JSON.stringify(message));
  });

  it("a read refused by a concurrent limit stays retryable; by the daily limit it stays a stop", () => {
    const concurrent = readError(refused("ConcurrentPerOrgLongTxn Limit exceeded."), "lookup of products");
    assert.equal(concurrent.kind, "transient");
    assert.equal(concurrent.code, "REQUEST_LIMIT_EXCEEDED");
    assert.equal(readError(refused("TotalRequests Limit exceeded."), "lookup of products").kind, "limit");
  });
});

/** A network failure as jsforce (undici's fetch) throws it: TypeError "fetch failed", the socket error as cause. */
function fetchFailed(cause: Error & { code?: string }): Error {
  return new TypeError("fetch failed", { cause });
}

describe("Salesforce network failures through undici (salesforce/errors.ts)", () => {
  const dropped = () =>
    Object.assign(new Error("other side closed"), { name: "SocketError", code: "UND_ERR_SOCKET" });
  const refusedConnection = () =>
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });

  it("a dropped, refused or timed-out connection is transient, also as the cause's cause", () => {
    assert.equal(failureKind(fetchFailed(dropped())), "transient");
    assert.equal(failureKind(fetchFailed(refusedConnection())), "transient");
    const timeout = Object.assign(new Error("Headers Timeout Error"), { code: "UND_ERR_HEADERS_TIMEOUT" });
    assert.equal(failureKind(fetchFailed(timeout)), "transient");
    assert.equal(
      failureKind(fetchFailed(Object.assign(new Error("outer"), { cause: dropped() }))),
      "transient",
    );
    assert.equal(
      failureKind(new TypeError("Cannot read properties of undefined (reading 'records')")),
      "other",
    );
  });

  it("says what failed instead of undici's bare 'fetch failed'", () => {
    assert.equal(describeError(fetchFailed(dropped())), "fetch failed: other side closed (UND_ERR_SOCKET)");
    assert.equal(
      describeError(fetchFailed(refusedConnection())),
      "fetch failed: connect ECONNREFUSED 127.0.0.1:9",
    );
    const read = readError(fetchFailed(dropped()), "lookup of products");
    assert.match(read.message, /lookup of products failed: fetch failed: other side closed/);
    const garbled = readError(new TypeError("Cannot read properties of undefined"), "lookup of products");
    assert.match(garbled.message, /not a Salesforce API answer/);
  });
});
