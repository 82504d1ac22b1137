import { campaignList } from './campaign-list';
import { couponList } from './coupon-list';
import { h } from './dom';
import { newCouponForm } from './new-coupon-form';
import type { View } from './view';

/** The coupons (with the form to add one) and the campaigns. */
export function homeView(watch: (id: number) => void): View {
  const stop = new AbortController();
  const coupons = couponList(stop.signal, watch);
  const campaigns = campaignList(stop.signal);
  const heading = h('h2', { id: 'coupons-title', tabindex: -1 }, 'Coupons');
  const form = newCouponForm(stop.signal, (id) => void coupons.refresh().then(() => watch(id)));
  const el = h(
    'div',
    { class: 'home' },
    h('section', { class: 'coupons', 'aria-labelledby': 'coupons-title' }, heading, coupons.el),
    h('section', { class: 'create' }, form),
    h('section', { class: 'campaigns', 'aria-labelledby': 'campaigns-title' }, h('h2', { id: 'campaigns-title' }, 'Campaigns'), campaigns.el),
  );
  void coupons.refresh();
  void campaigns.refresh();
  return { el, focus: heading, unmount: () => stop.abort() };
}
