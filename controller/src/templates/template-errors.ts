// What template operations refuse with. Each error says what to do in words an operator can act on; the
// API turns them into problem documents (invalid: 422 with `field`, not found: 404, conflict: 409).
import { NotFoundError } from '../errors.js';

/** The document (or the name) is not acceptable; `field` is a JSON path such as 'ca.policy[0].ca'. */
export class TemplateInvalidError extends Error {
  override name = 'TemplateInvalidError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

export class TemplateNotFoundError extends NotFoundError {
  override name = 'TemplateNotFoundError';
}

/** The change cannot be made as asked: the name is taken, the version moved on, the template is archived. */
export class TemplateConflictError extends Error {
  override name = 'TemplateConflictError';
  constructor(message: string, readonly currentVersion: number | null = null) {
    super(message);
  }
}

/** ['ca', 'policy', 0, 'ca'] -> 'ca.policy[0].ca'; keys that are not identifiers are quoted: labels["a/b"]. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(part))) out += out ? `.${String(part)}` : String(part);
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}
