/**
 * Raw statements through MikroORM's connection return timestamps as strings (its driver turns off pg's date
 * parsing so the ORM can map dates itself). Hot paths that use raw SQL convert here.
 */
export function sqlDate(value: Date | string): Date;
export function sqlDate(value: Date | string | null): Date | null;
export function sqlDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}
