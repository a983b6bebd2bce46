/**
 * Which REQUEST_LIMIT_EXCEEDED stops a run: only the daily budget (src/salesforce/errors.ts and
 * the "Request limits" section of src/salesforce/README.md).
 */
import assert from "node:assert/strict";
import { failureKind, readError } from "../../src/salesforce/errors";
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
