/**
 * The JWT bearer assertion of the OAuth 2.0 JWT Bearer Flow (RFC 7523), signed RS256 with
 * node:crypto — jsforce does not sign JWTs (reference §6.2), and a hand-rolled RS256 over the
 * platform's own crypto needs no extra dependency.
 * Claims: iss = connected app client id, sub = username, aud = login URL, exp ≤ 3 minutes.
 */
import { createPrivateKey, createSign, type KeyObject } from "node:crypto";

export interface JwtClaims {
  clientId: string;
  username: string;
  /** `https://login.salesforce.com`, `https://test.salesforce.com` or the My Domain / community URL. */
  audience: string;
  /** Lifetime in seconds (Salesforce accepts at most 3 minutes). */
  lifetimeSeconds?: number;
  now?: () => number;
}

const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Parse a PEM private key (PKCS#8 or PKCS#1); the message never echoes the key. */
export function privateKeyOf(pem: string): KeyObject {
  const text = pem.trim().replace(/\\n/g, "\n");
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== "rsa") throw new Error("not an RSA key");
    return key;
  } catch (err) {
    throw new Error(
      `The JWT private key is not a usable RSA private key in PEM format (-----BEGIN PRIVATE KEY----- …): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

export function signJwtAssertion(claims: JwtClaims, key: KeyObject): string {
  const now = Math.floor((claims.now ?? Date.now)() / 1000);
  const payload = {
    iss: claims.clientId,
    sub: claims.username,
    aud: claims.audience.replace(/\/+$/, ""),
    exp: now + Math.min(180, claims.lifetimeSeconds ?? 180),
  };
  const input = `${encode({ alg: "RS256", typ: "JWT" })}.${encode(payload)}`;
  const signature = createSign("RSA-SHA256").update(input).sign(key).toString("base64url");
  return `${input}.${signature}`;
}
