import type { LoginAnswer } from './types';

// sessionStorage, not localStorage: a reload keeps the operator signed in, closing the tab ends it.
const KEY = 'coupon-rush.console.session';

interface Session {
  token: string;
  email: string;
  /** Epoch ms; a stored token past it is not offered to the gateway. */
  expiresAt: number;
}

let current: Session | null = restore();

function restore(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || typeof s.expiresAt !== 'number' || s.expiresAt <= Date.now()) return null;
    return { token: s.token, email: typeof s.email === 'string' ? s.email : '', expiresAt: s.expiresAt };
  } catch {
    // Storage can be disabled (privacy settings): the session then lives in memory only.
    return null;
  }
}

export function currentSession(): Session | null {
  if (current && current.expiresAt <= Date.now()) endSession();
  return current;
}

export function startSession(answer: LoginAnswer, email: string): void {
  current = { token: answer.accessToken, email, expiresAt: Date.now() + answer.expiresIn * 1000 };
  try {
    sessionStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    // See restore().
  }
}

export function endSession(): void {
  current = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // See restore().
  }
}
