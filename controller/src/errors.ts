// Typed errors of the controller. Each says what went wrong in words an operator can act on; `cause`
// keeps the underlying error for logs.

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export class UnauthenticatedError extends Error {
  override name = 'UnauthenticatedError';
}

export class PermissionDeniedError extends Error {
  override name = 'PermissionDeniedError';
}

export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
}

export function isError(value: unknown): value is Error {
  return value instanceof Error;
}

export function errorMessage(value: unknown): string {
  return isError(value) ? value.message : String(value);
}
