// The shop's HTTP API: one function per call, and one error type that says in words what went
// wrong (the API's errors use the NestJS services' format, {statusCode, message, errors?}, with
// a `code` to decide by: the message is for people and may be reworded). Besides, the one call
// the shopper's browser makes to the payment provider: confirming an order's payment.

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
    /** The API's `code` (e.g. `insufficient_stock`), to decide by; empty when it sent none. */
    this.code = '';
  }
}

/**
 * @param {string} path e.g. "/products?category=Kitchen"
 * @param {{method?: string, body?: unknown, headers?: Record<string, string>, conflict?: (message: string, code: string) => string}} [options]
 *   `conflict` says a 409 in the words of what was being done
 * @returns {Promise<{body: any, headers: Headers, text: string}>}
 */
async function call(path, { method = 'GET', body, headers = {}, conflict } = {}) {
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
  if (!response.ok) throw describe(response, parsed, conflict);
  return { body: parsed, headers: response.headers, text };
}

/** The API's message as a sentence of its own. */
function sentence(message) {
  const text = message.trim();
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The API's refusal, in words. */
function describe(response, body, conflict) {
  const message = body && typeof body.message === 'string' ? body.message : response.statusText;
  const details = body && Array.isArray(body.errors) ? body.errors.map(String) : [];
  const code = body && typeof body.code === 'string' ? body.code : '';
  const error = describeStatus(response, message, details, code, conflict);
  error.code = code;
  return error;
}

function describeStatus(response, message, details, code, conflict) {
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
      return new ApiError(409, conflict ? conflict(message, code) : `That could not be done. ${sentence(message)}`);
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
 * How the shop ships, and what each way costs.
 * @returns {Promise<{id: string, name: string, price: number}[]>}
 */
export async function listShippingMethods() {
  return (await call('/shipping-methods')).body;
}

/**
 * @param {{productId: string, quantity: number}[]} items
 * @param {{fullName: string, street: string, city: string, zipCode: string, country: string}} shippingAddress
 * @param {string} shippingMethod one of listShippingMethods()
 * @param {string} idempotencyKey the same key for retries of this checkout
 */
export async function placeOrder(items, shippingAddress, shippingMethod, idempotencyKey) {
  const { body } = await call('/orders', {
    method: 'POST',
    body: { items, shippingAddress, shippingMethod },
    headers: { 'Idempotency-Key': idempotencyKey },
    conflict: (message, code) => (code === 'insufficient_stock'
      ? `Not enough stock. ${message}. Lower the quantity and try again.`
      : `Your order was not placed. ${sentence(message)}`),
  });
  return body;
}

/**
 * One page of orders, newest first: the customer's own, or for an admin everyone's.
 * @returns {Promise<{data: {id: string, customerId: string, total: number, status: string, createdAt: string}[], meta: {total?: number, nextCursor?: string}}>}
 */
export async function listOrders({ status = '', cursor = '', limit = 10 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  return (await call(`/orders?${query}`)).body;
}

/** The order with its lines and its history. */
export async function getOrder(orderId) {
  return (await call(`/orders/${encodeURIComponent(orderId)}`)).body;
}

/** Cancels the order (its stock goes back on sale); `reason` may be empty. */
export async function cancelOrder(orderId, reason) {
  return (await call(`/orders/${encodeURIComponent(orderId)}/cancel`, {
    method: 'POST',
    body: reason ? { reason } : undefined,
    conflict: (message) => `The order was not cancelled. ${sentence(message)} It has moved on meanwhile: it is shown as it is now.`,
  })).body;
}

/**
 * An admin moves the order on: PROCESSING (once its payment, if it takes one, is authorised),
 * SHIPPED (with a tracking reference; its payment is captured) or DELIVERED.
 */
export async function moveOrder(orderId, status, trackingReference = '') {
  const body = { status };
  if (trackingReference) body.trackingReference = trackingReference;
  return (await call(`/orders/${encodeURIComponent(orderId)}`, {
    method: 'PATCH',
    body,
    conflict: (message, code) => {
      switch (code) {
        case 'payment_not_authorized':
          return `The order was not moved: the customer has not paid for it yet. ${sentence(message)} It can be processed once the payment is authorised.`;
        case 'payment_refused':
          return `The order was not moved: its payment could not be taken. ${sentence(message)}`;
        default:
          return `The order was not moved. ${sentence(message)} Someone else changed it first: it is shown as it is now.`;
      }
    },
  })).body;
}

/**
 * An admin gives back some or all of what the order's payment captured (never more than is
 * left); the order as it is after, its payment refunded by the amount.
 * @param {string} amount decimal text, e.g. "10.00" (money.js centsToDecimal)
 * @param {string} reason may be empty
 */
export async function refundOrder(orderId, amount, reason) {
  const body = { amount };
  if (reason) body.reason = reason;
  return (await call(`/orders/${encodeURIComponent(orderId)}/refunds`, {
    method: 'POST',
    body,
    conflict: (message, code) => {
      switch (code) {
        case 'refund_exceeds_captured':
          return `Nothing was refunded: that is more than is left to refund. ${sentence(message)}`;
        case 'no_payment':
          return 'Nothing was refunded: this order took no payment.';
        case 'payment_refused':
          return `Nothing was refunded: the payment provider refused. ${sentence(message)}`;
        default:
          return `Nothing was refunded. ${sentence(message)}`;
      }
    },
  })).body;
}

/**
 * Confirms an order's payment at the payment provider, from the shopper's browser, as
 * Stripe.js does: the intent's client secret and a payment method, sent with the provider's
 * publishable key (what the order's `payment` shows its customer while it waits for them).
 * A declined card is an answer, not an error: `{declined: true, reason, message}` (`reason`
 * the provider's decline code, e.g. `insufficient_funds`); otherwise `{declined: false,
 * status}`, the provider's status of the payment (`requires_capture`: authorised). The shop
 * learns of either from the provider a moment later.
 * @param {{confirmUrl: string, clientSecret: string, publishableKey: string}} payment
 * @param {string} paymentMethod e.g. "pm_card_visa"
 * @returns {Promise<{declined: false, status: string} | {declined: true, reason: string, message: string}>}
 */
export async function confirmPayment(payment, paymentMethod) {
  let response;
  try {
    response = await fetch(payment.confirmUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${payment.publishableKey}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ payment_method: paymentMethod, client_secret: payment.clientSecret }).toString(),
    });
  } catch {
    throw new ApiError(0, 'The payment provider could not be reached. Check your connection and try again.');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.ok) return { declined: false, status: String(body?.status ?? '') };
  const error = body && typeof body.error === 'object' && body.error ? body.error : {};
  const message = typeof error.message === 'string' ? error.message : response.statusText;
  if (response.status === 402 && error.type === 'card_error') {
    return { declined: true, reason: String(error.decline_code ?? error.code ?? ''), message };
  }
  const failure = new ApiError(response.status, `The payment was not made: ${sentence(message)} Please try again.`);
  failure.code = typeof error.code === 'string' ? error.code : '';
  throw failure;
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

/** The customer's profile, or null when they have none (yet, or any more). */
export async function getProfile(customerId) {
  try {
    return (await call(`/customers/${encodeURIComponent(customerId)}`)).body;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export async function updateProfile(customerId, profile) {
  return (await call(`/customers/${encodeURIComponent(customerId)}`, { method: 'PATCH', body: profile })).body;
}

/**
 * Everything the shop holds about the customer, exactly as the API wrote it: its one page, or,
 * for a long history, a JSON array of its pages in order (each page names the next).
 */
export async function exportCustomer(customerId) {
  const pages = [];
  let cursor = '';
  do {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    const page = await call(`/customers/${encodeURIComponent(customerId)}/export${query}`);
    pages.push(page.text);
    cursor = page.body && page.body.nextCursor ? page.body.nextCursor : '';
  } while (cursor);
  return pages.length === 1 ? pages[0] : `[${pages.join(',\n')}]`;
}

/** Erases the customer's personal data and their sign-in. */
export async function deleteCustomer(customerId) {
  await call(`/customers/${encodeURIComponent(customerId)}`, { method: 'DELETE' });
}

/**
 * @param {{sku?: string, name: string, description?: string, price: string, stock: number, category: string}} product
 *   the price as decimal text, e.g. "19.99"
 */
export async function createProduct(product) {
  return (await call('/products', {
    method: 'POST',
    body: product,
    conflict: (message) => `The product was not added. ${sentence(message)} Choose another SKU.`,
  })).body;
}

/** @param {{name?: string, description?: string, price?: string, category?: string}} changes */
export async function updateProduct(productId, changes) {
  return (await call(`/products/${encodeURIComponent(productId)}`, { method: 'PATCH', body: changes })).body;
}

/** Takes the product off sale. */
export async function retireProduct(productId) {
  await call(`/products/${encodeURIComponent(productId)}`, { method: 'DELETE' });
}

/** Adds units (or takes them out, with a negative delta); never below zero. */
export async function adjustStock(productId, delta, reason) {
  const body = { delta };
  if (reason) body.reason = reason;
  return (await call(`/products/${encodeURIComponent(productId)}/stock-adjustments`, {
    method: 'POST',
    body,
    conflict: (message) => `The stock was not changed. ${sentence(message)}`,
  })).body;
}

// --- webhooks (admin) --------------------------------------------------------------------

/** The endpoints, without their secrets: `{data: [...], meta}`. */
export async function listWebhooks() {
  return (await call('/webhooks?limit=100')).body;
}

/**
 * Registers an endpoint; the answer holds its signing secret, shown this once.
 * @param {{url: string, events: string[], description?: string}} endpoint
 */
export async function createWebhook(endpoint) {
  return (await call('/webhooks', {
    method: 'POST',
    body: endpoint,
    conflict: (message) => `The endpoint was not added. ${sentence(message)}`,
  })).body;
}

/** @param {{events?: string[], description?: string, enabled?: boolean}} changes */
export async function updateWebhook(webhookId, changes) {
  return (await call(`/webhooks/${encodeURIComponent(webhookId)}`, { method: 'PATCH', body: changes })).body;
}

export async function deleteWebhook(webhookId) {
  await call(`/webhooks/${encodeURIComponent(webhookId)}`, { method: 'DELETE' });
}

/** A new secret, shown this once; the old one signs too for a day. */
export async function rotateWebhookSecret(webhookId) {
  return (await call(`/webhooks/${encodeURIComponent(webhookId)}/rotate-secret`, { method: 'POST' })).body;
}

/** The endpoint's deliveries, newest first: `{data: [...], meta}`. */
export async function listWebhookDeliveries(webhookId) {
  return (await call(`/webhooks/${encodeURIComponent(webhookId)}/deliveries?limit=50`)).body;
}

export async function retryWebhookDelivery(webhookId, deliveryId) {
  return (await call(`/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(deliveryId)}/retry`, {
    method: 'POST',
    conflict: (message) => `Not retried. ${sentence(message)}`,
  })).body;
}
