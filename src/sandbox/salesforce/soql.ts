/**
 * A strict SOQL subset:
 *   SELECT field | Rel.field | COUNT() | (SELECT … FROM ChildRelationship [WHERE] [ORDER BY] [LIMIT])
 *   FROM sObject [WHERE cond] [ORDER BY path [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]
 *   cond: path (= | != | <> | < | <= | > | >=) literal | path [NOT] IN (literal, …)
 *         | path LIKE 'pattern' | NOT cond | (cond) | cond AND cond … | cond OR cond …
 *   literal: 'string' (escapes \' \" \\ \n \r \t \b \f \uXXXX, and \% \_ in LIKE), number,
 *            true, false, null, 2024-01-31, 2024-01-31T10:00:00Z, TODAY, YESTERDAY, TOMORROW
 * Like Salesforce: keywords, object and field names are case-insensitive; `=` and LIKE on text
 * are case-insensitive; AND and OR cannot be mixed without parentheses; a literal of the wrong
 * type, an invalid id, an unknown field or relationship is an error (MALFORMED_QUERY,
 * INVALID_FIELD, INVALID_TYPE, INVALID_QUERY_FILTER_OPERATOR). Anything outside the subset
 * (GROUP BY, semi-joins, bind variables, FIELDS(), …) is refused with MALFORMED_QUERY rather
 * than answered wrongly.
 */
import { ApiError } from "./errors";
import { dateTimeToMillis, isValidDate, normalizeDateTime } from "./fields";
import { canonicalId } from "./ids";
import type { ChildRelationshipDef, FieldDef, Schema, SObjectDef } from "./schema";
import type { RecordStore, Row } from "./store";

type TokenKind = "ident" | "string" | "number" | "date" | "datetime" | "op" | "punct" | "eof";

interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
  /** Unescaped string value. */
  value?: string;
  /** LIKE pattern of a string literal. */
  like?: RegExp;
}

type Literal =
  | { kind: "string"; value: string; like: RegExp; pos: number }
  | { kind: "number"; value: number; pos: number }
  | { kind: "boolean"; value: boolean; pos: number }
  | { kind: "null"; pos: number }
  | { kind: "date"; value: string; pos: number }
  | { kind: "datetime"; value: number; text: string; pos: number }
  | { kind: "dateKeyword"; name: string; pos: number };

interface PathRef {
  path: string[];
  pos: number;
}

type Condition =
  | { kind: "and" | "or"; items: Condition[] }
  | { kind: "not"; item: Condition }
  | { kind: "compare"; field: PathRef; op: string; value: Literal }
  | { kind: "in"; field: PathRef; negated: boolean; values: Literal[] }
  | { kind: "like"; field: PathRef; value: Literal };

type SelectItem =
  { kind: "field"; ref: PathRef } | { kind: "count"; pos: number } | { kind: "child"; query: Query };

interface OrderItem {
  ref: PathRef;
  descending: boolean;
  nullsLast: boolean;
}

interface Query {
  select: SelectItem[];
  from: { name: string; pos: number };
  where?: Condition;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}

export interface SoqlEnvironment {
  schema: Schema;
  store: RecordStore;
  /** "60.0" */
  version: string;
  /** queryAll: include deleted rows. */
  includeDeleted: boolean;
}

export interface SoqlResult {
  sobject: string;
  totalSize: number;
  records: Record<string, unknown>[];
}

const KEYWORDS = new Set([
  "SELECT",
  "FROM",
  "WHERE",
  "AND",
  "OR",
  "NOT",
  "IN",
  "LIKE",
  "ORDER",
  "BY",
  "ASC",
  "DESC",
  "NULLS",
  "FIRST",
  "LAST",
  "LIMIT",
  "OFFSET",
  "NULL",
  "TRUE",
  "FALSE",
  "GROUP",
  "HAVING",
  "WITH",
  "FOR",
  "USING",
  "TYPEOF",
  "INCLUDES",
  "EXCLUDES",
]);
const UNSUPPORTED = new Set(["GROUP", "HAVING", "WITH", "FOR", "USING", "TYPEOF", "INCLUDES", "EXCLUDES"]);
const DATE_KEYWORDS = new Set(["TODAY", "YESTERDAY", "TOMORROW"]);
const MAX_OFFSET = 2000;

class SoqlError {
  constructor(
    readonly soql: string,
    readonly pos: number,
  ) {}

  error(errorCode: string, message: string): ApiError {
    const before = this.soql.slice(0, this.pos);
    const row = before.split("\n").length;
    const lineStart = before.lastIndexOf("\n") + 1;
    const lineEnd = this.soql.indexOf("\n", this.pos);
    const line = this.soql.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
    const column = this.pos - lineStart + 1;
    return new ApiError(
      400,
      errorCode,
      `\n${line}\n${" ".repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${message}`,
    );
  }
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const malformed = (pos: number, message: string): ApiError =>
    new SoqlError(soql, pos).error("MALFORMED_QUERY", message);
  while (i < soql.length) {
    const c = soql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    const rest = soql.slice(i);
    if (c === "'") {
      let value = "";
      let pattern = "";
      i++;
      for (;;) {
        if (i >= soql.length) throw malformed(start, `unexpected token: '${soql.slice(start)}'`);
        const ch = soql[i];
        if (ch === "'") break;
        if (ch === "\\") {
          const next = soql[i + 1];
          const simple: Record<string, string> = {
            "'": "'",
            '"': '"',
            "\\": "\\",
            n: "\n",
            r: "\r",
            t: "\t",
            b: "\b",
            f: "\f",
          };
          if (next !== undefined && next in simple) {
            value += simple[next];
            pattern += escapeRegex(simple[next]);
            i += 2;
          } else if (next === "%" || next === "_") {
            value += next;
            pattern += escapeRegex(next);
            i += 2;
          } else if (next === "u" && /^[0-9a-fA-F]{4}$/.test(soql.slice(i + 2, i + 6))) {
            const ch2 = String.fromCharCode(parseInt(soql.slice(i + 2, i + 6), 16));
            value += ch2;
            pattern += escapeRegex(ch2);
            i += 6;
          } else {
            throw malformed(
              start,
              `Invalid string literal '${soql.slice(start + 1, i + 2)}'. Illegal character sequence '\\${next ?? ""}' in string literal.`,
            );
          }
          continue;
        }
        value += ch;
        pattern += ch === "%" ? ".*" : ch === "_" ? "." : escapeRegex(ch);
        i++;
      }
      i++;
      tokens.push({
        kind: "string",
        text: soql.slice(start, i),
        pos: start,
        value,
        like: new RegExp(`^${pattern}$`, "is"),
      });
      continue;
    }
    const datetime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})/.exec(rest);
    if (datetime) {
      tokens.push({ kind: "datetime", text: datetime[0], pos: start });
      i += datetime[0].length;
      continue;
    }
    const date = /^\d{4}-\d{2}-\d{2}(?![\d:T])/.exec(rest);
    if (date) {
      tokens.push({ kind: "date", text: date[0], pos: start });
      i += date[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?(?![A-Za-z_\d])/.exec(rest);
    if (number) {
      tokens.push({ kind: "number", text: number[0], pos: start });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(rest);
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0], pos: start });
      i += ident[0].length;
      continue;
    }
    const op = /^(!=|<>|<=|>=|=|<|>)/.exec(rest);
    if (op) {
      tokens.push({ kind: "op", text: op[0], pos: start });
      i += op[0].length;
      continue;
    }
    if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: "punct", text: c, pos: start });
      i++;
      continue;
    }
    if (c === ":") throw malformed(start, "Bind variables are only allowed in Apex code");
    throw malformed(start, `unexpected token: '${c}'`);
  }
  tokens.push({ kind: "eof", text: "<EOF>", pos: soql.length });
  return tokens;
}

class Parser {
  private i = 0;

  constructor(
    private readonly soql: string,
    private readonly tokens: Token[],
  ) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    this.i++;
    return t;
  }

  private isKeyword(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === "ident" && t.text.toUpperCase() === word;
  }

  private unexpected(t: Token = this.peek()): ApiError {
    if (t.kind === "ident" && UNSUPPORTED.has(t.text.toUpperCase())) {
      return new SoqlError(this.soql, t.pos).error(
        "MALFORMED_QUERY",
        `${t.text.toUpperCase()} is not supported by the OrderBridge Salesforce simulator`,
      );
    }
    return new SoqlError(this.soql, t.pos).error("MALFORMED_QUERY", `unexpected token: '${t.text}'`);
  }

  private expectKeyword(word: string): Token {
    if (!this.isKeyword(word)) throw this.unexpected();
    return this.next();
  }

  private expectPunct(p: string): void {
    const t = this.peek();
    if (t.kind !== "punct" || t.text !== p) throw this.unexpected();
    this.i++;
  }

  parse(): Query {
    const query = this.parseQuery(false);
    if (this.peek().kind !== "eof") throw this.unexpected();
    return query;
  }

  private parseQuery(child: boolean): Query {
    this.expectKeyword("SELECT");
    const select: SelectItem[] = [];
    do {
      select.push(this.parseSelectItem(child));
    } while (this.peek().kind === "punct" && this.peek().text === "," && this.next());
    this.expectKeyword("FROM");
    const fromToken = this.next();
    // Object names may be keywords ("FROM Order ORDER BY …").
    if (fromToken.kind !== "ident" || fromToken.text.includes(".")) {
      throw this.unexpected(fromToken);
    }
    const query: Query = { select, from: { name: fromToken.text, pos: fromToken.pos }, orderBy: [] };
    if (this.isKeyword("WHERE")) {
      this.next();
      query.where = this.parseCondition();
    }
    if (this.isKeyword("ORDER")) {
      this.next();
      this.expectKeyword("BY");
      do {
        query.orderBy.push(this.parseOrderItem());
      } while (this.peek().kind === "punct" && this.peek().text === "," && this.next());
    }
    if (this.isKeyword("LIMIT")) {
      this.next();
      query.limit = this.parseInteger();
    }
    if (!child && this.isKeyword("OFFSET")) {
      this.next();
      const offsetToken = this.peek();
      query.offset = this.parseInteger();
      if (query.offset > MAX_OFFSET) {
        throw new SoqlError(this.soql, offsetToken.pos).error(
          "NUMBER_OUTSIDE_VALID_RANGE",
          `Maximum SOQL offset allowed is ${MAX_OFFSET}`,
        );
      }
    }
    const t = this.peek();
    const end = child ? t.kind === "punct" && t.text === ")" : t.kind === "eof";
    if (!end) throw this.unexpected(t);
    return query;
  }

  private parseInteger(): number {
    const t = this.next();
    if (t.kind !== "number" || !/^\d+$/.test(t.text)) throw this.unexpected(t);
    return Number(t.text);
  }

  private parseSelectItem(child: boolean): SelectItem {
    const t = this.peek();
    if (t.kind === "punct" && t.text === "(" && !child) {
      this.next();
      const query = this.parseQuery(true);
      this.expectPunct(")");
      return { kind: "child", query };
    }
    if (t.kind === "ident" && t.text.toUpperCase() === "COUNT" && this.peek(1).text === "(") {
      this.next();
      this.next();
      if (this.peek().text !== ")") {
        throw new SoqlError(this.soql, this.peek().pos).error(
          "MALFORMED_QUERY",
          "COUNT(field) and other aggregate functions are not supported by the OrderBridge Salesforce simulator",
        );
      }
      this.next();
      return { kind: "count", pos: t.pos };
    }
    if (t.kind === "ident" && /^FIELDS$/i.test(t.text) && this.peek(1).text === "(") {
      throw new SoqlError(this.soql, t.pos).error(
        "MALFORMED_QUERY",
        "FIELDS() is not supported by the OrderBridge Salesforce simulator",
      );
    }
    return { kind: "field", ref: this.parsePath() };
  }

  private parsePath(): PathRef {
    const t = this.next();
    if (t.kind !== "ident" || KEYWORDS.has(t.text.toUpperCase())) throw this.unexpected(t);
    return { path: t.text.split("."), pos: t.pos };
  }

  private parseOrderItem(): OrderItem {
    const ref = this.parsePath();
    let descending = false;
    if (this.isKeyword("ASC")) this.next();
    else if (this.isKeyword("DESC")) {
      this.next();
      descending = true;
    }
    let nullsLast = descending;
    if (this.isKeyword("NULLS")) {
      this.next();
      if (this.isKeyword("FIRST")) nullsLast = false;
      else if (this.isKeyword("LAST")) nullsLast = true;
      else throw this.unexpected();
      this.next();
    }
    return { ref, descending, nullsLast };
  }

  /** Salesforce refuses `a AND b OR c`: a level joins its terms with AND only or OR only. */
  private parseCondition(): Condition {
    const first = this.parseUnary();
    const joiner = this.isKeyword("AND") ? "AND" : this.isKeyword("OR") ? "OR" : undefined;
    if (!joiner) return first;
    const items = [first];
    while (this.isKeyword(joiner)) {
      this.next();
      items.push(this.parseUnary());
    }
    const other = joiner === "AND" ? "OR" : "AND";
    if (this.isKeyword(other)) throw this.unexpected();
    return { kind: joiner === "AND" ? "and" : "or", items };
  }

  private parseUnary(): Condition {
    if (this.isKeyword("NOT")) {
      this.next();
      return { kind: "not", item: this.parseUnary() };
    }
    const t = this.peek();
    if (t.kind === "punct" && t.text === "(") {
      this.next();
      const inner = this.parseCondition();
      this.expectPunct(")");
      return inner;
    }
    return this.parseComparison();
  }

  private parseComparison(): Condition {
    const field = this.parsePath();
    const t = this.peek();
    if (t.kind === "op") {
      this.next();
      return { kind: "compare", field, op: t.text === "<>" ? "!=" : t.text, value: this.parseLiteral() };
    }
    if (this.isKeyword("LIKE")) {
      this.next();
      return { kind: "like", field, value: this.parseLiteral() };
    }
    let negated = false;
    if (this.isKeyword("NOT") && this.isKeyword("IN", 1)) {
      this.next();
      negated = true;
    }
    if (this.isKeyword("IN")) {
      this.next();
      this.expectPunct("(");
      if (this.isKeyword("SELECT")) {
        throw new SoqlError(this.soql, this.peek().pos).error(
          "MALFORMED_QUERY",
          "semi-join sub-selects are not supported by the OrderBridge Salesforce simulator",
        );
      }
      const values: Literal[] = [];
      do {
        values.push(this.parseLiteral());
      } while (this.peek().text === "," && this.next());
      this.expectPunct(")");
      return { kind: "in", field, negated, values };
    }
    throw this.unexpected(t);
  }

  private parseLiteral(): Literal {
    const t = this.next();
    switch (t.kind) {
      case "string":
        return { kind: "string", value: t.value as string, like: t.like as RegExp, pos: t.pos };
      case "number":
        return { kind: "number", value: Number(t.text), pos: t.pos };
      case "date":
        if (!isValidDate(t.text)) throw this.unexpected(t);
        return { kind: "date", value: t.text, pos: t.pos };
      case "datetime": {
        const normalized = normalizeDateTime(t.text);
        if (!normalized) throw this.unexpected(t);
        return { kind: "datetime", value: dateTimeToMillis(normalized), text: t.text, pos: t.pos };
      }
      case "ident": {
        const word = t.text.toUpperCase();
        if (word === "NULL") return { kind: "null", pos: t.pos };
        if (word === "TRUE" || word === "FALSE")
          return { kind: "boolean", value: word === "TRUE", pos: t.pos };
        if (DATE_KEYWORDS.has(word)) return { kind: "dateKeyword", name: word, pos: t.pos };
        throw this.unexpected(t);
      }
      default:
        throw this.unexpected(t);
    }
  }
}

/** A field path resolved against the schema: the lookups to follow, then the field to read. */
interface ResolvedPath {
  steps: FieldDef[];
  field: FieldDef;
  /** Polymorphic last hop (Parent.Name): read the target's name field at run time. */
  polymorphicName: boolean;
  display: string;
}

class Compiler {
  constructor(
    private readonly soql: string,
    private readonly env: SoqlEnvironment,
  ) {}

  fail(pos: number, errorCode: string, message: string): ApiError {
    return new SoqlError(this.soql, pos).error(errorCode, message);
  }

  sobject(name: string, pos: number): SObjectDef {
    const def = this.env.schema.get(name);
    if (!def || !def.queryable || Number(this.env.version) < def.minVersion) {
      throw this.fail(
        pos,
        "INVALID_TYPE",
        `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return def;
  }

  resolve(def: SObjectDef, ref: PathRef): ResolvedPath {
    const { schema } = this.env;
    const steps: FieldDef[] = [];
    let current: SObjectDef | undefined = def;
    const last = ref.path.length - 1;
    for (let i = 0; i < last; i++) {
      const relation: FieldDef | undefined = current ? schema.relationship(current, ref.path[i]) : undefined;
      if (!relation) {
        throw this.fail(
          ref.pos,
          "INVALID_FIELD",
          `Didn't understand relationship '${ref.path[i]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      steps.push(relation);
      current = relation.referenceTo.length === 1 ? schema.get(relation.referenceTo[0]) : undefined;
      if (!current && i < last - 1) {
        throw this.fail(
          ref.pos,
          "INVALID_FIELD",
          `polymorphic relationship '${ref.path[i]}' can only be followed one level`,
        );
      }
    }
    const name = ref.path[last];
    if (!current) {
      // Polymorphic relationship: Salesforce exposes only the "Name" object's fields (Id, Name, Type).
      const idOrName = /^(Id|Name)$/i.exec(name);
      if (!idOrName) throw this.noSuchColumn(ref, name, "Name");
      const canonical = capitalize(idOrName[0]);
      const display = [...steps.map((s) => s.relationshipName as string), canonical].join(".");
      // Type-check as the "Name" object's field: an id, or a text name.
      const field = schema.field(schema.get("Account") as SObjectDef, canonical) as FieldDef;
      return { steps, field, polymorphicName: field.name === "Name", display };
    }
    const field = schema.field(current, name);
    if (!field) throw this.noSuchColumn(ref, name, current.name);
    return {
      steps,
      field,
      polymorphicName: false,
      display: [...steps.map((s) => s.relationshipName as string), field.name].join("."),
    };
  }

  private noSuchColumn(ref: PathRef, name: string, entity: string): ApiError {
    return this.fail(
      ref.pos,
      "INVALID_FIELD",
      `No such column '${name}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  }

  childRelationship(
    parent: SObjectDef,
    name: string,
    pos: number,
  ): { rel: ChildRelationshipDef; def: SObjectDef } {
    const rel = this.env.schema.childRelationship(parent, name);
    const def = rel ? this.env.schema.get(rel.childSObject) : undefined;
    if (!rel || !def) {
      throw this.fail(
        pos,
        "INVALID_TYPE",
        `Didn't understand relationship '${name}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    return { rel, def };
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}

type Predicate = (row: Row) => boolean;

const TEXT_TYPES = new Set(["string", "textarea", "email", "phone", "url", "picklist", "base64"]);
const NUMBER_TYPES = new Set(["double", "currency", "percent", "int"]);

function dayRange(name: string): { start: number; end: number; date: string } {
  const now = new Date();
  const base = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const shift = name === "YESTERDAY" ? -1 : name === "TOMORROW" ? 1 : 0;
  const start = base + shift * 86_400_000;
  return { start, end: start + 86_400_000, date: new Date(start).toISOString().slice(0, 10) };
}

class Executor {
  private readonly compiler: Compiler;

  constructor(
    private readonly soql: string,
    private readonly env: SoqlEnvironment,
  ) {
    this.compiler = new Compiler(soql, env);
  }

  run(query: Query): SoqlResult {
    const def = this.compiler.sobject(query.from.name, query.from.pos);
    if (def.name === "ContentDocumentLink") this.requireLinkFilter(query);
    const rows = this.select(def, query, this.env.store.rows(def.name, this.env.includeDeleted));
    const counting = query.select.some((s) => s.kind === "count");
    if (counting) {
      if (query.select.length > 1) {
        const countItem = query.select.find((s) => s.kind === "count") as { pos: number };
        throw this.compiler.fail(
          countItem.pos,
          "MALFORMED_QUERY",
          "COUNT() cannot be combined with other fields",
        );
      }
      return { sobject: def.name, totalSize: rows.length, records: [] };
    }
    const project = this.projector(def, query);
    return { sobject: def.name, totalSize: rows.length, records: rows.map(project) };
  }

  private select(def: SObjectDef, query: Query, source: Row[]): Row[] {
    const where = query.where ? this.predicate(def, query.where) : () => true;
    let rows = source.filter(where);
    if (query.orderBy.length > 0) rows = this.sort(def, query.orderBy, rows);
    const offset = query.offset ?? 0;
    return rows.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  }

  private requireLinkFilter(query: Query): void {
    const terms = !query.where ? [] : query.where.kind === "and" ? query.where.items : [query.where];
    const ok = terms.some(
      (t) =>
        ((t.kind === "compare" && t.op === "=") || (t.kind === "in" && !t.negated)) &&
        /^(ContentDocumentId|LinkedEntityId)$/i.test(t.field.path.join(".")),
    );
    if (!ok) {
      throw this.compiler.fail(
        query.from.pos,
        "MALFORMED_QUERY",
        "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator.",
      );
    }
  }

  private read(row: Row, path: ResolvedPath): unknown {
    let current: Row | undefined = row;
    for (const step of path.steps) {
      const id: unknown = current[step.name];
      current = typeof id === "string" ? this.env.store.get(id)?.row : undefined;
      if (!current) return null;
    }
    if (path.polymorphicName) {
      const target = this.env.schema.byKeyPrefix(String(current.Id).slice(0, 3));
      const nameField = target ? this.env.schema.nameFieldOf(target) : undefined;
      return nameField ? (current[nameField.name] ?? null) : null;
    }
    return current[path.field.name] ?? null;
  }

  private sort(def: SObjectDef, items: OrderItem[], rows: Row[]): Row[] {
    const keys = items.map((item) => {
      const path = this.compiler.resolve(def, item.ref);
      if (!path.field.sortable) {
        throw this.compiler.fail(
          item.ref.pos,
          "INVALID_FIELD",
          `field '${path.field.name}' can not be sorted in a query call`,
        );
      }
      return { item, path };
    });
    return [...rows].sort((a, b) => {
      for (const { item, path } of keys) {
        const va = this.read(a, path);
        const vb = this.read(b, path);
        if (va === vb) continue;
        if (va === null) return item.nullsLast ? 1 : -1;
        if (vb === null) return item.nullsLast ? -1 : 1;
        const cmp = compareValues(va, vb);
        if (cmp !== 0) return item.descending ? -cmp : cmp;
      }
      return 0;
    });
  }

  private predicate(def: SObjectDef, cond: Condition): Predicate {
    switch (cond.kind) {
      case "and": {
        const parts = cond.items.map((c) => this.predicate(def, c));
        return (row) => parts.every((p) => p(row));
      }
      case "or": {
        const parts = cond.items.map((c) => this.predicate(def, c));
        return (row) => parts.some((p) => p(row));
      }
      case "not": {
        const inner = this.predicate(def, cond.item);
        return (row) => !inner(row);
      }
      case "like": {
        const path = this.filterPath(def, cond.field);
        if (!TEXT_TYPES.has(path.field.type) || cond.value.kind !== "string") {
          throw this.compiler.fail(
            cond.field.pos,
            "INVALID_FIELD",
            `invalid operator on field '${path.display}': LIKE needs a text field and a quoted pattern`,
          );
        }
        const like = cond.value.like;
        return (row) => {
          const v = this.read(row, path);
          return v !== null && like.test(String(v));
        };
      }
      case "in": {
        const path = this.filterPath(def, cond.field);
        const values = cond.values.map((v) => this.operand(path, v));
        const texts = values.filter((o): o is Extract<Operand, { kind: "text" }> => o.kind === "text");
        if (texts.length > 0 && texts.length === values.filter((o) => o.kind !== "null").length) {
          // Text equality (the same rule as `matches`) as one set lookup: an IN list of 200 keys
          // over a large table is then one pass, not 200.
          const fold = (text: string) => (texts[0]?.caseSensitive ? text : text.toLowerCase());
          const wanted = new Set(texts.map((o) => fold(o.value)));
          const orNull = values.some((o) => o.kind === "null");
          return (row) => {
            const v = this.read(row, path);
            const found = v === null || v === undefined ? orNull && v === null : wanted.has(fold(String(v)));
            return cond.negated ? !found : found;
          };
        }
        return (row) => {
          const v = this.read(row, path);
          const found = values.some((operand) => matches(v, "=", operand));
          return cond.negated ? !found : found;
        };
      }
      case "compare": {
        const path = this.filterPath(def, cond.field);
        const operand = this.operand(path, cond.value);
        if (operand.kind === "null" && cond.op !== "=" && cond.op !== "!=") {
          throw this.compiler.fail(cond.value.pos, "MALFORMED_QUERY", `invalid operator ${cond.op} for null`);
        }
        return (row) => matches(this.read(row, path), cond.op, operand);
      }
    }
  }

  private filterPath(def: SObjectDef, ref: PathRef): ResolvedPath {
    const path = this.compiler.resolve(def, ref);
    if (!path.field.filterable) {
      throw this.compiler.fail(
        ref.pos,
        "INVALID_FIELD",
        `field '${path.field.name}' can not be filtered in a query call`,
      );
    }
    return path;
  }

  /** Type-check a literal against the field, the way Salesforce words it. */
  private operand(path: ResolvedPath, literal: Literal): Operand {
    const f = path.field;
    const wrongType = (typeName: string, quoted: boolean): ApiError =>
      this.compiler.fail(
        literal.pos,
        "INVALID_FIELD",
        `value of filter criterion for field '${path.display}' must be of type ${typeName} and ${quoted ? "should be enclosed in quotes" : "should not be enclosed in quotes"}`,
      );
    if (literal.kind === "null") return { kind: "null" };
    if (f.type === "id" || f.type === "reference") {
      if (literal.kind !== "string") throw wrongType("id", true);
      const id = canonicalId(literal.value);
      if (!id)
        throw this.compiler.fail(
          literal.pos,
          "INVALID_QUERY_FILTER_OPERATOR",
          `invalid ID field: ${literal.value}`,
        );
      return { kind: "text", value: id, caseSensitive: true };
    }
    if (TEXT_TYPES.has(f.type)) {
      if (literal.kind !== "string") throw wrongType("string", true);
      return { kind: "text", value: literal.value, caseSensitive: f.caseSensitive };
    }
    if (NUMBER_TYPES.has(f.type)) {
      if (literal.kind !== "number") throw wrongType(f.type === "int" ? "integer" : "double", false);
      return { kind: "number", value: literal.value };
    }
    if (f.type === "boolean") {
      if (literal.kind !== "boolean") throw wrongType("boolean", false);
      return { kind: "boolean", value: literal.value };
    }
    if (f.type === "date") {
      if (literal.kind === "dateKeyword") return { kind: "date", value: dayRange(literal.name).date };
      if (literal.kind !== "date") throw wrongType("date", false);
      return { kind: "date", value: literal.value };
    }
    if (f.type === "datetime") {
      if (literal.kind === "dateKeyword") {
        const range = dayRange(literal.name);
        return { kind: "range", start: range.start, end: range.end };
      }
      if (literal.kind !== "datetime") throw wrongType("dateTime", false);
      return { kind: "range", start: literal.value, end: literal.value + 1 };
    }
    throw this.compiler.fail(
      literal.pos,
      "INVALID_FIELD",
      `field '${path.display}' can not be filtered in a query call`,
    );
  }

  private projector(def: SObjectDef, query: Query): (row: Row) => Record<string, unknown> {
    const seen = new Set<string>();
    const plan: ((row: Row, out: Record<string, unknown>) => void)[] = [];
    for (const item of query.select) {
      if (item.kind === "count") continue;
      if (item.kind === "child") {
        plan.push(this.childProjector(def, item.query));
        continue;
      }
      const path = this.compiler.resolve(def, item.ref);
      const key = path.display.toLowerCase();
      if (seen.has(key)) {
        throw this.compiler.fail(
          item.ref.pos,
          "MALFORMED_QUERY",
          `duplicate field selected: ${path.display}`,
        );
      }
      seen.add(key);
      plan.push((row, out) => this.place(row, path, out));
    }
    return (row) => {
      const out: Record<string, unknown> = { attributes: this.attributes(def.name, row.Id as string) };
      for (const step of plan) step(row, out);
      return out;
    };
  }

  private attributes(type: string, id: string): { type: string; url: string } {
    return { type, url: `/services/data/v${this.env.version}/sobjects/${type}/${id}` };
  }

  /** Writes `Account.Owner.Name` as nested `{Account: {attributes, Owner: {attributes, Name}}}`. */
  private place(row: Row, path: ResolvedPath, out: Record<string, unknown>): void {
    let current: Row = row;
    let target = out;
    for (const step of path.steps) {
      const key = step.relationshipName as string;
      const id = current[step.name];
      const related = typeof id === "string" ? this.env.store.get(id) : undefined;
      if (!related) {
        if (!(key in target)) target[key] = null;
        return;
      }
      if (!target[key]) target[key] = { attributes: this.attributes(related.type, id as string) };
      target = target[key] as Record<string, unknown>;
      current = related.row;
    }
    const name = path.steps.length > 0 ? (path.display.split(".").pop() as string) : path.field.name;
    target[name] = path.polymorphicName ? this.read(row, path) : (current[path.field.name] ?? null);
  }

  private childProjector(parent: SObjectDef, query: Query): (row: Row, out: Record<string, unknown>) => void {
    const { rel, def } = this.compiler.childRelationship(parent, query.from.name, query.from.pos);
    if (query.select.some((s) => s.kind !== "field")) {
      throw this.compiler.fail(
        query.from.pos,
        "MALFORMED_QUERY",
        "a relationship sub-query can only select fields",
      );
    }
    const project = this.projector(def, query);
    return (row, out) => {
      const children = this.env.store
        .rowsWhere(def.name, rel.field, row.Id)
        .filter(
          (child) => child[rel.field] === row.Id && (this.env.includeDeleted || child.IsDeleted !== true),
        );
      const selected = this.select(def, query, children);
      out[rel.relationshipName] =
        selected.length === 0
          ? null
          : { totalSize: selected.length, done: true, records: selected.map(project) };
    };
  }
}

type Operand =
  | { kind: "null" }
  | { kind: "text"; value: string; caseSensitive: boolean }
  | { kind: "number"; value: number }
  | { kind: "boolean"; value: boolean }
  | { kind: "date"; value: string }
  | { kind: "range"; start: number; end: number };

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = String(a).toLowerCase();
  const sb = String(b).toLowerCase();
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function matches(value: unknown, op: string, operand: Operand): boolean {
  if (operand.kind === "null") return op === "=" ? value === null : value !== null;
  if (value === null || value === undefined) return op === "!=";
  let cmp: number;
  if (operand.kind === "range") {
    const ms = dateTimeToMillis(String(value));
    if (op === "=") return ms >= operand.start && ms < operand.end;
    if (op === "!=") return !(ms >= operand.start && ms < operand.end);
    cmp = ms < operand.start ? -1 : ms >= operand.end ? 1 : 0;
  } else if (operand.kind === "text") {
    const a = operand.caseSensitive ? String(value) : String(value).toLowerCase();
    const b = operand.caseSensitive ? operand.value : operand.value.toLowerCase();
    cmp = a < b ? -1 : a > b ? 1 : 0;
  } else {
    cmp = compareValues(value, operand.value);
  }
  switch (op) {
    case "=":
      return cmp === 0;
    case "!=":
      return cmp !== 0;
    case "<":
      return cmp < 0;
    case "<=":
      return cmp <= 0;
    case ">":
      return cmp > 0;
    default:
      return cmp >= 0;
  }
}

export function runSoql(soql: string, env: SoqlEnvironment): SoqlResult {
  if (soql.trim() === "") {
    throw new ApiError(400, "MALFORMED_QUERY", "A query string has to be specified");
  }
  const query = new Parser(soql, tokenize(soql)).parse();
  return new Executor(soql, env).run(query);
}
