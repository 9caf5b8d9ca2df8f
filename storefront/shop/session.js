// Who is signed in. On the local stack: a demo customer whose token the stack minted (config.js
// lists them). In AWS: the Cognito user pool's hosted UI, authorization code flow with PKCE;
// its ID token is the API's bearer token and its `sub` the customer id. Whether to show the
// admin pages is read from the demo entry's `admin` flag or the token's `cognito:groups`: it
// only decides what the page offers, the API decides what anyone may do.

import config from './config.js';

const KEY = 'shop.session';
const PENDING = 'shop.signin';

/** @typedef {{customerId: string, name: string, token: string, admin?: boolean}} Session */

/** The user pool group whose members run the shop (template.yaml, AdminGroup). */
const ADMIN_GROUP = 'admin';

/** @returns {Session | null} */
export function currentSession() {
  try {
    const session = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    if (session && expiresAt(session.token) > Date.now()) return session;
  } catch {
    // an unreadable session is no session
  }
  return null;
}

/** Whether the signed-in person runs the shop: the admin pages are offered to them. */
export function isAdmin() {
  const session = currentSession();
  if (!session) return false;
  if (session.admin === true) return true;
  try {
    const groups = payload(session.token)['cognito:groups'];
    return Array.isArray(groups) && groups.includes(ADMIN_GROUP);
  } catch {
    return false;
  }
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  const hosted = config.signIn?.hostedUi;
  if (hosted) {
    const query = new URLSearchParams({ client_id: hosted.clientId, logout_uri: hosted.redirectUri });
    location.assign(`${hosted.domain}/logout?${query}`);
  }
}

/** @returns {{id: string, name: string, admin: boolean}[]} the local stack's demo accounts */
export function demoCustomers() {
  return (config.signIn?.demo ?? []).map(({ id, name, admin }) => ({ id, name, admin: admin === true }));
}

export function hasHostedSignIn() {
  return Boolean(config.signIn?.hostedUi);
}

/** @param {string} customerId one of demoCustomers() */
export function signInAsDemoCustomer(customerId) {
  const customer = (config.signIn?.demo ?? []).find((c) => c.id === customerId);
  if (!customer) throw new Error('unknown demo customer');
  store({ customerId: customer.id, name: customer.name, token: customer.token, admin: customer.admin === true });
}

/** Sends the browser to the hosted sign-in page. */
export async function signInWithHostedUi() {
  const hosted = config.signIn.hostedUi;
  const verifier = randomText();
  const state = randomText();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: hosted.clientId,
    redirect_uri: hosted.redirectUri,
    scope: 'openid email',
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: 'S256',
  });
  location.assign(`${hosted.domain}/oauth2/authorize?${query}`);
}

/** After the hosted UI sent the browser back with `?code=&state=`: trade the code for tokens. */
export async function completeHostedSignIn() {
  const hosted = config.signIn?.hostedUi;
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (!hosted || !code) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', location.pathname + location.hash);
  if (!pending || pending.state !== params.get('state')) throw new Error('The sign-in could not be verified. Please sign in again.');
  const response = await fetch(`${hosted.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: hosted.clientId,
      code,
      redirect_uri: hosted.redirectUri,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error('The sign-in failed. Please sign in again.');
  const { id_token: token } = await response.json();
  const claims = payload(token);
  store({ customerId: claims.sub, name: claims.email ?? 'you', token });
  return true;
}

function store(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

function payload(token) {
  const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(part));
}

function expiresAt(token) {
  return Number(payload(token).exp) * 1000;
}

function randomText() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
