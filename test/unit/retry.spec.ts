import assert from "node:assert/strict";
import http from "node:http";
import axios, { type AxiosError } from "axios";
import {
  applyRetry,
  defaultRetryPolicy,
  isRetryableError,
  parseRetryAfter,
  retryDelayMs,
  type RetryEvent,
  type RetryPolicy,
} from "../../src/sync/retry";
import { sendJson, startStub, type StubServer } from "./magento-fixtures";

const fast: RetryPolicy = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

function client(policy: RetryPolicy = fast, events: RetryEvent[] = []) {
  const instance = axios.create({
    timeout: 2000,
    httpAgent: new http.Agent({ keepAlive: false }),
  });
  applyRetry(instance, policy, { onRetry: (e) => events.push(e) });
  return instance;
}

describe("retry policy (sync/retry.ts)", () => {
  let stub: StubServer | undefined;
  afterEach(async () => {
    await stub?.stop();
    stub = undefined;
  });

  it("retries a 503 and returns the later 200", async () => {
    let calls = 0;
    stub = await startStub((_req, res) =>
      ++calls === 1 ? sendJson(res, 503, { message: "busy" }) : sendJson(res, 200, { ok: 1 }),
    );
    const events: RetryEvent[] = [];
    const res = await client(fast, events).get(`${stub.url}/x`);
    assert.deepEqual(res.data, { ok: 1 });
    assert.equal(calls, 2);
    assert.equal(events.length, 1);
    assert.equal(events[0].reason, "HTTP 503");
    assert.ok(events[0].delayMs <= fast.baseDelayMs);
  });

  it("waits at least the Retry-After of a 429 before trying again", async () => {
    stub = await startStub((req, res) =>
      stub!.requests.length === 1
        ? sendJson(res, 429, { message: "slow down" }, { "Retry-After": "1" })
        : sendJson(res, 200, [req.url]),
    );
    const events: RetryEvent[] = [];
    await client(fast, events).get(`${stub.url}/limited`);
    const [first, second] = stub.requests;
    assert.ok(second.at - first.at >= 1000, `waited only ${second.at - first.at} ms`);
    assert.equal(events[0].retryAfterMs, 1000);
    assert.equal(events[0].delayMs, 1000);
  });

  it("reads Retry-After as seconds or as an HTTP date, and ignores garbage", () => {
    const now = Date.parse("2024-05-01T10:00:00Z");
    assert.equal(parseRetryAfter("3", now), 3000);
    assert.equal(parseRetryAfter(["2"], now), 2000);
    assert.equal(parseRetryAfter("Wed, 01 May 2024 10:00:07 GMT", now), 7000);
    assert.equal(parseRetryAfter("Wed, 01 May 2024 09:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it("uses full jitter under a capped exponential ceiling and lets a longer Retry-After win, capped", () => {
    const policy: RetryPolicy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      retryDelayMs(1, policy, undefined, () => 0.999),
      99,
    );
    assert.equal(
      retryDelayMs(3, policy, undefined, () => 0.5),
      200,
    );
    assert.equal(
      retryDelayMs(9, policy, undefined, () => 0.999),
      999,
    ); // capped at maxDelayMs
    assert.equal(
      retryDelayMs(1, policy, undefined, () => 0),
      0,
    );
    assert.equal(
      retryDelayMs(1, policy, 5000, () => 0.5),
      5000,
    );
    assert.equal(
      retryDelayMs(1, policy, 10 * 60_000, () => 0.5, 60_000),
      60_000,
    );
  });

  it("does not retry a 400 (or any other 4xx but 429)", async () => {
    stub = await startStub((_req, res) => sendJson(res, 400, { message: "bad" }));
    await assert.rejects(client().get(`${stub.url}/bad`), (err: AxiosError) => err.response?.status === 400);
    assert.equal(stub.requests.length, 1);
  });

  it("stops after the configured number of attempts", async () => {
    stub = await startStub((_req, res) => sendJson(res, 500, { message: "boom" }));
    await assert.rejects(client().get(`${stub.url}/down`), (err: AxiosError) => err.response?.status === 500);
    assert.equal(stub.requests.length, fast.attempts);
  });

  it("retries a connection reset, for writes too", async () => {
    stub = await startStub((_req, res, destroy) =>
      stub!.requests.length === 1 ? destroy() : sendJson(res, 200, true),
    );
    const events: RetryEvent[] = [];
    const res = await client(fast, events).post(`${stub.url}/V1/orders/1/comments`, { a: 1 });
    assert.equal(res.data, true);
    assert.equal(stub.requests.length, 2);
    assert.equal(stub.requests[1].body, JSON.stringify({ a: 1 }));
    assert.equal(events[0].reason, "ECONNRESET");
    assert.equal(events[0].method, "POST");
  });

  it("retries a request that timed out", async () => {
    // The first request is never answered; the timeout is far above a local answer on a busy machine.
    stub = await startStub((_req, res) => {
      if (stub!.requests.length > 1) sendJson(res, 200, "on time");
    });
    const instance = axios.create({ timeout: 1_000, transitional: { clarifyTimeoutError: true } });
    const events: RetryEvent[] = [];
    applyRetry(instance, fast, { onRetry: (e) => events.push(e) });
    const res = await instance.get(`${stub.url}/slow`);
    assert.equal(res.data, "on time");
    assert.deepEqual(
      events.map((e) => e.reason),
      ["ETIMEDOUT"],
    );
  });

  it("never retries a request the caller aborted", async () => {
    const ctl = new AbortController();
    // Abort once the server has the request (a fixed delay races the request on a busy machine).
    stub = await startStub((_req, res) => {
      ctl.abort();
      setTimeout(() => sendJson(res, 503, {}), 50);
    });
    const events: RetryEvent[] = [];
    const pending = client(fast, events).get(`${stub.url}/x`, { signal: ctl.signal });
    await assert.rejects(pending, (err: AxiosError) => err.code === "ERR_CANCELED");
    // A retry would have been decided (and reported) before the rejection.
    assert.deepEqual(events, []);
    assert.equal(stub.requests.length, 1);
  });

  it("classifies errors: network and 429/5xx yes, other statuses and cancels no", () => {
    const mk = (over: Partial<AxiosError>) => ({ config: {}, ...over }) as AxiosError;
    assert.equal(isRetryableError(mk({ code: "ECONNRESET" })), true);
    assert.equal(isRetryableError(mk({ code: "ETIMEDOUT" })), true);
    assert.equal(isRetryableError(mk({ code: "ECONNABORTED" })), true);
    assert.equal(isRetryableError(mk({ code: "ERR_CANCELED" })), false);
    assert.equal(isRetryableError(mk({ code: "DEPTH_ZERO_SELF_SIGNED_CERT" })), false);
    assert.equal(isRetryableError(mk({ response: { status: 429 } as never })), true);
    assert.equal(isRetryableError(mk({ response: { status: 502 } as never })), true);
    assert.equal(isRetryableError(mk({ response: { status: 401 } as never })), false);
    assert.equal(isRetryableError(mk({ response: { status: 404 } as never })), false);
  });

  it("has a bounded default policy", () => {
    assert.ok(defaultRetryPolicy.attempts >= 2 && defaultRetryPolicy.attempts <= 10);
    assert.ok(defaultRetryPolicy.maxDelayMs <= 60_000);
  });
});
