import crypto from 'node:crypto';

/**
 * The signed pass an admitted user claims with: `<couponId>.<userId>.<expiry ms>.<HMAC>`, bound to
 * the user and the coupon, short-lived; single use is the waiting line's (the pass out in Redis is
 * taken when a claim uses it). The key is derived from the platform's internal token secret, so
 * every issue-coupon instance checks what any other (or a gateway) minted, and no other token can pass for one.
 */
export class QueuePasses {
  private readonly key: crypto.KeyObject;

  constructor(internalSecret: string) {
    this.key = crypto.createSecretKey(crypto.createHmac('sha256', internalSecret).update('coupon-rush waiting-room pass').digest());
  }

  private sign(claims: string): string {
    return crypto.createHmac('sha256', this.key).update(claims).digest('base64url');
  }

  mint(couponId: number, userId: number, expiresAt: number): string {
    const claims = `${couponId}.${userId}.${expiresAt}`;
    return `${claims}.${this.sign(claims)}`;
  }

  /** The pass's expiry when it is this user's pass for this coupon and signed by the platform; else undefined. */
  expiryOf(pass: string, couponId: number, userId: number): number | undefined {
    const m = /^(\d{1,16})\.(\d{1,16})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(pass);
    if (!m || Number(m[1]) !== couponId || Number(m[2]) !== userId) return undefined;
    const expected = Buffer.from(this.sign(`${m[1]}.${m[2]}.${m[3]}`));
    if (!crypto.timingSafeEqual(expected, Buffer.from(m[4]))) return undefined;
    return Number(m[3]);
  }
}
