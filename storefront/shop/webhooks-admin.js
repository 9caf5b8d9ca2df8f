// The admin's webhooks: register an endpoint (its secret is shown once, to copy), see each
// endpoint's breaker and deliveries (every attempt's status, latency and the start of the
// answer), retry a delivery, rotate the secret, disable, enable or delete an endpoint.

import * as api from './api.js';
import { clearMessages, field, formProblems, h, main, showError, showNotice, when } from './dom.js';
import * as session from './session.js';

const EVENT_TYPES = ['order_created', 'order_status_changed', 'order_cancelled', 'stock_added', 'stock_reduced'];

export async function renderWebhooksAdmin() {
  const heading = h('h1', {}, 'Webhooks');
  if (!session.isAdmin()) {
    main.replaceChildren(heading, h('p', {}, 'This page is for the shop\'s admins: sign in as an admin to use it.'));
    return;
  }
  const secret = h('section', { id: 'webhook-secret', 'aria-live': 'polite' });
  const listing = h('section', { 'aria-labelledby': 'endpoints-heading' });
  const reload = async () => {
    try {
      const page = await api.listWebhooks();
      listing.replaceChildren(h('h2', { id: 'endpoints-heading' }, 'Endpoints'),
        page.data.length ? h('ul', { class: 'webhooks' }, ...page.data.map((endpoint) => endpointCard(endpoint, reload, showSecret)))
          : h('p', {}, 'No endpoints yet.'));
    } catch (error) {
      showError(error);
    }
  };
  /** The secret of a new or rotated endpoint, shown this once. */
  const showSecret = (endpoint, what) => {
    secret.replaceChildren(h('h2', {}, 'Signing secret'),
      h('p', {}, `${what} ${endpoint.url}: copy its secret now, it is not shown again.`),
      h('p', {}, h('code', { class: 'secret' }, endpoint.secret)));
  };
  main.replaceChildren(heading, newEndpointSection(async (endpoint) => {
    showSecret(endpoint, 'Registered');
    await reload();
  }), secret, listing);
  await reload();
}

function newEndpointSection(created) {
  const url = field('URL', { id: 'webhook-url', required: true, type: 'url', autocomplete: 'off' }, 'https, to a public address.');
  const description = field('Description (optional)', { id: 'webhook-description', maxlength: '2000', autocomplete: 'off' });
  const boxes = EVENT_TYPES.map((type) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'events', value: type }), ` ${type}`));
  const events = h('fieldset', { id: 'webhook-events' }, h('legend', {}, 'Events'), ...boxes);
  const problems = formProblems('new-webhook-problems', { url: url.control, events, description: description.control });
  const submit = h('button', { type: 'submit' }, 'Add endpoint');
  const form = h('form', {
    class: 'admin-form',
    onsubmit: async (event) => {
      event.preventDefault();
      clearMessages();
      const chosen = boxes.map((box) => /** @type {HTMLInputElement} */ (box.querySelector('input'))).filter((box) => box.checked).map((box) => box.value);
      const endpoint = { url: url.control.value.trim(), events: chosen };
      if (description.control.value.trim()) endpoint.description = description.control.value.trim();
      submit.disabled = true;
      try {
        const saved = await api.createWebhook(endpoint);
        problems.clear();
        form.reset();
        await created(saved);
      } catch (error) {
        problems.show(error);
      } finally {
        submit.disabled = false;
      }
    },
  }, url.element, description.element, events, problems.element, h('div', { class: 'actions' }, submit));
  form.noValidate = true;
  return h('section', { 'aria-labelledby': 'new-webhook-heading' }, h('h2', { id: 'new-webhook-heading' }, 'Add an endpoint'), form);
}

function endpointCard(endpoint, reload, showSecret) {
  const deliveries = h('div', { class: 'deliveries' });
  const act = (label, action) => h('button', {
    type: 'button',
    class: 'secondary',
    'aria-label': `${label}: ${endpoint.url}`,
    onclick: async () => {
      clearMessages();
      try {
        await action();
      } catch (error) {
        showError(error);
      }
    },
  }, label);
  const showDeliveries = async () => {
    const page = await api.listWebhookDeliveries(endpoint.id);
    deliveries.replaceChildren(page.data.length ? deliveryTable(endpoint, page.data, showDeliveries) : h('p', {}, 'No deliveries yet.'));
  };
  const breaker = endpoint.breaker.state === 'open'
    ? h('span', { class: 'status status-cancelled' }, `paused after ${endpoint.breaker.consecutiveFailures} failures; next probe `, when(endpoint.breaker.nextProbeAt))
    : h('span', { class: 'status status-delivered' }, 'delivering');
  return h('li', { class: 'webhook', 'data-webhook-id': endpoint.id },
    h('h3', {}, endpoint.url),
    h('p', {}, endpoint.description ?? '', endpoint.description ? ' · ' : '', endpoint.events.join(', ')),
    h('p', {}, endpoint.enabled ? breaker : h('span', { class: 'status status-cancelled' }, `disabled${endpoint.disabledReason ? `: ${endpoint.disabledReason}` : ''}`)),
    h('div', { class: 'actions' },
      act('Show deliveries', showDeliveries),
      act(endpoint.enabled ? 'Disable' : 'Enable', async () => {
        await api.updateWebhook(endpoint.id, { enabled: !endpoint.enabled });
        showNotice(`${endpoint.url} is ${endpoint.enabled ? 'disabled' : 'enabled'}.`);
        await reload();
      }),
      act('Rotate secret', async () => {
        if (!window.confirm('Make a new secret? The current one keeps signing for 24 hours.')) return;
        showSecret(await api.rotateWebhookSecret(endpoint.id), 'Rotated');
        await reload();
      }),
      act('Delete', async () => {
        if (!window.confirm(`Delete the endpoint ${endpoint.url}? Nothing more is sent to it.`)) return;
        await api.deleteWebhook(endpoint.id);
        showNotice(`${endpoint.url} is deleted.`);
        await reload();
      })),
    deliveries);
}

function deliveryTable(endpoint, list, refresh) {
  return h('table', { class: 'deliveries' },
    h('caption', { class: 'visually-hidden' }, `Deliveries to ${endpoint.url}, newest first`),
    h('thead', {}, h('tr', {}, ...['Event', 'Status', 'Attempt', 'Last answer', 'Latency', 'Next attempt', ''].map((name) => h('th', { scope: 'col' }, name)))),
    h('tbody', {}, ...list.map((delivery) => {
      const last = delivery.attempts.at(-1);
      return h('tr', { 'data-delivery-id': delivery.id },
        h('td', {}, delivery.eventType, h('br'), h('code', {}, delivery.id)),
        h('td', {}, delivery.status, delivery.failure ? ` (${delivery.failure})` : ''),
        h('td', { class: 'amount' }, String(delivery.attempt)),
        h('td', {}, last ? (last.statusCode ? String(last.statusCode) : last.error ?? '') : '', last?.response ? h('br') : '', last?.response ? h('code', {}, last.response.slice(0, 120)) : ''),
        h('td', { class: 'amount' }, last ? `${last.latencyMs} ms` : ''),
        h('td', {}, delivery.nextAttemptAt ? when(delivery.nextAttemptAt) : ''),
        h('td', {}, h('button', {
          type: 'button',
          class: 'secondary',
          'aria-label': `Retry the ${delivery.eventType} delivery ${delivery.id}`,
          onclick: async () => {
            clearMessages();
            try {
              await api.retryWebhookDelivery(endpoint.id, delivery.id);
              showNotice(`The ${delivery.eventType} delivery is retried now.`);
              await refresh();
            } catch (error) {
              showError(error);
            }
          },
        }, 'Retry')));
    })));
}
