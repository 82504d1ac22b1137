import { asProblem, createCoupon, isAbort } from './api';
import { h, isBusy, showProblem, whileBusy } from './dom';
import { fromLocalInput, toLocalInput } from './format';

const HOUR_MS = 3_600_000;

function field(id: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintEl);
}

/** The "New coupon" form; created gets the new coupon's id. */
export function newCouponForm(signal: AbortSignal, created: (id: number) => void): HTMLElement {
  const title = h('input', { id: 'coupon-title', name: 'title', required: true, maxlength: 100, autocomplete: 'off' });
  const quantity = h('input', { id: 'coupon-quantity', name: 'totalQuantity', type: 'number', min: 1, step: 1, value: 100, required: true, inputmode: 'numeric' });
  const unlimited = h('input', { id: 'coupon-unlimited', name: 'unlimited', type: 'checkbox' });
  const discount = h('input', { id: 'coupon-discount', name: 'discountAmount', type: 'number', min: 0, step: 1, value: 1000, required: true, inputmode: 'numeric' });
  const start = h('input', { id: 'coupon-start', name: 'issueStartAt', type: 'datetime-local', required: true });
  const end = h('input', { id: 'coupon-end', name: 'issueEndAt', type: 'datetime-local', required: true });
  const submit = h('button', { type: 'submit' }, 'Create coupon');
  const problem = h('p', { class: 'problem', role: 'alert', hidden: true });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  // The window defaults to "open now, for an hour": the usual rehearsal of a rush.
  const defaults = () => {
    const now = new Date();
    start.value = toLocalInput(now);
    end.value = toLocalInput(new Date(now.getTime() + HOUR_MS));
  };
  defaults();
  unlimited.addEventListener('change', () => {
    quantity.disabled = unlimited.checked;
  });
  // The server checks the window too; saying it here keeps the operator in the form.
  const checkWindow = () => end.setCustomValidity(start.value && end.value && end.value <= start.value ? 'The window must end after it starts.' : '');
  start.addEventListener('input', checkWindow);
  end.addEventListener('input', checkWindow);

  const form = h(
    'form',
    { class: 'new-coupon', 'aria-labelledby': 'new-coupon-title' },
    h('h2', { id: 'new-coupon-title' }, 'New coupon'),
    field('coupon-title', 'Title', title),
    h(
      'fieldset',
      { class: 'quantity' },
      h('legend', {}, 'Quantity'),
      field('coupon-quantity', 'Number of coupons', quantity),
      h('div', { class: 'check' }, unlimited, h('label', { for: 'coupon-unlimited' }, 'Unlimited')),
    ),
    field('coupon-discount', 'Discount amount', discount, 'In the smallest currency unit, e.g. 1000.'),
    h('fieldset', {}, h('legend', {}, 'Issue window'), field('coupon-start', 'Opens', start, `Your time zone: ${zone}.`), field('coupon-end', 'Closes', end)),
    problem,
    h('div', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (isBusy(submit)) return;
    checkWindow();
    if (!form.reportValidity()) return;
    const issueStartAt = fromLocalInput(start.value);
    const issueEndAt = fromLocalInput(end.value);
    if (issueStartAt === null || issueEndAt === null) return;
    showProblem(problem, null);
    const coupon = { title: title.value.trim(), totalQuantity: unlimited.checked ? null : quantity.valueAsNumber, discountAmount: discount.valueAsNumber, issueStartAt, issueEndAt };
    void whileBusy(submit, async () => {
      try {
        const { id } = await createCoupon(coupon, signal);
        form.reset();
        quantity.disabled = false;
        defaults();
        created(id);
      } catch (err) {
        if (!isAbort(err)) showProblem(problem, asProblem(err), 'Not created: ');
      }
    });
  });
  return form;
}
