/**
 * The trytond 6.0 request pipeline without the HTTP server: routes, envelope, sessions,
 * login, method dispatch, transactions and the post-commit task queue
 * (trytond/protocols/{dispatcher,jsonrpc,wrappers}.py, trytond/security.py).
 */
import { randomBytes } from "node:crypto";

import { Dec } from "./decimal";
import {
  HttpFault,
  htmlEscape,
  htmlPage,
  keyError,
  LoginException,
  PythonError,
  RpcFault,
  UserError,
} from "./errors";
import { baseModels } from "./models/base";
import { invoiceModels, payInvoices } from "./models/invoice";
import { partyModels } from "./models/party";
import { productModels } from "./models/product";
import { saleModels } from "./models/sale";
import { stockModels } from "./models/stock";
import { Env, pyType, type Registry, type SimUser } from "./orm";
import { buildRegistry } from "./registry";
import { applySeries, SERIES_PROFILES, seriesProfile, type SeriesProfile, type TrytonSeries } from "./series";
import { seedFixtures, seedModules, type TrytonFixtures } from "./seed";
import { Store, type Row } from "./store";
import { BadJsonValue, decodeParams, encodeResult, PyDate, PyDateTime } from "./values";
import { WizardSessions, WIZARDS } from "./wizards";

/** The 6.0 version string (the default series); `TrytonSim.profile.version` is the running one. */
export const SERVER_VERSION = SERIES_PROFILES["6.0"].version;
const MAX_LOGIN_ATTEMPTS = 5;
/** scripts/tryton-fixtures.ts gives the group-less user this password. */
const CLERK_PASSWORD = "Kq7-Vx2!mZp9#Lt4";

export interface SimulatorOptions {
  database: string;
  username: string;
  password: string;
  /** Session lifetime from login (trytond `[session] max_age`, default 30 days; the lab uses 1 day). */
  sessionTtlMs: number;
  /** Receives failures of post-commit tasks (trytond logs them as `CRITICAL trytond.worker`). */
  log?: (line: string) => void;
  /** The clock; every call sees one `now` (one transaction, one CURRENT_TIMESTAMP). */
  now?: () => Date;
  /** The trytond series to imitate (default 6.0; series.ts holds the differences). */
  series?: TrytonSeries;
  /**
   * `[queue] worker = True`: queued tasks (`sale.process` after `confirm`, after shipments and
   * invoices change) run `workerDelayMs` after the request, outside it, like trytond-worker.
   */
  worker?: boolean;
  workerDelayMs?: number;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Task = (env: Env) => void;

interface Session {
  userId: number;
  login: string;
  createdMs: number;
}

const STANDARD_METHODS = [
  "default_get",
  "fields_get",
  "create",
  "read",
  "write",
  "delete",
  "copy",
  "search",
  "search_count",
  "search_read",
];

export class TrytonSim {
  readonly store = new Store();
  readonly registry: Registry;
  readonly fixtures: TrytonFixtures;
  readonly counters: Record<string, number> = {};
  readonly taskErrors: string[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly wizards = new WizardSessions();
  private readonly failedLogins = new Map<string, number>();
  private lastMicros = 0n;
  readonly profile: SeriesProfile;
  private readonly workerTimers = new Set<NodeJS.Timeout>();
  private idleWaiters: Array<() => void> = [];

  constructor(readonly opts: SimulatorOptions) {
    this.profile = seriesProfile(opts.series);
    this.registry = applySeries(
      buildRegistry([
        ...baseModels,
        ...partyModels,
        ...productModels,
        ...saleModels,
        ...stockModels,
        ...invoiceModels,
      ]),
      this.profile,
    );
    const root: SimUser = { id: 0, login: "root", name: "Root", groups: [1], companies: [], company: null };
    const seed = {
      database: opts.database,
      username: opts.username,
      password: opts.password,
      clerkPassword: CLERK_PASSWORD,
      year: (opts.now?.() ?? new Date()).getUTCFullYear(),
    };
    this.fixtures = this.store.transaction(() => {
      const env = this.env(root, {});
      seedModules(env, seed);
      return seedFixtures(env, seed);
    });
  }

  /** Every session becomes invalid: the next authenticated call gets HTTP 401. */
  expireSessions(): void {
    this.sessions.clear();
  }

  resetCounters(): void {
    for (const key of Object.keys(this.counters)) delete this.counters[key];
  }

  // ---- request pipeline ------------------------------------------------------------

  /** One HTTP request. `path` is the URL path, `headers` lower-cased. */
  handle(method: string, path: string, headers: Record<string, string | undefined>, rawBody: string): Reply {
    if (method === "OPTIONS") return { status: 204, headers: {}, body: "" };
    const route = this.route(path);
    if (!route) return html(404);
    if (method !== "POST") return html(405);
    if (!(headers["content-type"] ?? "").includes("json")) return html(500);
    let parsed: unknown;
    try {
      parsed = decodeParams(JSON.parse(rawBody));
    } catch (err) {
      if (err instanceof BadJsonValue) return html(400, "Unable to read JSON request");
      return html(500, "Value after * must be an iterable, not NoneType");
    }
    const envelope =
      parsed && typeof parsed === "object" && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : {};
    const keys = Object.keys(envelope).sort().join(",");
    const jsonRpc = keys === "id,method,params";
    const rpcMethod = typeof envelope.method === "string" ? envelope.method : "";
    const params = Array.isArray(envelope.params) ? (envelope.params as unknown[]) : undefined;
    if (rpcMethod) this.counters[rpcMethod] = (this.counters[rpcMethod] ?? 0) + 1;
    try {
      const result =
        route.database === undefined
          ? this.root(rpcMethod, params)
          : this.database(route.database, rpcMethod, params ?? [], headers);
      return respond(jsonRpc, envelope.id, { result });
    } catch (err) {
      if (err instanceof HttpFault) {
        return { status: err.status, headers: err.headers, body: err.body ?? "" };
      }
      if (err instanceof RpcFault) return respond(jsonRpc, envelope.id, { fault: err });
      const message = err instanceof Error ? err.message : String(err);
      return respond(jsonRpc, envelope.id, { fault: new PythonError(message) });
    }
  }

  private route(path: string): { database?: string } | undefined {
    const clean = path.split("?")[0]!;
    if (clean === "/") return {};
    const m = /^\/([^/]+)\/$/.exec(clean);
    return m ? { database: decodeURIComponent(m[1]!) } : undefined;
  }

  /** `POST /`: common.server.version, common.db.list (no authentication). */
  private root(method: string, params: unknown[] | undefined): unknown {
    if (params === undefined)
      throw new HttpFault(500, { "Content-Type": "text/html; charset=utf-8" }, htmlPage(500));
    if (method === "common.server.version") return this.profile.version;
    if (method === "common.db.list") return [this.opts.database];
    throw new HttpFault(500, { "Content-Type": "text/html; charset=utf-8" }, htmlPage(500));
  }

  private database(
    db: string,
    method: string,
    params: unknown[],
    headers: Record<string, string | undefined>,
  ): unknown {
    if (method === "common.db.login") return this.login(db, params);
    const user = this.authenticate(db, headers);
    if (method === "common.db.logout") {
      const session = parseSession(headers.authorization);
      if (session) this.sessions.delete(session.key);
      return null;
    }
    if (method === "system.listMethods") return this.listMethods();
    if (method === "system.methodHelp") return "";
    return this.dispatch(user, method, params);
  }

  // ---- login and sessions ----------------------------------------------------------

  private login(db: string, params: unknown[]): unknown {
    const [login, parameters] = params as [unknown, unknown];
    if (db !== this.opts.database)
      throw new PythonError(`Database '/var/lib/trytond/${db}.sqlite' doesn't exist!`);
    if (!parameters || typeof parameters !== "object" || Array.isArray(parameters)) {
      throw new PythonError(`'${pyType(parameters)}' object has no attribute 'get'`);
    }
    const name = String(login);
    if ((this.failedLogins.get(name) ?? 0) > MAX_LOGIN_ATTEMPTS) throw tooManyRequests();
    const password = (parameters as Record<string, unknown>).password;
    if (password === undefined) throw new LoginException("password", `Password for ${name}`, "password");
    const user = this.checkPassword(name, password);
    if (!user) {
      this.failedLogins.set(name, (this.failedLogins.get(name) ?? 0) + 1);
      throw new HttpFault(401, { "Content-Type": "text/html; charset=utf-8" }, htmlPage(401));
    }
    this.failedLogins.delete(name);
    const key = randomBytes(32).toString("hex");
    this.sessions.set(key, { userId: user.id, login: name, createdMs: Date.now() });
    return [user.id, key];
  }

  private checkPassword(login: string, password: unknown): Row | undefined {
    for (const row of this.store.table("res.user").values()) {
      if (row.login === login && row.active !== false) {
        return typeof password === "string" && row.password_hash === password ? row : undefined;
      }
    }
    return undefined;
  }

  /** `Session base64(login:user_id:key)` or `Basic base64(login:password)`; anything else → 401. */
  private authenticate(db: string, headers: Record<string, string | undefined>): SimUser {
    const unauthorized = (): HttpFault =>
      new HttpFault(
        401,
        headers["x-requested-with"] === "XMLHttpRequest"
          ? { "Content-Type": "text/plain; charset=utf-8" }
          : { "Content-Type": "text/plain; charset=utf-8", "WWW-Authenticate": 'Basic realm="Tryton"' },
        "",
      );
    if (db !== this.opts.database) throw unauthorized();
    const auth = headers.authorization ?? "";
    const session = parseSession(auth);
    if (session) {
      const found = this.sessions.get(session.key);
      if (!found || found.userId !== session.userId) throw unauthorized();
      if (Date.now() - found.createdMs > this.opts.sessionTtlMs) {
        this.sessions.delete(session.key);
        throw unauthorized();
      }
      return this.user(found.userId);
    }
    const basic = /^Basic\s+(.+)$/i.exec(auth);
    if (basic) {
      const text = Buffer.from(basic[1]!, "base64").toString("utf8");
      const colon = text.indexOf(":");
      const login = text.slice(0, colon);
      if ((this.failedLogins.get(login) ?? 0) > MAX_LOGIN_ATTEMPTS) throw tooManyRequests();
      const row = colon > 0 ? this.checkPassword(login, text.slice(colon + 1)) : undefined;
      if (!row) {
        this.failedLogins.set(login, (this.failedLogins.get(login) ?? 0) + 1);
        throw unauthorized();
      }
      return this.user(row.id);
    }
    throw unauthorized();
  }

  user(id: number): SimUser {
    const row = this.store.get("res.user", id);
    if (!row) throw new HttpFault(401, { "Content-Type": "text/plain; charset=utf-8" }, "");
    return {
      id,
      login: String(row.login),
      name: String(row.name ?? ""),
      groups: (row.groups as number[]) ?? [],
      companies: (row.companies as number[]) ?? [],
      company: typeof row.company === "number" ? row.company : null,
    };
  }

  // ---- dispatch ----------------------------------------------------------------------

  private listMethods(): string[] {
    const out: string[] = [];
    for (const model of this.registry.values()) {
      for (const m of STANDARD_METHODS) out.push(`model.${model.name}.${m}`);
      for (const m of Object.keys(model.methods ?? {})) out.push(`model.${model.name}.${m}`);
    }
    out.push("model.res.user.get_preferences", "model.res.user.set_preferences");
    return out;
  }

  private dispatch(user: SimUser, method: string, params: unknown[]): unknown {
    const dot = method.indexOf(".");
    if (dot < 0) throw new PythonError("not enough values to unpack (expected 2, got 1)");
    const parts = method.split(".");
    const type = parts[0]!;
    const name = parts.slice(1, -1).join(".");
    const fn = parts[parts.length - 1]!;
    if (type === "wizard" && WIZARDS[name]) return this.wizard(user, name, fn, params);
    if (type !== "model") throw keyError(type === "wizard" || type === "report" ? name : type);
    const model = this.registry.get(name);
    if (!model) throw keyError(name);
    const custom = name === "res.user" && (fn === "get_preferences" || fn === "set_preferences");
    if (!custom && !STANDARD_METHODS.includes(fn) && !model.methods?.[fn]) {
      throw new HttpFault(403, { "Content-Type": "text/html; charset=utf-8" }, htmlPage(403));
    }
    const context = params[params.length - 1];
    if (!context || typeof context !== "object" || Array.isArray(context) || context instanceof Dec) {
      throw new PythonError("Missing context argument");
    }
    const args = params.slice(0, -1);
    const ctx: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(context as Record<string, unknown>)) {
      if (!k.startsWith("_") || k === "_datetime" || k === "_timestamp") ctx[k] = v;
    }
    if (custom) return fn === "get_preferences" ? this.preferences(user, Boolean(args[0])) : null;
    return this.run(user, ctx, (env) => callModel(env, name, fn, args));
  }

  /** `wizard.<name>.create|execute|delete` for the wizards in wizards.ts. */
  private wizard(user: SimUser, name: string, fn: string, params: unknown[]): unknown {
    const context = params[params.length - 1];
    if (!context || typeof context !== "object" || Array.isArray(context)) {
      throw new PythonError("Missing context argument");
    }
    const args = params.slice(0, -1);
    const ctx = context as Record<string, unknown>;
    if (fn === "create") return this.wizards.create(name);
    if (fn === "delete") return this.wizards.delete(args[0]);
    if (fn === "execute") return this.run(user, ctx, (env) => this.wizards.execute(env, name, args));
    throw new HttpFault(403, { "Content-Type": "text/html; charset=utf-8" }, htmlPage(403));
  }

  /** One transaction, then the queued tasks, each in its own transaction. */
  run<T>(user: SimUser, context: Record<string, unknown>, fn: (env: Env) => T): T {
    const env = this.env(user, context);
    const result = this.store.transaction(() => encodeResult(fn(env)) as T);
    this.queue(user, context, env.afterCommit.splice(0));
    return result;
  }

  /**
   * worker = False: the tasks run right after the commit, inside the request; worker = True:
   * on a timer, outside any request, as trytond-worker picks them from `ir.queue`.
   */
  private queue(user: SimUser, context: Record<string, unknown>, tasks: Task[]): void {
    if (!this.opts.worker) {
      while (tasks.length) tasks = this.runTasks(user, context, tasks);
      return;
    }
    if (!tasks.length) return;
    const timer = setTimeout(() => {
      this.workerTimers.delete(timer);
      this.queue(user, context, this.runTasks(user, context, tasks));
      if (this.workerTimers.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }, this.opts.workerDelayMs ?? 100);
    this.workerTimers.add(timer);
  }

  /** Resolves once the worker has run every queued task (at once without a worker). */
  settle(): Promise<void> {
    if (this.workerTimers.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Each task in its own transaction; failures are only logged. Returns the tasks they queued. */
  private runTasks(user: SimUser, context: Record<string, unknown>, tasks: Task[]): Task[] {
    const next: Task[] = [];
    for (const task of tasks) {
      const taskEnv = this.env(user, { ...context });
      try {
        this.store.transaction(() => task(taskEnv));
        next.push(...taskEnv.afterCommit);
      } catch (err) {
        const text = err instanceof RpcFault ? JSON.stringify(err.payload()) : String(err);
        this.taskErrors.push(text);
        this.opts.log?.(`CRITICAL trytond.worker task failed: ${text}`);
      }
    }
    return next;
  }

  /** Drops the tasks the worker has not run yet. */
  stopWorker(): void {
    for (const timer of this.workerTimers) clearTimeout(timer);
    this.workerTimers.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  env(user: SimUser, context: Record<string, unknown>): Env {
    return new Env(
      this.registry,
      this.store,
      user,
      context,
      {
        log: (l) => this.opts.log?.(l),
        series: this.profile,
        endSessions: (ids) => {
          for (const [key, session] of this.sessions)
            if (ids.includes(session.userId)) this.sessions.delete(key);
        },
      },
      () => this.tick(),
    );
  }

  /** A strictly increasing UTC timestamp with microseconds, like trytond's CURRENT_TIMESTAMP. */
  private tick(): PyDateTime {
    const now = this.opts.now?.() ?? new Date();
    let micros = BigInt(now.getTime()) * 1000n;
    if (micros <= this.lastMicros) micros = this.lastMicros + 1n;
    this.lastMicros = micros;
    const ms = Number(micros / 1000n);
    return PyDateTime.fromJs(new Date(ms), Number(micros % 1000n));
  }

  preferences(user: SimUser, contextOnly: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const row = this.store.get("res.user", user.id);
    if (!contextOnly) {
      out.name = row?.name ?? null;
      out.password = "x".repeat(10);
      out.email = row?.email ?? null;
      out.signature = row?.signature ?? null;
      out.warnings = [];
      out.applications = [];
    }
    out.company_filter = "one";
    if (user.company !== null) {
      out.company = user.company;
      const env = this.env(user, { company: user.company });
      out["company.rec_name"] = env.rec("company.company", user.company).recName;
    }
    out.language = "en";
    out.language_direction = "ltr";
    out.groups = user.groups;
    if (!contextOnly) {
      out.companies = user.companies;
      out.employees = [];
    }
    return out;
  }

  /** Mark posted invoices paid, as the real pay wizard would; their sales re-process. */
  payInvoices(ids: number[]): void {
    const admin = this.user(1);
    this.run(admin, { company: admin.company }, (env) => payInvoices(env, ids));
  }
}

/** The CRUD methods every model exposes, and the model's own buttons. */
export function callModel(env: Env, model: string, method: string, args: unknown[]): unknown {
  switch (method) {
    case "create":
      return env.create(model, args[0]);
    case "read":
      if (args.length < 2) {
        throw new PythonError("ModelSQL.read() missing 1 required positional argument: 'fields_names'");
      }
      return env.read(model, args[0], args[1]);
    case "write":
      return env.write(model, args);
    case "delete":
      return env.delete(model, args[0]);
    case "copy":
      return env.copy(model, args[0], (args[1] as Record<string, unknown>) ?? {});
    case "search": {
      const [domain, offset, limit, order, count] = args;
      const ids = env.search(model, domain, offset ?? 0, limit ?? null, order ?? null);
      // RPC(result=lambda r: list(map(int, r))): a count cannot pass the result filter.
      if (count) throw new PythonError("'int' object is not iterable");
      return ids;
    }
    case "search_count":
      return env.searchCount(model, args[0]);
    case "search_read": {
      const [domain, offset, limit, order, fields] = args;
      return env.searchRead(model, domain, offset ?? 0, limit ?? null, order ?? null, fields ?? null);
    }
    case "fields_get":
      return fieldsGet(env, model, args[0]);
    case "default_get":
      return defaultGet(env, model, args[0]);
    default:
      return env.callMethod(model, method, args);
  }
}

function fieldsGet(env: Env, modelName: string, names: unknown): Record<string, unknown> {
  const model = env.model(modelName);
  env.checkAccess(model);
  const wanted = Array.isArray(names) && names.length ? names.map(String) : Object.keys(model.fields);
  const out: Record<string, unknown> = {};
  for (const name of wanted) {
    const field = model.fields[name];
    if (!field) continue;
    const def: Record<string, unknown> = {
      name,
      type: field.type,
      string: field.string,
      required: Boolean(field.required),
      readonly: Boolean(field.readonly || field.compute),
      searchable: !field.compute || Boolean(field.searchable),
    };
    if (field.relation) def.relation = field.relation;
    if (field.selection) def.selection = field.selection.map(([k, v]) => [k, v]);
    if (field.size !== undefined) def.size = field.size;
    out[name] = def;
  }
  return out;
}

function defaultGet(env: Env, modelName: string, names: unknown): Record<string, unknown> {
  const model = env.model(modelName);
  env.checkAccess(model);
  const out: Record<string, unknown> = {};
  for (const name of Array.isArray(names) ? names.map(String) : []) {
    const field = model.fields[name];
    if (field?.default && field.type !== "one2many") out[name] = field.default(env);
  }
  return out;
}

function parseSession(auth: string | undefined): { login: string; userId: number; key: string } | undefined {
  const m = /^Session\s+(.+)$/i.exec(auth ?? "");
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const parts = text.split(":");
  if (parts.length < 3) return { login: "", userId: -1, key: "" };
  const key = parts.pop()!;
  const userId = Number(parts.pop());
  return { login: parts.join(":"), userId: Number.isInteger(userId) ? userId : -1, key };
}

function tooManyRequests(): HttpFault {
  return new HttpFault(429, { "Content-Type": "text/html; charset=utf-8" }, htmlPage(429));
}

function html(status: number, description?: string): Reply {
  return {
    status,
    headers: { "Content-Type": "text/html; charset=utf-8" },
    body: htmlPage(status, description ? htmlEscape(description) : undefined),
  };
}

/** `JSONProtocol.response`: the envelope in JSON-RPC mode, bare results and HTML errors in REST mode. */
function respond(jsonRpc: boolean, id: unknown, out: { result?: unknown; fault?: RpcFault }): Reply {
  const json = (body: unknown): Reply => ({
    status: 200,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (jsonRpc) {
    if (out.fault) return json({ id, error: out.fault.payload() });
    return json({ id, result: out.result ?? null });
  }
  if (out.fault) {
    const fault = out.fault;
    const text = fault instanceof UserError ? `${fault.text} - ${fault.description}` : fault.message;
    return html(fault.restStatus(), text);
  }
  return json(out.result ?? null);
}

export function plainRow(row: Row): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Dec) out[k] = v.toString();
    else if (v instanceof PyDateTime || v instanceof PyDate) out[k] = v.toString();
    else if (Array.isArray(v)) out[k] = [...v];
    else out[k] = v;
  }
  return out;
}
