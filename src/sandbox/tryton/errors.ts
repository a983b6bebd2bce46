/**
 * How trytond 6.0 reports failures (`trytond/exceptions.py`, `protocols/jsonrpc.py`,
 * `protocols/dispatcher.py`), so the simulator fails exactly where and how the server does:
 *
 * - TrytonException subclasses travel as `error: exc.args`: `["UserError", [msg, desc, domain]]`,
 *   `["UserWarning", [name, msg, desc]]`, `["ConcurrencyException", msg]`,
 *   `["LoginException", [name, msg, type]]`. Validation and access errors are UserError
 *   subclasses and look the same.
 * - Any other Python exception travels as `[str(exc), ""]` (no traceback is sent).
 * - Some failures are not JSON-RPC answers at all: HTTP 401/403/429/500 (`HttpFault`).
 */

export abstract class RpcFault extends Error {
  /** The JSON `error` member. */
  abstract payload(): unknown;
  /** Status and HTML body in "REST mode" (envelope with extra keys). */
  abstract restStatus(): number;
}

export class UserError extends RpcFault {
  constructor(
    readonly text: string,
    readonly description = "",
    readonly domain: unknown = null,
  ) {
    super(text);
  }
  payload(): unknown {
    return ["UserError", [this.text, this.description, this.domain]];
  }
  restStatus(): number {
    return 400;
  }
}

export class UserWarning extends RpcFault {
  constructor(
    readonly warning: string,
    readonly text: string,
    readonly description = "",
  ) {
    super(text);
  }
  payload(): unknown {
    return ["UserWarning", [this.warning, this.text, this.description]];
  }
  restStatus(): number {
    return 409;
  }
}

export class ConcurrencyException extends RpcFault {
  payload(): unknown {
    return ["ConcurrencyException", this.message];
  }
  restStatus(): number {
    return 423;
  }
}

export class LoginException extends RpcFault {
  constructor(
    readonly parameter: string,
    readonly text: string,
    readonly type = "password",
  ) {
    super(text);
  }
  payload(): unknown {
    return ["LoginException", [this.parameter, this.text, this.type]];
  }
  restStatus(): number {
    return 403;
  }
}

/** A plain Python exception: `[str(exc), traceback]`, e.g. `["'zip'", ""]` for a KeyError. */
export class PythonError extends RpcFault {
  payload(): unknown {
    return [this.message, ""];
  }
  restStatus(): number {
    return 500;
  }
}

/** A KeyError, whose str() is the repr of the key: `'zip'`. */
export function keyError(key: string): PythonError {
  return new PythonError(`'${key}'`);
}

/** Not a JSON-RPC answer: Werkzeug's abort(status). */
export class HttpFault extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string> = {},
    readonly body?: string,
  ) {
    super(`HTTP ${status}`);
  }
}

const HTML_TEXT: Record<number, [string, string]> = {
  400: ["Bad Request", "The browser (or proxy) sent a request that this server could not understand."],
  401: [
    "Unauthorized",
    "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn&#39;t understand how to supply the credentials required.",
  ],
  403: [
    "Forbidden",
    "You don&#39;t have the permission to access the requested resource. It is either read-protected or not readable by the server.",
  ],
  404: [
    "Not Found",
    "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
  ],
  409: ["Conflict", "A conflict happened while processing the request."],
  423: ["Locked", "The resource that is being accessed is locked."],
  429: ["Too Many Requests", "This user has exceeded an allotted request count. Try again later."],
  500: [
    "Internal Server Error",
    "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.",
  ],
  503: [
    "Service Unavailable",
    "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.",
  ],
};

/** Werkzeug's HTML error page. */
export function htmlPage(status: number, description?: string): string {
  const [title, text] = HTML_TEXT[status] ?? ["Error", "Error"];
  return (
    `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n` +
    `<h1>${title}</h1>\n<p>${description ?? text}</p>\n`
  );
}

export function htmlEscape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&#34;")
    .replace(/'/g, "&#39;");
}
