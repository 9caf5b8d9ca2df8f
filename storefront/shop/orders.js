// Orders as people see them: "my orders" (a customer's own, with their statistics; a customer
// may cancel an order until the shop starts processing it) and "shop orders" (an admin's view
// of everyone's, moving each along its lifecycle: CREATED -> PROCESSING -> SHIPPED ->
// DELIVERED, cancelled while CREATED or PROCESSING). Each order opens to its lines and its
// history: every status it has had, when, by whom, and why or with which tracking reference.
// An order shipped somewhere takes a payment (payment.js): its customer sees where it is and
// pays it while it waits for them; an admin sees its amounts, may process the order once it is
// authorised (shipping captures it), and refunds some or all of what was captured.

import * as api from './api.js';
import { actorText, clearMessages, field, formProblems, h, main, showError, showNotice, statusBadge, uniqueId, when } from './dom.js';
import { centsToDecimal, formatAmount, formatCents, parseAmountInput } from './money.js';
import { adminPayment, customerPayment, refundableCents } from './payment.js';
import * as session from './session.js';

const STATUSES = ['CREATED', 'PROCESSING', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

/** @typedef {{id: string, customerId: string, total: number | string, status: string, createdAt: string}} OrderSummary */
/** @typedef {{status: string, at: string, by: string, reason?: string, trackingReference?: string}} StatusChange */
/** @typedef {OrderSummary & {items: {productId: string, name: string, quantity: number, price: number | string, lineTotal: number | string}[], subtotal: number, shipping: number, tax: number, history: StatusChange[], payment?: import('./payment.js').Payment}} Order */

/** How an order is named to people: the start of its id, enough to tell orders apart. */
function shortId(orderId) {
  return orderId.slice(0, 8);
}

function itemsTable(order) {
  return h('table', { class: 'compact' },
    h('caption', {}, 'What was ordered'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col' }, 'Quantity'),
      h('th', { scope: 'col', class: 'amount' }, 'Unit price'), h('th', { scope: 'col', class: 'amount' }, 'Line total'))),
    h('tbody', {}, ...order.items.map((item) => h('tr', {},
      h('th', { scope: 'row' }, item.name), h('td', {}, String(item.quantity)),
      h('td', { class: 'amount' }, formatAmount(item.price)), h('td', { class: 'amount' }, formatAmount(item.lineTotal))))),
    h('tfoot', {}, ...[['Subtotal', order.subtotal], ['Shipping', order.shipping], ['Tax', order.tax], ['Total', order.total]]
      .map(([label, amount]) => h('tr', {}, h('th', { scope: 'row', colspan: '3' }, label), h('td', { class: 'amount' }, formatAmount(amount))))));
}

/** Where an order ships, if it was given an address. */
function shipsTo(order) {
  const to = order.shippingAddress;
  if (!to) return [];
  return [h('p', { class: 'ships-to' }, `Ships to ${to.fullName}, ${to.street}, ${to.city} ${to.zipCode}, ${to.country} (${order.shippingMethod}).`)];
}

/** @param {StatusChange} change */
function noteOf(change) {
  const notes = [];
  if (change.reason) notes.push(`Reason: ${change.reason}`);
  if (change.trackingReference) notes.push(`Tracking reference: ${change.trackingReference}`);
  return notes.length ? notes.join('; ') : '–';
}

function historyTable(order) {
  return h('table', { class: 'compact history' },
    h('caption', {}, 'History'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'When'),
      h('th', { scope: 'col' }, 'By'), h('th', { scope: 'col' }, 'Reason or tracking'))),
    h('tbody', {}, ...order.history.map((change) => h('tr', {},
      h('td', {}, statusBadge(change.status)), h('td', {}, when(change.at)),
      h('td', {}, actorText(change.by)), h('td', {}, noteOf(change))))));
}

/**
 * One order as a card: its facts, its payment (read with the order, as the list has no
 * payments), the moves the viewer may make, and (opened) its lines and history. The card
 * redraws itself from the order the API returns after each move.
 * @param {OrderSummary} summary
 * @param {{admin: boolean}} options
 */
function orderCard(summary, { admin }) {
  const state = { summary, /** @type {Order | null} */ order: null, applied: 0 };
  const id = summary.id;
  const name = `order ${shortId(id)}`; // in the buttons' names: each says which order it moves
  const headingId = uniqueId('order');
  const heading = h('h3', { id: headingId, tabindex: '-1' }, `Order ${shortId(id)}`);
  const facts = h('dl', { class: 'facts' });
  const payment = admin ? adminPayment() : customerPayment({ name, changed: (order) => apply(order) });
  const actions = h('div', { class: 'actions order-actions' });
  const panel = h('div', { class: 'order-panel' });
  const body = h('div', { class: 'order-body' }, h('p', {}, 'Loading…'));
  const details = h('details', {}, h('summary', {}, 'Items and history'), body);
  const card = h('li', { class: 'order', 'data-order-id': id, 'aria-labelledby': headingId },
    heading, facts, payment.element, actions, panel, details);

  const load = async () => {
    const applied = state.applied;
    try {
      const order = await api.getOrder(id);
      // A move answered meanwhile is newer than this read.
      if (state.applied === applied) apply(order);
    } catch (error) {
      showError(error);
      body.replaceChildren(h('p', {}, 'This order could not be loaded.'));
    }
  };
  details.addEventListener('toggle', () => {
    if (details.open && !state.order) load();
  });

  /** @param {Order} order */
  function apply(order) {
    state.order = order;
    state.applied += 1;
    state.summary = { ...state.summary, status: order.status, total: order.total };
    draw();
  }

  /** After a refusal: the order as it is now. */
  async function refresh() {
    try {
      apply(await api.getOrder(id));
    } catch {
      // the refusal is what the person needs to read; the card keeps what it showed
    }
  }

  function closePanel(focus) {
    panel.replaceChildren();
    actions.hidden = false;
    focus?.focus();
  }

  /**
   * Runs one move of the order; on success shows the new status and history.
   * @param {() => Promise<Order>} request
   * @param {string | ((order: Order) => string)} done what to tell the person (of the order after)
   * @param {ReturnType<typeof formProblems> | null} problems where a 400 is listed
   * @param {HTMLButtonElement} button
   * @param {{keepOpen?: string[]}} [options] the 409s (by `code`) after which the panel stays
   *   open, to be corrected
   */
  async function perform(request, done, problems, button, { keepOpen = [] } = {}) {
    clearMessages();
    button.disabled = true;
    try {
      const order = await request();
      apply(order);
      closePanel();
      details.open = true;
      showNotice(typeof done === 'function' ? done(order) : done);
      heading.focus();
    } catch (error) {
      if (problems) problems.show(error);
      else showError(error);
      button.disabled = false;
      if (error instanceof api.ApiError && error.status === 409 && keepOpen.includes(error.code)) {
        // Shown as it is now, the form kept to be corrected.
        await refresh();
      } else if (error instanceof api.ApiError && (error.status === 409 || error.status === 404)) {
        // The order moved on meanwhile: show it as it is now, with the moves it still allows.
        closePanel();
        await refresh();
        heading.focus();
      }
    }
  }

  function cancelPanel(opener) {
    const reasonId = uniqueId('cancel-reason');
    const reason = field('Reason (optional)', { id: reasonId, maxlength: '500', autocomplete: 'off' });
    const problems = formProblems(`${reasonId}-problems`, { reason: reason.control });
    const submit = h('button', { type: 'submit' }, 'Yes, cancel the order');
    const form = h('form', {
      class: 'inline-form', 'aria-label': `Cancel ${name}`,
      onsubmit: (event) => {
        event.preventDefault();
        const text = reason.control.value.trim();
        perform(() => api.cancelOrder(id, text),
          admin ? `Order ${shortId(id)} is cancelled; its stock is back on sale.` : `Order ${shortId(id)} is cancelled; its items are back in stock.`,
          problems, submit);
      },
    },
    h('p', {}, admin
      ? 'Cancelling puts the order\'s stock back on sale. The customer sees the reason.'
      : 'Cancelling puts the items back on sale. You may say why.',
    state.order?.payment?.status === 'AUTHORIZED'
      ? (admin ? ' The payment held on the customer\'s card is released.' : ' The payment held on your card is released.')
      : ''),
    reason.element, problems.element,
    h('div', { class: 'actions' }, submit,
      h('button', { type: 'button', class: 'secondary', onclick: () => closePanel(opener) }, admin ? 'Back' : 'Keep the order')));
    actions.hidden = true;
    panel.replaceChildren(form);
    reason.control.focus();
  }

  function shipPanel(opener) {
    const trackingId = uniqueId('tracking');
    const tracking = field('Tracking reference', { id: trackingId, maxlength: '100', autocomplete: 'off' },
      'From the carrier; leave it empty if the parcel has none.');
    const problems = formProblems(`${trackingId}-problems`, { trackingReference: tracking.control });
    const submit = h('button', { type: 'submit' }, 'Mark shipped');
    const form = h('form', {
      class: 'inline-form', 'aria-label': `Ship ${name}`,
      onsubmit: (event) => {
        event.preventDefault();
        perform(() => api.moveOrder(id, 'SHIPPED', tracking.control.value.trim()),
          (order) => (order.payment?.status === 'CAPTURED'
            ? `Order ${shortId(id)} is now SHIPPED; its payment of ${formatAmount(order.payment.captured)} is captured.`
            : `Order ${shortId(id)} is now SHIPPED.`),
          problems, submit);
      },
    },
    tracking.element, problems.element,
    h('div', { class: 'actions' }, submit,
      h('button', { type: 'button', class: 'secondary', onclick: () => closePanel(opener) }, 'Back')));
    actions.hidden = true;
    panel.replaceChildren(form);
    tracking.control.focus();
  }

  function refundPanel(opener) {
    const left = refundableCents(state.order?.payment);
    const amountId = uniqueId('refund-amount');
    const amount = field('Amount', { id: amountId, required: true, inputmode: 'decimal', autocomplete: 'off', value: centsToDecimal(left) },
      `In dollars; ${formatCents(left)} of ${formatAmount(state.order?.payment?.captured ?? 0)} paid is left to refund.`);
    const reason = field('Reason (optional)', { id: uniqueId('refund-reason'), maxlength: '500', autocomplete: 'off' });
    const problems = formProblems(`${amountId}-problems`, { amount: amount.control, reason: reason.control });
    const submit = h('button', { type: 'submit' }, 'Refund');
    const form = h('form', {
      class: 'inline-form', 'aria-label': `Refund ${name}`,
      onsubmit: (event) => {
        event.preventDefault();
        const cents = parseAmountInput(amount.control.value);
        if (cents === null || cents <= 0) {
          clearMessages();
          problems.list(['amount must be an amount in dollars greater than 0, with at most two decimals, e.g. 10.00']);
          return;
        }
        perform(() => api.refundOrder(id, centsToDecimal(cents), reason.control.value.trim()),
          (order) => {
            const rest = refundableCents(order.payment);
            return `Refunded ${formatCents(cents)} of order ${shortId(id)}; ${rest ? `${formatCents(rest)} is left to refund` : 'all of its payment is refunded'}.`;
          },
          problems, submit, { keepOpen: ['refund_exceeds_captured'] });
      },
    },
    h('p', {}, 'The amount goes back to the customer\'s card. The customer sees the order\'s payment refunded.'),
    h('div', { class: 'field-row' }, amount.element, reason.element), problems.element,
    h('div', { class: 'actions' }, submit,
      h('button', { type: 'button', class: 'secondary', onclick: () => closePanel(opener) }, 'Back')));
    form.noValidate = true;
    actions.hidden = true;
    panel.replaceChildren(form);
    amount.control.focus();
    amount.control.select();
  }

  function moveButton(label, status) {
    const button = h('button', {
      type: 'button', 'aria-label': `${label}: ${name}`,
      onclick: () => perform(() => api.moveOrder(id, status), `Order ${shortId(id)} is now ${status}.`, null, button),
    }, label);
    return button;
  }

  function panelButton(label, open) {
    const accessibleName = label === 'Cancel order' ? `Cancel ${name}` : `${label}: ${name}`;
    const button = h('button', { type: 'button', class: 'secondary', 'aria-label': accessibleName, onclick: () => open(button) }, `${label}…`);
    return button;
  }

  function draw() {
    const { status, total, createdAt, customerId } = state.summary;
    const fact = (term, ...value) => h('div', {}, h('dt', {}, term), ...value);
    facts.replaceChildren(...[
      fact('Placed', h('dd', {}, when(createdAt))),
      fact('Status', h('dd', { class: 'order-status' }, statusBadge(status))),
      fact('Total', h('dd', { class: 'amount-text' }, formatAmount(total))),
      admin ? fact('Customer', h('dd', {}, h('code', {}, customerId))) : null,
      fact('Reference', h('dd', {}, h('code', {}, id)))].filter(Boolean));
    if (state.order) payment.update(state.order);
    const moves = [];
    if (admin) {
      if (status === 'CREATED') moves.push(moveButton('Start processing', 'PROCESSING'));
      if (status === 'PROCESSING') moves.push(panelButton('Mark shipped', shipPanel));
      if (status === 'SHIPPED') moves.push(moveButton('Mark delivered', 'DELIVERED'));
      if (status === 'CREATED' || status === 'PROCESSING') moves.push(panelButton('Cancel order', cancelPanel));
      if (refundableCents(state.order?.payment) > 0) moves.push(panelButton('Refund', refundPanel));
    } else if (status === 'CREATED') {
      moves.push(panelButton('Cancel order', cancelPanel));
    }
    actions.replaceChildren(...moves);
    actions.hidden = !moves.length || panel.childElementCount > 0;
    if (state.order) body.replaceChildren(itemsTable(state.order), ...shipsTo(state.order), historyTable(state.order));
  }

  draw();
  // The list has no payments: each card reads its order.
  load();
  return card;
}

function statusFilter(id, initial, onFilter) {
  const select = h('select', { id, name: 'status' },
    h('option', { value: '' }, 'Any status'),
    ...STATUSES.map((status) => h('option', { value: status, selected: status === initial }, status)));
  return h('form', {
    class: 'filter',
    onsubmit: (event) => {
      event.preventDefault();
      clearMessages();
      onFilter(select.value);
    },
  }, h('div', {}, h('label', { for: id }, 'Status'), select), h('button', { type: 'submit' }, 'Filter'));
}

/**
 * A paged list of order cards with a status filter.
 * @param {{admin: boolean, limit: number, headingId: string}} options
 */
function orderListing({ admin, limit, headingId }) {
  const listing = { status: '', nextCursor: '', shown: 0, request: 0 };
  const summaryLine = h('p', { class: 'listing-summary', 'aria-live': 'polite' });
  const list = h('ol', { class: 'orders', 'aria-labelledby': headingId });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load({ more: true }) }, 'Show more orders');
  const load = async ({ more: next = false } = {}) => {
    const request = ++listing.request;
    try {
      const page = await api.listOrders({ status: listing.status, cursor: next ? listing.nextCursor : '', limit });
      if (request !== listing.request) return;
      const cards = page.data.map((summary) => orderCard(summary, { admin }));
      if (next) list.append(...cards);
      else list.replaceChildren(...cards);
      listing.shown = (next ? listing.shown : 0) + page.data.length;
      listing.nextCursor = page.meta.nextCursor ?? '';
      more.hidden = !listing.nextCursor;
      const which = listing.status ? ` ${listing.status}` : '';
      // The total of everyone's orders is counted a few seconds behind: for a moment it can be
      // below what is shown, and then says nothing worth reading.
      const total = typeof page.meta.total === 'number' && page.meta.total >= listing.shown ? ` of ${page.meta.total}` : '';
      summaryLine.textContent = listing.shown
        ? `Showing ${listing.shown}${total}${which} orders, newest first.`
        : `No${which} orders.`;
    } catch (error) {
      showError(error);
    }
  };
  const filter = statusFilter(admin ? 'admin-order-status' : 'order-status', '', (status) => {
    listing.status = status;
    load();
  });
  return { elements: [filter, summaryLine, list, more], load };
}

export async function renderMyOrders() {
  const current = session.currentSession();
  if (!current) {
    main.replaceChildren(h('h1', {}, 'My orders'), h('p', {}, 'Sign in (at the top of the page) to see your orders.'));
    return;
  }
  const stats = h('section', { 'aria-labelledby': 'stats-heading' }, h('h2', { id: 'stats-heading' }, 'Statistics'));
  const listing = orderListing({ admin: false, limit: 10, headingId: 'orders-heading' });
  const orders = h('section', { 'aria-labelledby': 'orders-heading' }, h('h2', { id: 'orders-heading' }, 'Your orders'), ...listing.elements);
  const loadStats = async () => {
    try {
      const statistics = await api.customerStats(current.customerId);
      stats.replaceChildren(stats.firstChild, statistics
        ? h('dl', { class: 'stats' },
          h('dt', {}, 'Orders counted'), h('dd', { id: 'stats-orders' }, String(statistics.totalOrders)),
          h('dt', {}, 'Total spent'), h('dd', { id: 'stats-spent' }, formatAmount(statistics.totalSpent)),
          h('dt', {}, 'Average order'), h('dd', {}, formatAmount(statistics.averageOrderValue)),
          h('dt', {}, 'Last order'), h('dd', {}, statistics.lastOrderDate ? new Date(statistics.lastOrderDate).toLocaleString('en-US') : '–'))
        : h('p', { id: 'stats-none' }, 'No orders counted yet (a new order is counted a moment after it is placed).'));
    } catch (error) {
      showError(error);
    }
  };
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: () => Promise.all([loadStats(), listing.load()]) }, 'Refresh');
  main.replaceChildren(h('h1', {}, 'My orders'), h('div', { class: 'actions' }, refresh), stats, orders);
  await Promise.all([loadStats(), listing.load()]);
}

export async function renderShopOrders() {
  const heading = h('h1', {}, 'Shop orders');
  if (!session.isAdmin()) {
    main.replaceChildren(heading, h('p', {}, 'This page is for the shop\'s admins: sign in as an admin to use it.'));
    return;
  }
  const listing = orderListing({ admin: true, limit: 20, headingId: 'shop-orders-heading' });
  main.replaceChildren(heading,
    h('p', {}, 'Everyone\'s orders, newest first. Move each on as it is processed, shipped and delivered; cancel while it is created or processing.'),
    h('section', { 'aria-labelledby': 'shop-orders-heading' },
      h('h2', { id: 'shop-orders-heading' }, 'Orders'),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => listing.load() }, 'Refresh')),
      ...listing.elements));
  await listing.load();
}
