import { asProblem, logIn } from './api';
import { h, isBusy, showProblem, whileBusy } from './dom';
import { startSession } from './session';
import type { View } from './view';

const DEV_ADMIN_EMAIL = 'admin@coupon.local';

/** The sign-in form; message says why it is shown again (a session that ended). */
export function loginView(message: string | null, signedIn: () => void): View {
  const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true, value: DEV_ADMIN_EMAIL });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const error = h('p', { class: 'problem', role: 'alert', hidden: true });
  const notice = h('p', { class: 'notice', role: 'alert', hidden: message === null }, message ?? '');
  const heading = h('h2', { id: 'login-title' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login', 'data-testid': 'login', 'aria-labelledby': 'login-title' },
    heading,
    notice,
    h('p', {}, 'An admin account sees the console.'),
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    error,
    h('div', { class: 'actions' }, submit),
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (isBusy(submit)) return;
    showProblem(error, null);
    void whileBusy(submit, async () => {
      try {
        startSession(await logIn(email.value.trim(), password.value), email.value.trim());
      } catch (err) {
        const problem = asProblem(err);
        showProblem(error, problem, problem.status === 401 ? 'Wrong email or password: ' : 'Could not sign in: ');
        password.select();
        return;
      }
      signedIn();
    });
  });

  return { el: h('section', { class: 'login-view' }, form), focus: password, unmount() {} };
}
