import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { MagentoClient } from "../../src/magento/client";

/** A shop behind a certificate no public CA signed: what a staging server or an internal CA looks like. */
describe("Magento client over HTTPS with a private certificate", function () {
  let dir: string;
  let server: https.Server;
  let baseUrl: string;
  let cert: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "orderbridge-tls-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
      "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" }); // prettier-ignore
    cert = readFileSync(path.join(dir, "cert.pem"), "utf8");
    server = https.createServer({ key: readFileSync(path.join(dir, "key.pem")), cert }, (req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify([{ id: 1, code: "default", name: "Default Store View", website_id: 1 }]));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (tls?: { rejectUnauthorized?: boolean; ca?: string }) =>
    new MagentoClient({
      baseUrl,
      auth: { kind: "bearer", token: "tls-test-token-0001" },
      tls,
      timeoutMs: 5000,
    });

  it("refuses the server by default, saying the certificate is not trusted", async () => {
    const c = client();
    await assert.rejects(c.storeViews(), (err: Error) => {
      assert.match(err.message, /certificate|TLS|self[- ]signed/i);
      assert.ok(!err.message.includes("tls-test-token-0001"));
      return true;
    });
    c.close();
  });

  it("trusts the server once its CA is configured", async () => {
    const c = client({ ca: cert });
    const views = await c.storeViews();
    assert.equal(views[0].code, "default");
    c.close();
  });

  it("connects without verification only when that is chosen explicitly", async () => {
    const c = client({ rejectUnauthorized: false });
    assert.equal((await c.storeViews()).length, 1);
    c.close();
  });
});
