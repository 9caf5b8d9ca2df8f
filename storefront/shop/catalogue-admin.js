// The admin's catalogue: add a product, change one (only the fields changed are sent), adjust
// its stock by a number of units in or out (never below zero: the API refuses with 409), and
// retire it (after a confirmation). Prices are typed as text and sent as the decimal text the
// API reads exactly (money.js), never through float arithmetic.

import * as api from './api.js';
import { clearMessages, field, formProblems, h, main, showError, showNotice, uniqueId } from './dom.js';
import { centsToDecimal, formatAmount, parseAmountInput, toCents } from './money.js';
import * as session from './session.js';

/** @typedef {{id: string, name: string, price: number | string, stock: number, category: string, sku: string, description: string}} Product */

const PRICE_HINT = 'In dollars, e.g. 19.99.';

export async function renderCatalogueAdmin() {
  const heading = h('h1', {}, 'Manage the catalogue');
  if (!session.isAdmin()) {
    main.replaceChildren(heading, h('p', {}, 'This page is for the shop\'s admins: sign in as an admin to use it.'));
    return;
  }
  const listing = productListing();
  main.replaceChildren(heading, newProductSection((product) => listing.show(product.category)), listing.element);
  await listing.load();
}

/**
 * The price typed in `input` as decimal text for the API, or a problem in words.
 * @returns {{price: string} | {problem: string}}
 */
function priceOf(input) {
  const cents = parseAmountInput(input.value);
  if (cents === null) return { problem: 'price must be an amount in dollars with at most two decimals, e.g. 19.99' };
  if (cents <= 0) return { problem: 'price must be greater than 0' };
  return { price: centsToDecimal(cents) };
}

function newProductSection(created) {
  const name = field('Name', { id: 'new-name', required: true, maxlength: '200', autocomplete: 'off' });
  const category = field('Category', { id: 'new-category', required: true, maxlength: '100', autocomplete: 'off' });
  const price = field('Price', { id: 'new-price', required: true, inputmode: 'decimal', autocomplete: 'off' }, PRICE_HINT);
  const stock = field('Stock', { id: 'new-stock', type: 'number', min: '0', max: '1000000', step: '1', inputmode: 'numeric', value: '0' }, 'Units on hand.');
  const sku = field('SKU (optional)', { id: 'new-sku', maxlength: '64', autocomplete: 'off' }, 'Letters, digits, dots, dashes and underscores; made up by the shop when left empty.');
  const description = field('Description (optional)', { id: 'new-description', maxlength: '2000', rows: '3' }, undefined, 'textarea');
  const problems = formProblems('new-product-problems', {
    name: name.control, category: category.control, price: price.control, stock: stock.control, sku: sku.control, description: description.control,
  });
  const submit = h('button', { type: 'submit' }, 'Add product');
  const form = h('form', {
    class: 'admin-form', 'aria-labelledby': 'new-product-heading',
    onsubmit: async (event) => {
      event.preventDefault();
      clearMessages();
      const priced = priceOf(price.control);
      const units = Number(stock.control.value);
      const local = [];
      if ('problem' in priced) local.push(priced.problem);
      if (stock.control.value.trim() === '' || !Number.isInteger(units) || units < 0) local.push('stock must be a whole number of units, 0 or more');
      if (local.length) {
        problems.list(local);
        return;
      }
      const product = {
        name: name.control.value.trim(),
        category: category.control.value.trim(),
        price: /** @type {{price: string}} */ (priced).price,
        stock: units,
      };
      if (sku.control.value.trim()) product.sku = sku.control.value.trim();
      if (description.control.value.trim()) product.description = description.control.value.trim();
      submit.disabled = true;
      try {
        const saved = await api.createProduct(product);
        problems.clear();
        form.reset();
        created(saved);
        showNotice(`${saved.name} is added (SKU ${saved.sku}, ${formatAmount(saved.price)}, ${saved.stock} in stock).`);
      } catch (error) {
        problems.show(error);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div', { class: 'field-row' }, name.element, category.element),
  h('div', { class: 'field-row' }, price.element, stock.element, sku.element),
  description.element,
  problems.element,
  h('div', { class: 'actions' }, submit));
  // The API checks every field and lists every problem at once; the browser's checks would
  // stop at the first.
  form.noValidate = true;
  return h('section', { 'aria-labelledby': 'new-product-heading' },
    h('h2', { id: 'new-product-heading' }, 'Add a product'), form);
}

/** The catalogue as a table, one category or all, with each product's admin actions. */
function productListing() {
  const state = { category: '', nextCursor: '', request: 0 };
  const headingText = () => (state.category ? `Products: ${state.category}` : 'Products');
  const heading = h('h2', { id: 'products-heading' }, headingText());
  const input = h('input', { id: 'admin-category', name: 'category', autocomplete: 'off' });
  const body = h('tbody', {});
  const empty = h('p', { hidden: true }, 'No products found.');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load({ more: true }) }, 'Show more products');
  const table = h('table', { class: 'products-admin' },
    h('caption', { class: 'visually-hidden' }, 'Products, with what an admin may do to each'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col' }, 'Category'),
      h('th', { scope: 'col', class: 'amount' }, 'Price'), h('th', { scope: 'col', class: 'amount' }, 'Stock'),
      h('th', { scope: 'col' }, 'Actions'))),
    body);

  const load = async ({ more: next = false } = {}) => {
    const request = ++state.request;
    try {
      const page = await api.listProducts({ category: state.category, cursor: next ? state.nextCursor : '' });
      if (request !== state.request) return;
      const rows = page.products.flatMap((product) => productRows(product));
      if (next) body.append(...rows);
      else body.replaceChildren(...rows);
      state.nextCursor = page.nextCursor;
      more.hidden = !state.nextCursor;
      heading.textContent = headingText();
      empty.hidden = body.childElementCount > 0;
      table.hidden = !empty.hidden;
    } catch (error) {
      showError(error);
    }
  };

  const filter = h('form', {
    class: 'filter', role: 'search', 'aria-label': 'Products by category',
    onsubmit: (event) => {
      event.preventDefault();
      clearMessages();
      state.category = input.value.trim();
      load();
    },
  },
  h('div', {}, h('label', { for: 'admin-category' }, 'Category'), input),
  h('button', { type: 'submit' }, 'Filter'),
  h('button', { type: 'button', class: 'secondary', onclick: () => { input.value = ''; state.category = ''; clearMessages(); load(); } }, 'Show all'));

  return {
    element: h('section', { 'aria-labelledby': 'products-heading' }, heading, filter, table, empty, more),
    load,
    /** Shows one category's products, e.g. the one just added to. */
    show(category) {
      input.value = category;
      state.category = category;
      return load();
    },
  };
}

/**
 * A product's row, and under it the row where its edit, stock or retire form opens.
 * @param {Product} initial
 * @returns {HTMLTableRowElement[]}
 */
function productRows(initial) {
  let product = initial;
  const nameCell = h('th', { scope: 'row' });
  const categoryCell = h('td', {});
  const priceCell = h('td', { class: 'amount' });
  const stockCell = h('td', { class: 'amount' });
  const edit = h('button', { type: 'button', class: 'secondary', onclick: () => open(editForm, edit) }, 'Edit');
  const adjust = h('button', { type: 'button', class: 'secondary', onclick: () => open(stockForm, adjust) }, 'Adjust stock');
  const retire = h('button', { type: 'button', class: 'danger', onclick: () => open(retireForm, retire) }, 'Retire');
  const row = h('tr', { 'data-product-id': product.id }, nameCell, categoryCell, priceCell, stockCell,
    h('td', {}, h('div', { class: 'row-actions' }, edit, adjust, retire)));
  const panelCell = h('td', { colspan: '5' });
  const panelRow = h('tr', { class: 'panel', hidden: true }, panelCell);

  const draw = () => {
    nameCell.replaceChildren(product.name, h('span', { class: 'sku' }, `SKU ${product.sku}`));
    categoryCell.textContent = product.category;
    priceCell.textContent = formatAmount(product.price);
    stockCell.textContent = String(product.stock);
    // Each button names its product, so that a list of buttons still says which is which.
    edit.setAttribute('aria-label', `Edit ${product.name}`);
    adjust.setAttribute('aria-label', `Adjust stock of ${product.name}`);
    retire.setAttribute('aria-label', `Retire ${product.name}`);
  };

  let opener = edit;
  const close = ({ focus = true } = {}) => {
    panelCell.replaceChildren();
    panelRow.hidden = true;
    if (focus) opener.focus();
  };
  const open = (makeForm, button) => {
    clearMessages();
    opener = button;
    const { form, first } = makeForm();
    panelCell.replaceChildren(form);
    panelRow.hidden = false;
    first.focus();
  };
  const cancelButton = (label = 'Back') => h('button', { type: 'button', class: 'secondary', onclick: () => close() }, label);

  function editForm() {
    const id = uniqueId('edit');
    const name = field('Name', { id: `${id}-name`, maxlength: '200', autocomplete: 'off', value: product.name });
    const category = field('Category', { id: `${id}-category`, maxlength: '100', autocomplete: 'off', value: product.category });
    const price = field('Price', { id: `${id}-price`, inputmode: 'decimal', autocomplete: 'off', value: centsToDecimal(toCents(product.price)) }, PRICE_HINT);
    const description = field('Description', { id: `${id}-description`, maxlength: '2000', rows: '3', value: product.description ?? '' }, undefined, 'textarea');
    const problems = formProblems(`${id}-problems`, { name: name.control, category: category.control, price: price.control, description: description.control });
    const save = h('button', { type: 'submit' }, 'Save changes');
    const form = h('form', {
      class: 'inline-form', 'aria-label': `Edit ${product.name}`,
      onsubmit: async (event) => {
        event.preventDefault();
        clearMessages();
        const changes = {};
        const local = [];
        const newName = name.control.value.trim();
        const newCategory = category.control.value.trim();
        const newDescription = description.control.value.trim();
        if (newName !== product.name) changes.name = newName;
        if (newCategory !== product.category) changes.category = newCategory;
        if (newDescription !== (product.description ?? '')) changes.description = newDescription;
        const priced = priceOf(price.control);
        if ('problem' in priced) local.push(priced.problem);
        else if (toCents(priced.price) !== toCents(product.price)) changes.price = priced.price;
        if (local.length) {
          problems.list(local);
          return;
        }
        if (!Object.keys(changes).length) {
          problems.list(['Nothing is changed: change a field, or go back.']);
          return;
        }
        save.disabled = true;
        try {
          product = await api.updateProduct(product.id, changes);
          draw();
          close();
          showNotice(`${product.name} is saved (${formatAmount(product.price)}).`);
        } catch (error) {
          problems.show(error);
          save.disabled = false;
        }
      },
    },
    h('div', { class: 'field-row' }, name.element, category.element, price.element),
    description.element, problems.element,
    h('div', { class: 'actions' }, save, cancelButton()));
    form.noValidate = true;
    return { form, first: name.control };
  }

  function stockForm() {
    const id = uniqueId('stock');
    const delta = field('Units to add', { id: `${id}-delta`, type: 'number', step: '1', min: '-1000000', max: '1000000', inputmode: 'numeric' },
      `${product.stock} in stock now. A negative number takes units out.`);
    const reason = field('Reason (optional)', { id: `${id}-reason`, maxlength: '500', autocomplete: 'off' });
    const problems = formProblems(`${id}-problems`, { delta: delta.control, reason: reason.control });
    const apply = h('button', { type: 'submit' }, 'Adjust stock');
    const form = h('form', {
      class: 'inline-form', 'aria-label': `Adjust stock of ${product.name}`,
      onsubmit: async (event) => {
        event.preventDefault();
        clearMessages();
        const units = Number(delta.control.value);
        if (delta.control.value.trim() === '' || !Number.isInteger(units) || units === 0) {
          problems.list(['delta must be a whole number of units other than 0 (negative to take units out)']);
          return;
        }
        apply.disabled = true;
        try {
          product = await api.adjustStock(product.id, units, reason.control.value.trim());
          draw();
          close();
          showNotice(`${product.name}: ${units > 0 ? `${units} added` : `${-units} taken out`}, ${product.stock} in stock now.`);
        } catch (error) {
          problems.show(error);
          apply.disabled = false;
        }
      },
    },
    h('div', { class: 'field-row' }, delta.element, reason.element),
    problems.element,
    h('div', { class: 'actions' }, apply, cancelButton()));
    form.noValidate = true;
    return { form, first: delta.control };
  }

  function retireForm() {
    const questionId = uniqueId('retire');
    const question = h('p', { id: questionId, class: 'confirm', tabindex: '-1' },
      `Retire ${product.name}? It leaves the catalogue and new orders refuse it; orders that hold it keep it as it was sold.`);
    const yes = h('button', {
      type: 'button', class: 'danger', 'aria-describedby': questionId,
      onclick: async () => {
        clearMessages();
        yes.disabled = true;
        try {
          await api.retireProduct(product.id);
          const heading = document.getElementById('products-heading');
          row.remove();
          panelRow.remove();
          showNotice(`${product.name} is retired: it is no longer in the catalogue.`);
          heading?.setAttribute('tabindex', '-1');
          heading?.focus();
        } catch (error) {
          showError(error);
          yes.disabled = false;
        }
      },
    }, 'Yes, retire it');
    const form = h('div', { class: 'inline-form', role: 'group', 'aria-label': `Retire ${product.name}` },
      question, h('div', { class: 'actions' }, yes, cancelButton('Keep it')));
    return { form, first: question };
  }

  draw();
  return [row, panelRow];
}
