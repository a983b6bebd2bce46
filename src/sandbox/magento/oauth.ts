/**
 * Two-legged OAuth 1.0a verification as Magento 2.4 does it (reference §2.3), with the
 * signature base string of RFC 5849 §3.4.1 and HMAC-SHA256 only.
 *
 * Parsing follows Magento\Framework\Oauth\Helper\Request: the header after a case-insensitive
 * `OAuth ` is split on ',', quotes trimmed, names and values rawurldecoded; query pairs are
 * split on '&' and '=' (a pair that is not exactly name=value is ignored, a repeated name keeps
 * its last value, oauth_* query params are ignored) and urldecoded — the 2.4 source uses
 * `urldecode`, so '+' is a space, as RFC 5849 §3.4.1.3.1 reads form encoding.
 * Checks run in Magento\Framework\Oauth\Oauth's order: version, required params, token
 * length, signature method, consumer, nonce (recorded before the signature is checked),
 * token, signature. Errors are the REST bodies of those exceptions (Oauth\Exception → 401,
 * OauthInputException → 400).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { badRequest, bodies, inputErrors, MagentoHttpError, required } from "./errors";
import { rawurldecode, urldecode } from "./query";

/** RFC 3986 percent-encoding (unreserved characters kept), as OAuth requires. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

const protocolParam = /oauth_[a-z_-]+/;

/** The oauth_* parameters of an Authorization header, or null when it is not an OAuth header. */
export function parseOAuthHeader(header: string | undefined): Record<string, string> | null {
  if (!header) return null;
  const at = header.toLowerCase().indexOf("oauth ");
  if (at < 0) return null;
  const params: Record<string, string> = {};
  for (const part of header.slice(at + 6).split(",")) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf("=");
    if (eq < 0) continue;
    const name = trimmed.slice(0, eq);
    if (!protocolParam.test(name)) continue;
    params[rawurldecode(name)] = rawurldecode(trimmed.slice(eq + 1).replace(/^"+|"+$/g, ""));
  }
  return params;
}

/** Query pairs the way Magento feeds them to the signer (see module comment). */
export function signedQueryParams(rawQuery: string): Record<string, string> {
  const params: Record<string, string> = {};
  if (!rawQuery) return params;
  for (const pair of rawQuery.split("&")) {
    const parts = pair.split("=");
    if (parts.length !== 2 || protocolParam.test(parts[0])) continue;
    params[urldecode(parts[0])] = urldecode(parts[1]);
  }
  return params;
}

/** RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped, path as sent. */
export function baseStringUri(scheme: string, host: string, rawPath: string): string {
  const lower = host.toLowerCase();
  const defaultPort = scheme === "https" ? ":443" : ":80";
  return `${scheme.toLowerCase()}://${lower.endsWith(defaultPort) ? lower.slice(0, -defaultPort.length) : lower}${rawPath}`;
}

/** RFC 5849 §3.4.1: METHOD & enc(base URI) & enc(sorted, encoded name=value pairs). */
export function signatureBaseString(method: string, uri: string, pairs: Array<[string, string]>): string {
  const normalized = pairs
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  return `${method.toUpperCase()}&${rfc3986(uri)}&${rfc3986(normalized)}`;
}

export function hmacSha256Signature(baseString: string, consumerSecret: string, tokenSecret: string): string {
  return createHmac("sha256", `${rfc3986(consumerSecret)}&${rfc3986(tokenSecret)}`)
    .update(baseString)
    .digest("base64");
}

export interface OAuthIntegration {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export interface SignedRequest {
  method: string;
  scheme: string;
  host: string;
  rawPath: string;
  rawQuery: string;
  authorization: string | undefined;
}

/** Magento's key and token length (Helper\Oauth::LENGTH_CONSUMER_KEY / LENGTH_TOKEN). */
const keyLength = 32;
/** Nonce\Generator::TIME_DEVIATION: timestamps more than this ahead are refused. */
const timeDeviationSeconds = 600;
const consumerId = "1";

const unauthorized = (message: string, parameters?: unknown) =>
  new MagentoHttpError(401, parameters === undefined ? { message } : { message, parameters });

export class OAuthVerifier {
  /** Used nonces of the (single) consumer: Magento keys them by (nonce, consumer). */
  private readonly nonces = new Set<string>();

  constructor(private readonly integration: OAuthIntegration) {}

  /**
   * Verifies an OAuth-signed request. Returns false when the request carries no OAuth header;
   * throws Magento's error body when it does and something is wrong.
   */
  verify(req: SignedRequest): boolean {
    const params = parseOAuthHeader(req.authorization);
    if (!params) return false;
    const creds = this.integration;
    if (params.oauth_version !== undefined && params.oauth_version !== "1.0") {
      throw badRequest('The "%1" Oauth version isn\'t supported.', [params.oauth_version]);
    }
    const missing = [
      "oauth_consumer_key",
      "oauth_signature",
      "oauth_signature_method",
      "oauth_nonce",
      "oauth_timestamp",
      "oauth_token",
    ].filter((name) => params[name] === undefined);
    if (missing.length > 0) throw inputErrors(missing.map(required));
    // Real integrations have 32-character keys; lengths are only enforced when the simulator's are.
    const strictLengths = creds.consumerKey.length === keyLength && creds.accessToken.length === keyLength;
    if (strictLengths && params.oauth_token.length !== keyLength) {
      throw badRequest("The token length is invalid. Check the length and try again.");
    }
    if (params.oauth_signature_method !== "HMAC-SHA256") {
      throw badRequest("Signature method %1 is not supported", [params.oauth_signature_method]);
    }
    if (strictLengths && params.oauth_consumer_key.length !== keyLength) {
      throw unauthorized("Consumer key is not the correct length");
    }
    if (params.oauth_consumer_key !== creds.consumerKey) {
      throw unauthorized("A consumer having the specified key does not exist");
    }
    const timestamp = Math.trunc(Number(params.oauth_timestamp)) || 0;
    if (timestamp <= 0 || timestamp > Date.now() / 1000 + timeDeviationSeconds) {
      throw badRequest("Incorrect timestamp value in the oauth_timestamp parameter");
    }
    if (this.nonces.has(params.oauth_nonce)) {
      throw unauthorized("The nonce is already being used by the consumer with ID %1", [consumerId]);
    }
    this.nonces.add(params.oauth_nonce);
    if (params.oauth_token !== creds.accessToken) throw unauthorized("Specified token does not exist");

    const pairs: Array<[string, string]> = Object.entries(params).filter(([k]) => k !== "oauth_signature");
    pairs.push(...Object.entries(signedQueryParams(req.rawQuery)));
    const base = signatureBaseString(req.method, baseStringUri(req.scheme, req.host, req.rawPath), pairs);
    const expected = Buffer.from(hmacSha256Signature(base, creds.consumerSecret, creds.accessTokenSecret));
    const given = Buffer.from(params.oauth_signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new MagentoHttpError(401, bodies.oauthBadSignature);
    }
    return true;
  }
}
