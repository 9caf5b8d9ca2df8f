// The storefront: catalogue, cart, checkout, confirmation, "my orders", the profile and, for
// the shop's admins, its orders, catalogue and webhooks; one view per hash route (#/, #/cart,
// #/confirmation, #/orders, #/profile, #/admin/orders, #/admin/catalogue, #/admin/webhooks), rendered with DOM
// calls (API text is never parsed as HTML). Amounts are integer cents (money.js).

import * as api from './api.js';
import { renderCatalogueAdmin } from './catalogue-admin.js';
import { clearMessages, h, main, showError, showNotice } from './dom.js';
import { formatAmount, formatCents, toCents } from './money.js';
import { renderMyOrders, renderShopOrders } from './orders.js';
import { customerPayment } from './payment.js';
import { renderProfile } from './profile.js';
import { renderWebhooksAdmin } from './webhooks-admin.js';
import * as session from './session.js';

/** @typedef {{productId: string, name: string, price: string, quantity: number, stock: number}} CartLine */

const CART_KEY = 'shop.cart';
/** @type {Map<string, CartLine>} */
const cart = new Map(JSON.parse(localStorage.getItem(CART_KEY) ?? '[]').map((line) => [line.productId, line]));
/** The key of the checkout being attempted: a retry of the same cart sends the same key. */
let checkoutKey = crypto.randomUUID();
let lastOrder = null;
const catalogue = { category: '', products: [], nextCursor: '', categories: new Set(), request: 0 };

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

function signOut() {
  session.signOut();
  renderAccount();
  route().then(() => main.focus());
}

function renderAccount() {
  const account = document.getElementById('account');
  const current = session.currentSession();
  // The admin pages are offered to admins only; the API refuses everyone else anyway.
  for (const link of document.querySelectorAll('[data-admin-only]')) /** @type {HTMLElement} */ (link).hidden = !session.isAdmin();
  if (current) {
    account.replaceChildren(
      h('span', {}, 'Signed in as ', h('strong', {}, current.name), session.isAdmin() ? ' (admin)' : ''),
      h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out'),
    );
    return;
  }
  const demo = session.demoCustomers();
  if (demo.length) {
    const select = h('select', { id: 'demo-customer', name: 'customer' },
      ...demo.map((customer) => h('option', { value: customer.id }, customer.admin ? `${customer.name} (admin)` : customer.name)));
    account.replaceChildren(h('form', {
      class: 'account',
      onsubmit: (event) => {
        event.preventDefault();
        session.signInAsDemoCustomer(select.value);
        renderAccount();
        showNotice(`Signed in as ${session.currentSession().name}.`);
        route();
      },
    }, h('label', { for: 'demo-customer' }, 'Demo account'), select, h('button', { type: 'submit' }, 'Sign in')));
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
  const shippingCell = h('td', { class: 'amount', id: 'cart-shipping' }, '…');
  const delivery = deliveryForm((method) => { shippingCell.textContent = formatAmount(method.price); });
  const place = h('button', { type: 'submit', id: 'place-order' }, 'Place order');
  delivery.form.append(h('div', { class: 'actions' }, place, h('a', { href: '#/' }, 'Continue shopping')));
  delivery.form.addEventListener('submit', (event) => { event.preventDefault(); checkout(place, delivery); });
  main.replaceChildren(
    heading,
    h('table', {},
      h('caption', {}, 'Items in your cart'),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col', class: 'amount' }, 'Unit price'),
        h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col', class: 'amount' }, 'Line total'), h('td'))),
      h('tbody', {}, ...rows),
      h('tfoot', {},
        h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Subtotal'), totalCell, h('td')),
        h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Shipping'), shippingCell, h('td')))),
    h('p', {}, 'Tax is added at your destination\'s rate on the goods and shipping; your order shows the exact amounts.'),
    ...(signedIn ? [] : [h('p', {}, 'Sign in (at the top of the page) to place your order.')]),
    delivery.form,
  );
  delivery.load();
}

/**
 * Where and how the order ships: the address, and one of the shop's shipping methods
 * (`onMethod` hears the one chosen).
 */
function deliveryForm(onMethod) {
  const field = (id, label, attributes = {}) => {
    const input = h('input', { id, name: id, required: true, autocomplete: attributes.autocomplete ?? 'off', ...attributes });
    return { input, row: h('div', {}, h('label', { for: id }, label), input) };
  };
  const fullName = field('ship-name', 'Full name', { autocomplete: 'name', maxlength: '200' });
  const street = field('ship-street', 'Street', { autocomplete: 'street-address', maxlength: '200' });
  const city = field('ship-city', 'City', { autocomplete: 'address-level2', maxlength: '200' });
  const zipCode = field('ship-zip', 'Postal code', { autocomplete: 'postal-code', maxlength: '200' });
  const country = field('ship-country', 'Country code (ISO, such as US or DE)', {
    autocomplete: 'country', pattern: '[A-Za-z]{2}', maxlength: '2', size: '2',
  });
  const methods = h('fieldset', { id: 'shipping-methods' }, h('legend', {}, 'Shipping'), h('p', {}, 'Loading the shipping methods…'));
  let chosen = null;
  const form = h('form', { id: 'checkout', 'aria-label': 'Delivery' },
    h('fieldset', {}, h('legend', {}, 'Deliver to'), fullName.row, street.row, city.row, zipCode.row, country.row),
    methods);
  return {
    form,
    async load() {
      try {
        const offered = await api.listShippingMethods();
        const choose = (method) => { chosen = method; onMethod(method); };
        methods.replaceChildren(h('legend', {}, 'Shipping'), ...offered.map((method, index) => {
          const id = `ship-by-${method.id}`;
          const radio = h('input', { type: 'radio', id, name: 'shipping-method', value: method.id, onchange: () => choose(method) });
          if (index === 0) { radio.checked = true; choose(method); }
          return h('div', { class: 'choice' }, radio, h('label', { for: id }, `${method.name} (${formatAmount(method.price)})`));
        }));
      } catch (error) {
        showError(error);
      }
    },
    value() {
      return {
        address: {
          fullName: fullName.input.value.trim(),
          street: street.input.value.trim(),
          city: city.input.value.trim(),
          zipCode: zipCode.input.value.trim(),
          country: country.input.value.trim().toUpperCase(),
        },
        method: chosen?.id,
      };
    },
  };
}

async function checkout(button, delivery) {
  clearMessages();
  const { address, method } = delivery.value();
  if (!method) {
    showError('Choose how the order ships.');
    return;
  }
  button.disabled = true;
  button.textContent = 'Placing your order…';
  try {
    const items = [...cart.values()].map(({ productId, quantity }) => ({ productId, quantity }));
    lastOrder = await api.placeOrder(items, address, method, checkoutKey);
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
  const status = h('span', { id: 'order-status' }, order.status);
  // Its payment, paid here while it waits for the customer; the order as read after a payment.
  const payment = customerPayment({
    name: `order ${order.id.slice(0, 8)}`,
    changed: (changed) => {
      lastOrder = changed;
      status.textContent = changed.status;
      payment.update(changed);
    },
  });
  payment.update(order);
  main.replaceChildren(
    h('h1', {}, 'Thank you: your order is placed'),
    h('p', {}, 'Order ', h('code', {}, order.id), ` on ${new Date(order.createdAt).toLocaleString('en-US')}, status `, status, '.'),
    ...(order.payment ? [h('section', { 'aria-labelledby': 'payment-heading', id: 'payment' },
      h('h2', { id: 'payment-heading' }, 'Payment'), payment.element)] : []),
    h('table', {},
      h('caption', {}, 'What you ordered'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col' }, 'Quantity'),
        h('th', { scope: 'col', class: 'amount' }, 'Unit price'), h('th', { scope: 'col', class: 'amount' }, 'Line total'))),
      h('tbody', {}, ...order.items.map((item) => h('tr', {},
        h('th', { scope: 'row' }, item.name), h('td', {}, String(item.quantity)),
        h('td', { class: 'amount' }, formatAmount(item.price)), h('td', { class: 'amount' }, formatAmount(item.lineTotal))))),
      h('tfoot', {},
        ...[['Subtotal', order.subtotal, 'order-subtotal'], ['Shipping', order.shipping, 'order-shipping'], ['Tax', order.tax, 'order-tax']]
          .map(([label, amount, id]) => h('tr', {}, h('th', { scope: 'row', colspan: '3' }, label), h('td', { class: 'amount', id }, formatAmount(amount)))),
        h('tr', {}, h('th', { scope: 'row', colspan: '3' }, 'Order total'),
          h('td', { class: 'amount total', id: 'order-total' }, formatAmount(order.total))))),
    ...(order.shippingAddress ? [h('p', { id: 'ship-to' }, 'Ships to ', h('strong', {}, order.shippingAddress.fullName),
      `, ${order.shippingAddress.street}, ${order.shippingAddress.city} ${order.shippingAddress.zipCode}, ${order.shippingAddress.country}`)] : []),
    h('div', { class: 'actions' }, h('a', { href: '#/orders' }, 'See my orders'), h('a', { href: '#/' }, 'Continue shopping')),
  );
  main.focus();
}

// --- routing ------------------------------------------------------------------------------

const views = {
  '#/': renderCatalogue,
  '#/cart': renderCart,
  '#/confirmation': renderConfirmation,
  '#/orders': renderMyOrders,
  '#/profile': () => renderProfile({ signedOut: signOut }),
  '#/admin/orders': renderShopOrders,
  '#/admin/catalogue': renderCatalogueAdmin,
  '#/admin/webhooks': renderWebhooksAdmin,
};

async function route() {
  const hash = location.hash in views ? location.hash : '#/';
  for (const link of document.querySelectorAll('nav a')) {
    if (link.getAttribute('href') === hash) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  await views[hash]();
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
