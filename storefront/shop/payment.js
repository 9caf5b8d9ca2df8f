// An order's payment as people see it: in words for its customer (on the confirmation and on
// "my orders") and in short for the shop's admins, with its amounts. While the payment waits
// for the customer (the order still CREATED), they pay it here with one of the payment
// provider's test cards: the browser confirms it at the provider (api.confirmPayment), the
// shop hears of it from the provider a moment later, so the order is read again every 500 ms,
// for up to 20 s, until its payment has moved on.

import * as api from './api.js';
import { clearMessages, h, showError, showNotice, uniqueId } from './dom.js';
import { formatAmount, formatCents, toCents } from './money.js';

/** @typedef {{provider: string, status: string, authorized: number, captured: number, refunded: number, intentId?: string, payBy: string, declineReason?: string, clientSecret?: string, publishableKey?: string, confirmUrl?: string}} Payment */

/** The payment provider's test cards (Stripe's test payment methods): no real card is charged. */
const TEST_CARDS = [
  { method: 'pm_card_visa', label: 'Visa (pays)' },
  { method: 'pm_card_chargeDeclined', label: 'Declined card' },
  { method: 'pm_card_chargeDeclinedInsufficientFunds', label: 'Insufficient funds' },
];

/** The provider's decline codes, in words (none for a decline that gives no reason); any other
 * is shown as it is, without underscores. */
const DECLINES = {
  insufficient_funds: 'insufficient funds',
  generic_decline: '',
  card_declined: '',
  do_not_honor: 'the card\'s bank refused the payment',
  expired_card: 'the card has expired',
  incorrect_cvc: 'the card\'s security code is wrong',
  lost_card: 'the card was reported lost',
  stolen_card: 'the card was reported stolen',
  processing_error: 'the card could not be processed',
};

/** How often, and for how long, the order is read again after a payment was sent. */
const POLL_EVERY_MS = 500;
const POLL_FOR_MS = 20_000;

/**
 * Why a card was declined, to follow "declined" (": insufficient funds"); nothing when the
 * provider gave no reason.
 * @param {string | undefined} reason the provider's decline code, e.g. "insufficient_funds"
 */
export function declineText(reason) {
  const text = reason ? DECLINES[reason] ?? reason.replaceAll('_', ' ') : '';
  return text ? `: ${text}` : '';
}

/** When the payment is due, as a <time>: the time of day, and the date unless it is today. */
function dueTime(timestamp) {
  const at = new Date(timestamp);
  const text = at.toDateString() === new Date().toDateString()
    ? at.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit' })
    : at.toLocaleString('en-US', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
  return h('time', { datetime: timestamp, title: at.toLocaleString('en-US') }, text);
}

/** Whether the payment still waits for the customer (and the order for its payment). */
function awaited(order) {
  return order.status === 'CREATED' && ['PENDING', 'FAILED'].includes(order.payment?.status ?? '');
}

/** Whether the customer can pay it here: it waits for them, and the provider's intent is open. */
function payable(order) {
  const payment = order.payment;
  return awaited(order) && Boolean(payment?.confirmUrl && payment.clientSecret && payment.publishableKey);
}

/**
 * The order's payment in a sentence, for its customer.
 * @param {{status: string, total: number | string, payment?: Payment}} order
 * @param {string} [declined] the reason of the customer's last attempt, when this page made it
 * @returns {(Node | string)[]}
 */
export function customerWords(order, declined) {
  const payment = order.payment;
  if (!payment) return [];
  const authorized = formatCents(toCents(payment.authorized));
  const captured = formatCents(toCents(payment.captured));
  const refunded = formatCents(toCents(payment.refunded));
  switch (payment.status) {
    case 'PENDING':
      return awaited(order)
        ? ['Payment: waiting for you to pay, by ', dueTime(payment.payBy), '.']
        : ['Payment: none was taken.'];
    case 'FAILED': {
      const reason = declineText(declined ?? payment.declineReason);
      return awaited(order)
        ? [`Payment declined${reason}. You can pay with another card until `, dueTime(payment.payBy), '.']
        : [`Payment declined${reason}. None was taken.`];
    }
    case 'AUTHORIZED':
      return [`Payment authorised: ${authorized} is held on your card, and taken when your order ships.`];
    case 'CAPTURED':
      return [`Paid: ${captured}.`];
    case 'PARTIALLY_REFUNDED':
      return [`Partly refunded: ${refunded} of the ${captured} you paid.`];
    case 'REFUNDED':
      return [`Refunded: ${refunded}.`];
    case 'VOIDED':
      return ['Payment released: nothing was taken from your card.'];
    default:
      return [`Payment: ${payment.status}.`];
  }
}

/**
 * The payment's status in short, for the shop's admins.
 * @param {{status: string, payment?: Payment}} order
 * @returns {(Node | string)[]}
 */
export function adminWords(order) {
  const payment = order.payment;
  if (!payment) return ['None (the order takes no payment)'];
  switch (payment.status) {
    case 'PENDING':
      return awaited(order) ? ['Waiting for the customer to pay, by ', dueTime(payment.payBy)] : ['Not paid'];
    case 'FAILED':
      return awaited(order)
        ? [`Declined${declineText(payment.declineReason)}; the customer may pay again until `, dueTime(payment.payBy)]
        : [`Declined${declineText(payment.declineReason)}`];
    case 'AUTHORIZED':
      return ['Authorised: captured when the order ships'];
    case 'CAPTURED':
      return ['Paid (captured)'];
    case 'PARTIALLY_REFUNDED':
      return [`Partly refunded: ${formatCents(toCents(payment.refunded))}`];
    case 'REFUNDED':
      return ['Refunded'];
    case 'VOIDED':
      return ['Released (voided): nothing was taken'];
    default:
      return [payment.status];
  }
}

/**
 * The order's payment as the shop's admins see it: where it is, and its amounts. Hidden until
 * `update` gives it the order.
 * @returns {{element: HTMLElement, update: (order: any) => void}}
 */
export function adminPayment() {
  const element = h('dl', { class: 'facts payment-facts', hidden: true });
  const fact = (term, value, className) => h('div', {}, h('dt', {}, term), h('dd', { class: className }, ...value));
  return {
    element,
    update(order) {
      const payment = order.payment;
      element.replaceChildren(fact('Payment', adminWords(order), 'payment-status'), ...(payment ? [
        fact('Authorised', [formatAmount(payment.authorized)], 'amount-text payment-authorized'),
        fact('Captured', [formatAmount(payment.captured)], 'amount-text payment-captured'),
        fact('Refunded', [formatAmount(payment.refunded)], 'amount-text payment-refunded'),
      ] : []));
      element.hidden = false;
    },
  };
}

/** What may still be refunded of the payment, in cents. */
export function refundableCents(payment) {
  if (!payment || !['CAPTURED', 'PARTIALLY_REFUNDED'].includes(payment.status)) return 0;
  return Math.max(0, toCents(payment.captured) - toCents(payment.refunded));
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/**
 * The order read again until `settled(order)`, every POLL_EVERY_MS for up to POLL_FOR_MS;
 * `{order, settled}` with the last order read (null if none could be).
 */
async function readUntil(orderId, settled) {
  const deadline = Date.now() + POLL_FOR_MS;
  let order = null;
  let failure = null;
  while (Date.now() < deadline) {
    await sleep(POLL_EVERY_MS);
    try {
      order = await api.getOrder(orderId);
      failure = null;
      if (settled(order)) return { order, settled: true };
    } catch (error) {
      failure = error;
      if (error instanceof api.ApiError && [401, 403, 404].includes(error.status)) break;
    }
  }
  if (!order && failure) throw failure;
  return { order, settled: false };
}

/**
 * The order's payment as its customer sees it: a sentence saying where it is and, while it
 * waits for them, the form that pays it. Hidden for an order that takes no payment.
 * @param {{name: string, changed: (order: any) => void}} options `name` says which order, in
 *   the form's name ("order 1a2b3c4d"); `changed` hears the order as read after a payment
 *   (the owner redraws, calling `update` with it)
 * @returns {{element: HTMLElement, update: (order: any) => void}}
 */
export function customerPayment({ name, changed }) {
  const statusLine = h('p', { class: 'payment-status', tabindex: '-1' });
  const group = uniqueId('card');
  const hintId = `${group}-hint`;
  const radios = TEST_CARDS.map((card, index) => {
    const radio = h('input', { type: 'radio', id: `${group}-${index}`, name: group, value: card.method });
    radio.defaultChecked = index === 0;
    radio.checked = index === 0;
    return radio;
  });
  const button = h('button', { type: 'submit' });
  const form = h('form', { class: 'inline-form pay-form', 'aria-label': `Pay for ${name}`, onsubmit: (event) => { event.preventDefault(); pay(); } },
    h('fieldset', { 'aria-describedby': hintId },
      h('legend', {}, 'Pay with'),
      h('p', { id: hintId, class: 'field-hint' }, 'These are the payment provider\'s test cards: no real card is charged.'),
      ...radios.map((radio, index) => h('div', { class: 'choice' }, radio, h('label', { for: radio.id }, TEST_CARDS[index].label)))),
    h('div', { class: 'actions' }, button));
  const element = h('div', { class: 'payment', hidden: true }, statusLine, form);
  const state = { order: null, busy: false, /** this page's last decline, while the payment is FAILED */ declined: undefined, opening: 0 };

  function update(order) {
    state.order = order;
    if (order.payment?.status !== 'FAILED') state.declined = undefined;
    element.hidden = !order.payment;
    statusLine.className = `payment-status payment-${(order.payment?.status ?? 'none').toLowerCase()}`;
    statusLine.replaceChildren(...customerWords(order, state.declined));
    form.hidden = !payable(order);
    if (!state.busy) button.textContent = `Pay ${formatAmount(order.total)}`;
    // Just placed, its payment not open at the provider yet: reading the order opens it.
    if (awaited(order) && !order.payment.intentId && state.opening < 3) {
      state.opening += 1;
      sleep(1000).then(async () => {
        if (!element.isConnected || state.order !== order) return;
        try {
          changed(await api.getOrder(order.id));
        } catch {
          // it says it waits; a refresh tries again
        }
      });
    }
  }

  async function pay() {
    const order = state.order;
    if (state.busy || !order || !payable(order)) return;
    const before = order.payment.status;
    const method = radios.find((radio) => radio.checked)?.value ?? TEST_CARDS[0].method;
    clearMessages();
    state.busy = true;
    button.disabled = true;
    button.textContent = 'Paying…';
    form.setAttribute('aria-busy', 'true');
    try {
      const answer = await api.confirmPayment(order.payment, method);
      let read;
      if (answer.declined) {
        state.declined = answer.reason;
        showError(`Your card was declined${declineText(answer.reason)}. Choose another card and try again.`);
        // The shop hears of the decline a moment later; declined before, it stays declined.
        read = await readUntil(order.id, (now) => before === 'FAILED' || now.payment?.status !== before);
      } else {
        showNotice('Your payment is sent: waiting for the shop to confirm it…');
        read = await readUntil(order.id, (now) => now.payment?.status !== before);
      }
      if (read.order) changed(read.order);
      const status = read.order?.payment?.status;
      if (!answer.declined && read.settled && status === 'AUTHORIZED') {
        showNotice(`Payment authorised: thank you. ${formatAmount(read.order.payment.authorized)} is held on your card until your order ships.`);
      } else if (!answer.declined && read.settled) {
        showNotice(`Your payment is sent. ${customerWords(read.order).map((part) => (typeof part === 'string' ? part : part.textContent)).join('')}`);
      } else if (!answer.declined) {
        showNotice('Your payment is sent, but the shop has not heard of it yet: refresh in a moment to see it.');
      }
    } catch (error) {
      showError(error);
    } finally {
      state.busy = false;
      button.disabled = false;
      form.removeAttribute('aria-busy');
      if (state.order) update(state.order);
      if (element.isConnected) statusLine.focus();
    }
  }

  return { element, update };
}
