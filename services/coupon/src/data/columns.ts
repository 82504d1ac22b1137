import type { Knex } from 'knex';

/** A DATETIME column as the API shows it: mysql2 reads a Date, a raw query may give text. */
export const isoTime = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();

/** One page of a table's rows, newest (highest id) first, and the count of every row `rows` selects. */
export async function newestFirst<T>(rows: () => Knex.QueryBuilder, page: number, size: number, toItem: (row: Record<string, any>) => T): Promise<{ items: T[]; total: number }> {
  const [found, [{ total }]] = await Promise.all([
    rows()
      .orderBy('id', 'desc')
      .limit(size)
      .offset(page * size),
    rows().count({ total: '*' }),
  ]);
  return { items: (found as Array<Record<string, any>>).map(toItem), total: Number(total) };
}
