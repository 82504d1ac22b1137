/** A DATETIME column as the API shows it: mysql2 reads a Date, a raw query may give text. */
export const isoTime = (value: Date | string) => (value instanceof Date ? value : new Date(value)).toISOString();
