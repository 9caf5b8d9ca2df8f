// The storefront: catalogue, cart, checkout, confirmation and "my orders", one view per hash
// route (#/, #/cart, #/confirmation, #/orders), rendered with DOM calls (API text is never
// parsed as HTML). Amounts are integer cents (money.js).

import * as api from './api.js';
import { formatAmount, formatCents, toCents } from './money.js';
import * as session from './session.js';

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const errorRegion = /** @type {HTMLElement} */ (document.getElementById('error'));
const noticeRegion = /** @type {HTMLElement} */ (document.getElementById('notice'));

/** @typedef {{productId: string, name: string, price: string, quantity: number, stock: number}} CartLine */

const CART_KEY = 'shop.cart';
/** @type {Map<string, CartLine>} */
const cart = new Map(JSON.parse(localStorage.getItem(CART_KEY) ?? '[]').map((line) => [line.productId, line]));
/** The key of the checkout being attempted: a retry of the same cart sends the same key. */
let checkoutKey = crypto.randomUUID();
let lastOrder = null;
const catalogue = { category: '', products: [], nextCursor: '', categories: new Set(), request: 0 };

/**
 * A tiny element builder: h('button', {type: 'button', onclick}, 'Add').
 * @param {string} tag
 * @param {Record<string, any>} [attributes]
 * @param {...(Node | string | null | undefined | false)} children
 */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name in element && typeof value !== 'string') element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

function showError(error) {
  noticeRegion.textContent = '';
  errorRegion.replaceChildren();
  const message = error instanceof Error ? error.message : String(error);
  errorRegion.append(h('p', {}, message));
  if (error instanceof api.ApiError && error.details.length) {
    errorRegion.append(h('ul', {}, ...error.details.map((detail) => h('li', {}, detail))));
  }
}

function showNotice(message) {
  errorRegion.replaceChildren();
  noticeRegion.textContent = message;
}

function clearMessages() {
  errorRegion.replaceChildren();
  noticeRegion.textContent = '';
}

function saveCart() {
  localStorage.setItem(CART_KEY, JSON.stringify([...cart.values()]));
  checkoutKey = crypto.randomUUID();
  const count = [...cart.values()].reduce((sum, line) => sum + line.quantity, 0);
  document.getElementById('cart-count').textContent = String(count);
}

function cartTotalCents() {
  return [...cart.values()].reduce((sum, line) => sum + toCents(line.price) * line.quantity, 0);
}

// --- account ---------------------------------------------------------------------------

function renderAccount() {
  const account = document.getElementById('account');
  const current = session.currentSession();
  if (current) {
    account.replaceChildren(
      h('span', {}, 'Signed in as ', h('strong', {}, current.name)),
      h('button', { type: 'button', class: 'secondary', onclick: () => { session.signOut(); renderAccount(); route(); } }, 'Sign out'),
    );
    return;
  }
  const demo = session.demoCustomers();
  if (demo.length) {
    const select = h('select', { id: 'demo-customer', name: 'customer' },
      ...demo.map((customer) => h('option', { value: customer.id }, customer.name)));
    account.replaceChildren(h('form', {
      class: 'account',
      onsubmit: (event) => {
        event.preventDefault();
        session.signInAsDemoCustomer(select.value);
        renderAccount();
        showNotice(`Signed in as ${session.currentSession().name}.`);
        route();
      },
    }, h('label', { for: 'demo-customer' }, 'Demo customer'), select, h('button', { type: 'submit' }, 'Sign in')));
  } else if (session.hasHostedSignIn()) {
    account.replaceChildren(h('button', { type: 'button', onclick: () => session.signInWithHostedUi() }, 'Sign in'));
  } else {
    account.replaceChildren(h('span', {}, 'Sign-in is not configured here.'));
  }
}

// --- catalogue -------------------------------------------------------------------------

/** @returns {Promise<boolean>} false when a later request overtook this one (its answer is dropped) */
async function loadCatalogue({ more = false } = {}) {
  const request = ++catalogue.request;
  const page = await api.listProducts({ category: catalogue.category, cursor: more ? catalogue.nextCursor : '' });
  if (request !== catalogue.request) return false;
  catalogue.products = more ? [...catalogue.products, ...page.products] : page.products;
  catalogue.nextCursor = page.nextCursor;
  for (const product of page.products) catalogue.categories.add(product.category);
  return true;
}

function addToCart(product) {
  const line = cart.get(product.id);
  if (line) line.quantity += 1;
  else cart.set(product.id, { productId: product.id, name: product.name, price: String(product.price), quantity: 1, stock: product.stock });
  saveCart();
  showNotice(`${product.name} added to the cart.`);
}

function productCard(product) {
  const soldOut = product.stock <= 0;
  return h('li', { class: 'product' },
    h('h2', {}, product.name),
    h('p', { class: 'meta' }, product.category),
    product.description ? h('p', {}, product.description) : null,
    h('p', { class: 'price' }, formatAmount(product.price)),
    h('p', {}, soldOut ? 'Sold out' : `In stock: ${product.stock}`),
    h('button', { type: 'button', disabled: soldOut, 'aria-label': `Add ${product.name} to cart`, onclick: () => addToCart(product) }, 'Add to cart'),
  );
}

async function renderCatalogue() {
  const input = h('input', { id: 'category', name: 'category', list: 'categories', value: catalogue.category, autocomplete: 'off' });
  const list = h('ul', { class: 'products', 'aria-label': 'Products' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more products');
  const heading = h('h1', {}, 'Catalogue');
  const draw = () => {
    heading.textContent = catalogue.category ? `Catalogue: ${catalogue.category}` : 'Catalogue';
    list.replaceChildren(...catalogue.products.map(productCard));
    if (!catalogue.products.length) list.append(h('li', {}, 'No products found.'));
    more.hidden = !catalogue.nextCursor;
    datalist.replaceChildren(...[...catalogue.categories].sort().map((name) => h('option', { value: name })));
  };
  const datalist = h('datalist', { id: 'categories' });
  const reload = async (options) => {
    try {
      if (await loadCatalogue(options)) draw();
    } catch (error) {
      showError(error);
    }
  };
  more.addEventListener('click', () => reload({ more: true }));
  const form = h('form', {
    class: 'filter', role: 'search',
    onsubmit: (event) => {
      event.preventDefault();
      clearMessages();
      catalogue.category = input.value.trim();
      reload();
    },
  },
  h('div', {}, h('label', { for: 'category' }, 'Category'), input, datalist),
  h('button', { type: 'submit' }, 'Filter'),
  h('button', { type: 'button', class: 'secondary', onclick: () => { input.value = ''; catalogue.category = ''; clearMessages(); reload(); } }, 'Show all'));
  main.replaceChildren(heading, form, list, more);
  await reload();
}

// --- cart and checkout -----------------------------------------------------------------

function renderCart() {
  const heading = h('h1', {}, 'Your cart');
  if (!cart.size) {
    main.replaceChildren(heading, h('p', {}, 'Your cart is empty. ', h('a', { href: '#/' }, 'Browse the catalogue.')));
    return;
  }
  const totalCell = h('td', { class: 'amount total', id: 'cart-total' });
  const updateTotal = () => { totalCell.textContent = formatCents(cartTotalCents()); };
  const rows = [...cart.values()].map((line) => {
    const id = `quantity-${line.productId}`;
    const lineTotal = h('td', { class: 'amount' });
    const hint = h('span', { class: 'hint' });
    const update = () => {
      lineTotal.textContent = formatCents(toCents(line.price) * line.quantity);
      hint.textContent = line.quantity > line.stock ? `Only ${line.stock} in stock when you added it.` : '';
    };
    const quantity = h('input', {
      id, type: 'number', min: '1', max: '1000', step: '1', inputmode: 'numeric', value: String(line.quantity),
      onchange: () => {
        const value = Number(quantity.value);
        if (!Number.isInteger(value) || value < 1 || value > 1000) {
          showError('A quantity is a whole number from 1 to 1,000.');
          quantity.value = String(line.quantity);
          return;
        }
        line.quantity = value;
        saveCart();
        update();
        updateTotal();
      },
    });
    update();
    const row = h('tr', {},
      h('th', { scope: 'row' }, line.name),
      h('td', { class: 'amount' }, formatAmount(line.price)),
      h('td', {}, h('label', { for: id, class: 'visually-hidden' }, `Quantity of ${line.name}`), quantity, hint),
      lineTotal,
      h('td', {}, h('button', {
        type: 'button', class: 'secondary', 'aria-label': `Remove ${line.name}`,
        onclick: () => { cart.delete(line.productId); saveCart(); renderCart(); },
      }, 'Remove')));
    return row;
  });
  updateTotal();
  const signedIn = session.currentSession();
  const place = h('button', { type: 'button', id: 'place-order', onclick: () => checkout(place) }, 'Place order');
  main.replaceChildren(
    heading,
    h('table', {},
      h('caption', {}, 'Items in your cart'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'amount' }, 'Unit price'),
        h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col', class: 'amount' }, 'Line total'), h('td'))),
      h('tbody', {}, ...rows),
      h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Total'), totalCell, h('td')))),
    ...(signedIn ? [] : [h('p', {}, 'Sign in (at the top of the page) to place your order.')]),
    h('div', { class: 'actions' }, place, h('a', { href: '#/' }, 'Continue shopping')),
  );
}

async function checkout(button) {
  clearMessages();
  button.disabled = true;
  button.textContent = 'Placing your order…';
  try {
    const items = [...cart.values()].map(({ productId, quantity }) => ({ productId, quantity }));
    lastOrder = await api.placeOrder(items, checkoutKey);
    cart.clear();
    saveCart();
    location.hash = '#/confirmation';
  } catch (error) {
    showError(error);
    button.disabled = false;
    button.textContent = 'Place order';
  }
}

function renderConfirmation() {
  if (!lastOrder) {
    main.replaceChildren(h('h1', {}, 'No order placed yet'), h('p', {}, h('a', { href: '#/' }, 'Browse the catalogue.')));
    return;
  }
  const order = lastOrder;
  main.replaceChildren(
    h('h1', {}, 'Thank you: your order is placed'),
    h('p', {}, 'Order ', h('code', {}, order.id), ` on ${new Date(order.createdAt).toLocaleString('en-US')}, status ${order.status}.`),
    h('table', {},
      h('caption', {}, 'What you ordered'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col' }, 'Quantity'),
        h('th', { scope: 'col', class: 'amount' }, 'Unit price'), h('th', { scope: 'col', class: 'amount' }, 'Line total'))),
      h('tbody', {}, ...order.items.map((item) => h('tr', {},
        h('th', { scope: 'row' }, item.name), h('td', {}, String(item.quantity)),
        h('td', { class: 'amount' }, formatAmount(item.price)), h('td', { class: 'amount' }, formatAmount(item.lineTotal))))),
      h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Order total'),
        h('td', { class: 'amount total', id: 'order-total' }, formatAmount(order.total))))),
    h('div', { class: 'actions' }, h('a', { href: '#/orders' }, 'See my orders'), h('a', { href: '#/' }, 'Continue shopping')),
  );
  main.focus();
}

// --- my orders and profile ---------------------------------------------------------------

async function renderOrders() {
  const current = session.currentSession();
  if (!current) {
    main.replaceChildren(h('h1', {}, 'My orders'), h('p', {}, 'Sign in (at the top of the page) to see your orders.'));
    return;
  }
  const stats = h('section', { 'aria-labelledby': 'stats-heading' }, h('h2', { id: 'stats-heading' }, 'Statistics'));
  const orders = h('section', { 'aria-labelledby': 'orders-heading' }, h('h2', { id: 'orders-heading' }, 'Recent orders'));
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Refresh');
  main.replaceChildren(h('h1', {}, 'My orders'), h('div', { class: 'actions' }, refresh), stats, orders, profileForm(current.customerId));
  const load = async () => {
    try {
      const [statistics, listing] = await Promise.all([api.customerStats(current.customerId), api.listOrders()]);
      stats.replaceChildren(stats.firstChild, statistics
        ? h('dl', { class: 'stats' },
          h('dt', {}, 'Orders counted'), h('dd', { id: 'stats-orders' }, String(statistics.totalOrders)),
          h('dt', {}, 'Total spent'), h('dd', { id: 'stats-spent' }, formatAmount(statistics.totalSpent)),
          h('dt', {}, 'Average order'), h('dd', {}, formatAmount(statistics.averageOrderValue)),
          h('dt', {}, 'Last order'), h('dd', {}, statistics.lastOrderDate ? new Date(statistics.lastOrderDate).toLocaleString('en-US') : '–'))
        : h('p', { id: 'stats-none' }, 'No orders counted yet (a new order is counted a moment after it is placed).'));
      orders.replaceChildren(orders.firstChild, listing.data.length
        ? h('table', {},
          h('caption', {}, `Your ${listing.data.length} most recent of ${listing.meta.total} orders`),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Placed'), h('th', { scope: 'col' }, 'Order'),
            h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'amount' }, 'Total'))),
          h('tbody', {}, ...listing.data.map((order) => h('tr', {},
            h('td', {}, new Date(order.createdAt).toLocaleString('en-US')), h('td', {}, h('code', {}, order.id)),
            h('td', {}, order.status), h('td', { class: 'amount' }, formatAmount(order.total))))))
        : h('p', {}, 'No orders yet.'));
    } catch (error) {
      showError(error);
    }
  };
  await load();
}

function profileForm(customerId) {
  const field = (id, label, type = 'text', autocomplete = 'off') => h('div', {},
    h('label', { for: id }, label), h('input', { id, name: id, type, autocomplete }));
  const form = h('form', {
    class: 'profile',
    onsubmit: async (event) => {
      event.preventDefault();
      clearMessages();
      const value = (id) => /** @type {HTMLInputElement} */ (form.elements.namedItem(id)).value.trim();
      const profile = {};
      if (value('name')) profile.name = value('name');
      if (value('email')) profile.email = value('email');
      if (value('street') || value('city') || value('zip')) {
        profile.shippingAddress = { street: value('street'), city: value('city'), zipCode: value('zip') };
      }
      if (!Object.keys(profile).length) {
        showError('Fill in at least one field to update your profile.');
        return;
      }
      try {
        const saved = await api.updateProfile(customerId, profile);
        showNotice(`Profile saved${saved.email ? ` (e-mail ${saved.email})` : ''}.`);
      } catch (error) {
        showError(error);
      }
    },
  },
  field('name', 'Name', 'text', 'name'),
  field('email', 'E-mail', 'email', 'email'),
  field('street', 'Street', 'text', 'street-address'),
  field('city', 'City', 'text', 'address-level2'),
  field('zip', 'ZIP code', 'text', 'postal-code'),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save profile')));
  // The browser's own e-mail check would hide the API's message: the API validates.
  form.noValidate = true;
  return h('section', { 'aria-labelledby': 'profile-heading' },
    h('h2', { id: 'profile-heading' }, 'Profile'),
    h('p', {}, 'Only the fields you fill in change (your record appears with your first order).'),
    form);
}

// --- routing ------------------------------------------------------------------------------

const views = { '#/': renderCatalogue, '#/cart': renderCart, '#/confirmation': renderConfirmation, '#/orders': renderOrders };

async function route() {
  const view = views[location.hash] ?? renderCatalogue;
  await view();
}

window.addEventListener('hashchange', () => {
  clearMessages();
  route().then(() => main.focus());
});

async function start() {
  try {
    await session.completeHostedSignIn();
  } catch (error) {
    showError(error);
  }
  saveCart();
  renderAccount();
  await route();
  document.body.dataset.ready = 'true';
}

start();
