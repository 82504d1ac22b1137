/** The admin user-service seeds: its dev-profile password unless ADMIN_PASSWORD says otherwise. */
export const ADMIN_LOGIN = { email: 'admin@coupon.local', password: process.env.ADMIN_PASSWORD ?? 'admin1234!' };
