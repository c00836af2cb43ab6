// MikroORM (knex) expands a JavaScript array bound to `?` into a list of parameters, so `= any(?)`
// would receive "a, b" instead of one array. Bind arrays as one Postgres array literal instead:
// `= any(?::uuid[])` with `pgArray(ids)`.
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => `"${String(v).replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}
