// The shop's HTTP API: one function per call, and one error type that says in words what went
// wrong (the API's errors use the seed's format: {statusCode, message, errors?}).

import config from './config.js';
import { currentSession } from './session.js';

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message what to tell the person
   * @param {string[]} details the API's `errors` list, if any
   */
  constructor(status, message, details = []) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

/**
 * @param {string} path e.g. "/products?category=Kitchen"
 * @param {{method?: string, body?: unknown, headers?: Record<string, string>}} [options]
 * @returns {Promise<{body: any, headers: Headers}>}
 */
async function call(path, { method = 'GET', body, headers = {} } = {}) {
  const session = currentSession();
  const sent = { ...headers };
  if (session) sent.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${config.apiBase}${path}`, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'The shop could not be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) throw describe(response, parsed);
  return { body: parsed, headers: response.headers };
}

/** The API's refusal, in words. */
function describe(response, body) {
  const message = body && typeof body.message === 'string' ? body.message : response.statusText;
  const details = body && Array.isArray(body.errors) ? body.errors.map(String) : [];
  switch (response.status) {
    case 400:
      return new ApiError(400, 'Please correct the following and try again:', details.length ? details : [message]);
    case 401:
      return new ApiError(401, 'Please sign in: your session is missing or has expired.');
    case 403:
      return new ApiError(403, 'You are signed in, but not allowed to do that.');
    case 404:
      return new ApiError(404, `Not found: ${message}.`);
    case 409:
      return new ApiError(409, `Not enough stock. ${message}. Lower the quantity and try again.`);
    case 422:
      return new ApiError(422, `The request was refused: ${message}.`);
    case 429: {
      const wait = Number(response.headers.get('Retry-After')) || 60;
      return new ApiError(429, `Too many requests. Please wait ${wait} seconds and try again.`);
    }
    default:
      return new ApiError(response.status, `Something went wrong on our side (${response.status}). Please try again.`);
  }
}

/** One page of the catalogue, optionally of one category. */
export async function listProducts({ category = '', cursor = '', limit = 50 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (category) query.set('category', category);
  if (cursor) query.set('cursor', cursor);
  const { body, headers } = await call(`/products?${query}`);
  return { products: body, nextCursor: headers.get('X-Next-Cursor') ?? '' };
}

/**
 * @param {{productId: string, quantity: number}[]} items
 * @param {string} idempotencyKey the same key for retries of this checkout
 */
export async function placeOrder(items, idempotencyKey) {
  const { body } = await call('/orders', {
    method: 'POST',
    body: { items },
    headers: { 'Idempotency-Key': idempotencyKey },
  });
  return body;
}

export async function listOrders() {
  return (await call('/orders?limit=10')).body;
}

/** The customer's statistics, or null before their first order is counted. */
export async function customerStats(customerId) {
  try {
    return (await call(`/customers/${encodeURIComponent(customerId)}/orders`)).body;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function updateProfile(customerId, profile) {
  return (await call(`/customers/${encodeURIComponent(customerId)}`, { method: 'PATCH', body: profile })).body;
}
