import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_LOGIN } from './admin-login';

/** Debian's Chromium (scripts/test.sh and the bench install it); playwright-core never downloads a browser. */
export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/**
 * What an operator does to watch a rush: opens the gateway's /console, logs in, picks the coupon
 * in the list and waits for its live view to say "live".
 */
export async function watchInConsole(page: Page, gateway: string, couponId: number, admin = ADMIN_LOGIN): Promise<void> {
  await page.goto(`${gateway}/console`);
  const login = page.getByTestId('login');
  await login.locator('input[name=email]').fill(admin.email);
  await login.locator('input[name=password]').fill(admin.password);
  await login.locator('button[type=submit]').click();
  const row = page.getByTestId('coupon-list').locator(`[data-coupon-id="${couponId}"]`);
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.getByRole('button').first().click();
  await page.getByTestId('live-view').waitFor({ state: 'visible' });
  await page.getByTestId('stream-status').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 });
}
