import { createHmac } from "node:crypto";
import OAuth from "oauth-1.0a";
import { forgetSecret, registerSecret } from "../sync/secrets";

/** The three ways Magento 2.4 lets an unattended client in (reference §2). */
export type MagentoAuth =
  /** Integration access token sent as Bearer (needs the "standalone Bearer" flag since 2.4.4). */
  | { kind: "bearer"; token: string }
  /** Two-legged OAuth 1.0a with the integration's four credentials, HMAC-SHA256. */
  | {
      kind: "oauth1";
      consumerKey: string;
      consumerSecret: string;
      accessToken: string;
      accessTokenSecret: string;
    }
  /** Admin username/password exchanged for a 4-hour token; refused when 2FA is on. */
  | { kind: "admin"; username: string; password: string; tokenTtlMs?: number };

export type MagentoAuthKind = MagentoAuth["kind"];

/** Make every credential the client holds unprintable (see sync/secrets.ts). */
export function registerAuthSecrets(auth: MagentoAuth): void {
  switch (auth.kind) {
    case "bearer":
      registerSecret(auth.token);
      break;
    case "oauth1":
      registerSecret(auth.consumerKey);
      registerSecret(auth.consumerSecret);
      registerSecret(auth.accessToken);
      registerSecret(auth.accessTokenSecret);
      break;
    case "admin":
      registerSecret(auth.password);
      break;
  }
}

/** RFC 3986 unreserved set only — what OAuth 1.0a (RFC 5849 §3.6) and PHP `rawurlencode` produce. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The query pairs of a URL, decoded (the server `rawurldecode`s them before signing,
 * reference §2.3). `+` is left alone: this client never sends form-encoded spaces.
 */
export function queryPairs(url: string): Array<[string, string]> {
  const at = url.indexOf("?");
  if (at < 0) return [];
  const query = url.slice(at + 1).split("#")[0];
  if (query === "") return [];
  return query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? "" : pair.slice(eq + 1);
    return [decodeURIComponent(key), decodeURIComponent(value)];
  });
}

/** RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped, no query or fragment. */
export function oauthBaseUri(url: string): string {
  const u = new URL(url); // WHATWG URL already lower-cases scheme and host and drops default ports
  return `${u.protocol}//${u.host}${u.pathname}`;
}

export interface OAuthSigning {
  /** `OAuth oauth_consumer_key="…",…,oauth_signature="…"` (comma-separated, values percent-encoded). */
  authorization: string;
  baseString: string;
  signature: string;
}

function hmacSha256(baseString: string, key: string): string {
  return createHmac("sha256", key).update(baseString).digest("base64");
}

/**
 * Sign one request. `url` must be exactly the URL that will be sent, query included:
 * its query pairs are decoded and re-encoded RFC 3986 for the base string, the way
 * Magento checks them. Bodies are JSON, so they are not part of the signature
 * (RFC 5849 §3.4.1.3.1 only covers form-encoded bodies).
 * `fixed` pins nonce and timestamp for known-answer tests.
 */
export function signOAuth1(
  creds: Extract<MagentoAuth, { kind: "oauth1" }>,
  method: string,
  url: string,
  fixed: { nonce?: string; timestamp?: number } = {},
): OAuthSigning {
  const oauth = new OAuth({
    consumer: { key: creds.consumerKey, secret: creds.consumerSecret },
    signature_method: "HMAC-SHA256",
    hash_function: hmacSha256,
    parameter_seperator: ",",
    nonce_length: 32,
  });
  // oauth-1.0a would split the URL itself but leaves keys encoded, which double-encodes
  // our `%5B…%5D` brackets; hand it the base URI and the decoded pairs instead.
  const data: Record<string, string> = {};
  for (const [key, value] of queryPairs(url)) data[key] = value;
  const request = { url: oauthBaseUri(url), method: method.toUpperCase(), data };
  const oauthData: OAuth.Data = {
    oauth_consumer_key: creds.consumerKey,
    oauth_nonce: fixed.nonce ?? oauth.getNonce(),
    oauth_signature_method: "HMAC-SHA256",
    oauth_timestamp: fixed.timestamp ?? oauth.getTimeStamp(),
    oauth_version: "1.0",
    oauth_token: creds.accessToken,
  };
  // getBaseString merges into request.data; hand it copies so the signature sees the same input.
  const baseString = oauth.getBaseString({ ...request, data: { ...data } }, { ...oauthData });
  const signature = oauth.getSignature({ ...request, data: { ...data } }, creds.accessTokenSecret, {
    ...oauthData,
  });
  const { Authorization } = oauth.toHeader({ ...oauthData, oauth_signature: signature });
  return { authorization: Authorization, baseString, signature };
}

/** Default admin token lifetime in Magento 2.4 (Stores › Configuration › Services › OAuth). */
export const adminTokenTtlMs = 4 * 60 * 60 * 1000;
/** Renew this long before the token would expire, so a long page never straddles the edge. */
const renewMarginMs = 10 * 60 * 1000;

/**
 * Holds the admin token: obtains it lazily, shares one login between concurrent
 * requests, renews it before the 4-hour expiry and when Magento answers 401.
 */
export class AdminTokenSession {
  private token: string | undefined;
  private obtainedAt = 0;
  private pending: Promise<string> | undefined;
  private readonly ttlMs: number;

  constructor(
    private readonly login: () => Promise<string>,
    ttlMs: number = adminTokenTtlMs,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = ttlMs;
  }

  /** A token that is not about to expire; logs in when needed. */
  async current(): Promise<string> {
    const margin = Math.min(renewMarginMs, this.ttlMs / 10);
    if (this.token && this.now() - this.obtainedAt < this.ttlMs - margin) return this.token;
    return this.renew();
  }

  /** Log in again (once, however many callers ask at the same time). */
  renew(): Promise<string> {
    if (!this.pending) {
      this.pending = this.login()
        .then((token) => {
          registerSecret(token);
          if (this.token && this.token !== token) forgetSecret(this.token);
          this.token = token;
          this.obtainedAt = this.now();
          return token;
        })
        .finally(() => {
          this.pending = undefined;
        });
    }
    return this.pending;
  }

  /** Drop a token Magento refused, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.token === token) this.token = undefined;
  }

  get cachedToken(): string | undefined {
    return this.token;
  }
}
