import fs from 'node:fs';
import { createUsers, type LoadUser } from '@coupon-rush/loadkit';

/** What the plans' CSV Data Set reads (variableNames userId,token): one `userId,token` line per user, no header. */
export function tokenCsv(users: LoadUser[]): string {
  return users.map((u) => `${u.id},${u.token}`).join('\n') + '\n';
}

/** Creates `count` real users (rows in user-service's table) and writes their pre-signed tokens to `file`. */
export async function createTokenCsv(file: string, count: number, prefix: string, database?: string): Promise<LoadUser[]> {
  const users = await createUsers(count, prefix, database);
  // Valid access tokens for half an hour: readable by this user only.
  fs.writeFileSync(file, tokenCsv(users), { mode: 0o600 });
  return users;
}
