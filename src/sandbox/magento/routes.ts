/**
 * The routes the simulator serves (Sales and Store webapi.xml of 2.4.8, reference §3) and how
 * a request path finds one. `/rest/<code>/V1/...`: like Webapi\Controller\PathProcessor, the
 * first segment is taken as a store code only when it is a store view code or `all`; anything
 * else stays in the path, so an unknown code ends in 404 "Request does not match any route."
 */
import { rawurldecode } from "./query";

export type HttpMethod = "GET" | "POST";

export interface RouteDef<Handler> {
  method: HttpMethod;
  path: string;
  /** ACL resources; empty = anonymous. */
  acl: string[];
  handle: Handler;
}

export type RouteMatch<Handler> =
  | {
      kind: "route";
      route: RouteDef<Handler>;
      key: string;
      params: Record<string, string>;
      storeCode?: string;
    }
  | { kind: "method-not-allowed" }
  | { kind: "none" };

export const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

function segments(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function matchPath(pattern: string, parts: string[]): Record<string, string> | null {
  const wanted = segments(pattern);
  if (wanted.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i].startsWith(":")) params[wanted[i].slice(1)] = parts[i];
    else if (wanted[i] !== parts[i]) return null;
  }
  return params;
}

export function matchRoute<Handler>(
  routes: ReadonlyArray<RouteDef<Handler>>,
  method: string,
  rawPath: string,
  storeCodes: ReadonlySet<string>,
): RouteMatch<Handler> {
  const parts = segments(rawPath).map(rawurldecode);
  if (parts[0] !== "rest") return { kind: "none" };
  let rest = parts.slice(1);
  let storeCode: string | undefined;
  if (rest.length > 0 && (storeCodes.has(rest[0]) || rest[0] === "all")) {
    storeCode = rest[0];
    rest = rest.slice(1);
  }
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, rest);
    if (!params) continue;
    if (route.method === method) return { kind: "route", route, key: routeKey(route), params, storeCode };
    pathMatched = true;
  }
  return pathMatched ? { kind: "method-not-allowed" } : { kind: "none" };
}
