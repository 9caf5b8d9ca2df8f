// What every view shares: the element builder, the page's two message regions, the problems
// list a form shows beside itself, and how dates, statuses and people are written.

import { ApiError } from './api.js';

export const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const errorRegion = /** @type {HTMLElement} */ (document.getElementById('error'));
const noticeRegion = /** @type {HTMLElement} */ (document.getElementById('notice'));

/**
 * A tiny element builder: h('button', {type: 'button', onclick}, 'Add').
 * @param {string} tag
 * @param {Record<string, any>} [attributes]
 * @param {...(Node | string | null | undefined | false)} children
 */
export function h(tag, attributes = {}, ...children) {
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

export function showError(error) {
  noticeRegion.textContent = '';
  errorRegion.replaceChildren();
  const message = error instanceof Error ? error.message : String(error);
  errorRegion.append(h('p', {}, message));
  if (error instanceof ApiError && error.details.length) {
    errorRegion.append(h('ul', {}, ...error.details.map((detail) => h('li', {}, detail))));
  }
}

export function showNotice(message) {
  errorRegion.replaceChildren();
  noticeRegion.textContent = message;
}

export function clearMessages() {
  errorRegion.replaceChildren();
  noticeRegion.textContent = '';
}

let uniqueIds = 0;
/** An id no other element of the page has, for label/input pairs made many times over. */
export function uniqueId(prefix) {
  uniqueIds += 1;
  return `${prefix}-${uniqueIds}`;
}

/**
 * A labelled input (or textarea/select when `tag` says so) in its own block.
 * @param {string} label
 * @param {Record<string, any>} attributes the control's, `id` included
 * @param {string} [hint] a line under the label, tied to the control
 */
export function field(label, attributes, hint, tag = 'input') {
  const hintId = hint ? `${attributes.id}-hint` : undefined;
  const { value, ...rest } = attributes;
  const control = h(tag, { name: attributes.id, 'aria-describedby': hintId, ...rest });
  // The starting value as the control's default, so that a form's reset() goes back to it.
  if (value !== undefined && tag === 'textarea') control.textContent = value;
  else if (value !== undefined) control.setAttribute('value', value);
  return {
    control,
    element: h('div', { class: 'field' },
      h('label', { for: attributes.id }, label),
      hint ? h('span', { class: 'field-hint', id: hintId }, hint) : null,
      control),
  };
}

/**
 * The list of what the API refused in a form (a 400's `errors`), shown beside the form; the
 * controls each problem names are marked invalid and point at the list. Anything but a 400
 * goes to the page's alert region.
 * @param {string} id
 * @param {Record<string, HTMLElement>} controls the API's field path -> the control that edits it
 */
export function formProblems(id, controls) {
  const element = h('div', { id, class: 'problems', role: 'alert' });
  const clear = () => {
    element.replaceChildren();
    for (const control of Object.values(controls)) {
      control.removeAttribute('aria-invalid');
      const described = (control.getAttribute('aria-describedby') ?? '').split(' ').filter((token) => token && token !== id);
      if (described.length) control.setAttribute('aria-describedby', described.join(' '));
      else control.removeAttribute('aria-describedby');
    }
  };
  /** @param {string[]} problems */
  const list = (problems) => {
    clear();
    element.append(h('p', {}, 'Please correct the following and try again:'),
      h('ul', {}, ...problems.map((problem) => h('li', {}, problem))));
    for (const [path, control] of Object.entries(controls)) {
      if (!problems.some((problem) => problem === path || problem.startsWith(`${path} `))) continue;
      control.setAttribute('aria-invalid', 'true');
      const described = (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
      control.setAttribute('aria-describedby', [...described, id].join(' '));
    }
  };
  return {
    element,
    clear,
    list,
    /** Shows what went wrong: a 400's problems here, anything else in the alert region. */
    show(error) {
      if (error instanceof ApiError && error.status === 400) {
        clearMessages();
        list(error.details);
      } else {
        clear();
        showError(error);
      }
    },
  };
}

/** @param {string} timestamp the API's UTC instant */
export function when(timestamp) {
  return h('time', { datetime: timestamp }, new Date(timestamp).toLocaleString('en-US'));
}

/** @param {string} status e.g. "CREATED" */
export function statusBadge(status) {
  return h('span', { class: `status status-${status.toLowerCase()}` }, status);
}

const ACTORS = { customer: 'Customer', admin: 'Admin', system: 'System' };

/** @param {string} by the API's actor: customer, admin or system */
export function actorText(by) {
  return ACTORS[by] ?? by;
}
