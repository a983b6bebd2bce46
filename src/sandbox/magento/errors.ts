/**
 * Magento 2.4 REST error bodies (reference §8 and fixtures/magento-error-bodies.json).
 * Placeholders (`%fieldName`, `%1`) are returned unsubstituted with `parameters`, as the
 * production-mode ErrorProcessor does; document-validation messages are already joined text.
 */

export class MagentoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === "object" && body && "message" in body ? String(body.message) : `HTTP ${status}`);
  }
}

type Body = { message: string; parameters?: unknown };

const fail = (status: number, body: Body) => new MagentoHttpError(status, body);

export const bodies = {
  routeNotFound: { message: "Request does not match any route." },
  badAdminCredentials: {
    message:
      "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later.",
  },
  twoFactorRequired: {
    message: "Please use the 2fa provider-specific endpoints to obtain a token.",
    parameters: { active_providers: ["google"] },
  },
  oauthBadSignature: { message: "The signature is invalid. Verify and try again." },
  noSuchEntity: { message: "The entity that was requested doesn't exist. Verify the entity and try again." },
  pageSizeOverLimit: { message: "Maximum SearchCriteria pageSize is 300" },
  holdNotAllowed: { message: "A hold action is not available." },
  unholdNotAllowed: { message: "You cannot remove the hold." },
} as const;

/** `RequestValidator::checkPermissions` joins the route's ACL resources with ", " (reference §2.2). */
export function notAuthorized(resources: readonly string[]): MagentoHttpError {
  return fail(401, {
    message: "The consumer isn't authorized to access %resources.",
    parameters: { resources: resources.join(", ") },
  });
}

export function required(fieldName: string): Body {
  return { message: '"%fieldName" is required. Enter and try again.', parameters: { fieldName } };
}

/** One input error is the message itself; several become the aggregate (reference §8). */
export function inputErrors(errors: Body[]): MagentoHttpError {
  if (errors.length === 1) return fail(400, errors[0]);
  return new MagentoHttpError(400, { message: "One or more input exceptions have occurred.", errors });
}

export function badRequest(message: string, parameters?: unknown): MagentoHttpError {
  return fail(400, parameters === undefined ? { message } : { message, parameters });
}

export function notFound(): MagentoHttpError {
  return fail(404, bodies.noSuchEntity);
}

/** ServiceInputProcessor's type check, e.g. `/V1/orders/abc`. */
export function invalidType(value: unknown, type: string): MagentoHttpError {
  return badRequest(
    'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
    {
      value: String(value),
      type,
    },
  );
}

/** ServiceInputProcessor refuses unknown keys of data objects (UpperCamelCase name in the parameter). */
export function unsupportedField(upperCamelName: string): MagentoHttpError {
  return badRequest('"%fieldName" is not supported. Correct the field name and try again.', {
    fieldName: upperCamelName,
  });
}

/** What production mode shows for any unexpected exception (e.g. an SQL error on an unknown column). */
export function internalError(reportId: string): MagentoHttpError {
  return fail(500, {
    message: `Internal Error. Details are available in Magento log file. Report ID: webapi-${reportId}`,
  });
}

export function documentValidation(kind: "Shipment" | "Invoice", messages: string[]): MagentoHttpError {
  return fail(400, { message: `${kind} Document Validation Error(s):\n${messages.join("\n")}` });
}
