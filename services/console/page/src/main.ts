import { onSessionEnded } from './api';
import { homeView } from './home-view';
import { liveView } from './live-view';
import { loginView } from './login-view';
import { currentSession, endSession } from './session';
import type { View } from './view';

// The live view's address is in the hash (#/coupons/7): a reload or the Back button returns to
// it, and the page needs no route of its own from the gateway beyond /console/.
const LIVE_ROUTE = /^#\/coupons\/(\d+)$/;

const app = document.getElementById('app') as HTMLElement;
const who = document.getElementById('who') as HTMLElement;
const signOut = document.getElementById('sign-out') as HTMLButtonElement;

let current: (View & { login?: true }) | null = null;

/** The old view goes first: its stream is closed before the next view can open one. */
function show(next: () => View & { login?: true }, moveFocus: boolean): void {
  current?.unmount();
  current = next();
  app.replaceChildren(current.el);
  if (moveFocus) current.focus.focus();
}

function showLogin(message: string | null): void {
  who.textContent = '';
  signOut.hidden = true;
  show(() => ({ ...loginView(message, () => route(true)), login: true }), true);
}

function route(moveFocus: boolean): void {
  const session = currentSession();
  if (!session) return showLogin(null);
  who.textContent = session.email ? `Signed in as ${session.email}` : 'Signed in';
  signOut.hidden = false;
  const live = LIVE_ROUTE.exec(location.hash);
  const watch = (id: number) => (location.hash = `#/coupons/${id}`);
  if (live) return show(() => liveView(Number(live[1]), () => (location.hash = '#/')), moveFocus);
  show(() => homeView(watch), moveFocus);
}

onSessionEnded((problem) => {
  endSession();
  // Several calls can be refused at once (the list and the campaigns): one login form is enough.
  if (current?.login) return;
  const why = problem.status === 403 ? 'This account may not use the console' : 'Your session has ended';
  showLogin(`${why} (${problem.code}: ${problem.detail}). Please sign in again.`);
});

signOut.addEventListener('click', () => {
  endSession();
  showLogin('Signed out.');
});

window.addEventListener('hashchange', () => {
  if (!current?.login) route(true);
});

route(false);
