// The signed-in customer's profile: read it (none yet is an empty form), change name, e-mail
// and shipping address (the API's problems listed beside the form), download everything the
// shop holds about them as one JSON document, and delete the account (after a confirmation),
// which signs them out.

import * as api from './api.js';
import { clearMessages, field, formProblems, h, main, showError, showNotice } from './dom.js';
import * as session from './session.js';

/** @param {{signedOut: () => void}} hooks what the page does once the account is gone */
export async function renderProfile({ signedOut }) {
  const heading = h('h1', {}, 'Your profile');
  const current = session.currentSession();
  if (!current) {
    main.replaceChildren(heading, h('p', {}, 'Sign in (at the top of the page) to see your profile.'));
    return;
  }
  const customerId = current.customerId;
  const status = h('p', { id: 'profile-status' }, 'Loading your profile…');
  main.replaceChildren(heading, status);
  let profile;
  try {
    profile = await api.getProfile(customerId);
  } catch (error) {
    showError(error);
    status.textContent = 'Your profile could not be loaded.';
    return;
  }
  if (session.currentSession()?.customerId !== customerId) return; // signed out meanwhile
  if (!profile) status.textContent = 'You have no profile yet: fill in the form to create one.';
  else if (profile.updatedAt) status.textContent = `Last changed ${new Date(profile.updatedAt).toLocaleString('en-US')}.`;
  else status.textContent = 'Your profile as the shop holds it.';
  main.replaceChildren(heading, status, profileSection(customerId, profile, status), exportSection(customerId), deleteSection(customerId, signedOut));
}

function profileSection(customerId, profile, status) {
  const address = profile?.shippingAddress;
  const name = field('Name', { id: 'name', type: 'text', autocomplete: 'name', maxlength: '200', value: profile?.name ?? '' });
  const email = field('E-mail', { id: 'email', type: 'email', autocomplete: 'email', value: profile?.email ?? '' });
  const street = field('Street', { id: 'street', type: 'text', autocomplete: 'street-address', maxlength: '200', value: address?.street ?? '' });
  const city = field('City', { id: 'city', type: 'text', autocomplete: 'address-level2', maxlength: '200', value: address?.city ?? '' });
  const zip = field('ZIP code', { id: 'zip', type: 'text', autocomplete: 'postal-code', maxlength: '200', value: address?.zipCode ?? '' });
  const problems = formProblems('profile-problems', {
    name: name.control,
    email: email.control,
    'shippingAddress.street': street.control,
    'shippingAddress.city': city.control,
    'shippingAddress.zipCode': zip.control,
    shippingAddress: street.control,
  });
  const save = h('button', { type: 'submit' }, 'Save profile');
  const form = h('form', {
    class: 'profile',
    onsubmit: async (event) => {
      event.preventDefault();
      clearMessages();
      problems.clear();
      const value = (input) => input.control.value.trim();
      const changes = {};
      if (value(name)) changes.name = value(name);
      if (value(email)) changes.email = value(email);
      // An address is all three lines or none: the API names each one that is missing.
      if (value(street) || value(city) || value(zip)) {
        changes.shippingAddress = { street: value(street), city: value(city), zipCode: value(zip) };
      }
      if (!Object.keys(changes).length) {
        problems.list(['Fill in at least one field to save your profile.']);
        return;
      }
      save.disabled = true;
      try {
        const saved = await api.updateProfile(customerId, changes);
        status.textContent = `Last changed ${saved.updatedAt ? new Date(saved.updatedAt).toLocaleString('en-US') : 'just now'}.`;
        showNotice(`Profile saved${saved.email ? ` (e-mail ${saved.email})` : ''}.`);
      } catch (error) {
        problems.show(error);
      } finally {
        save.disabled = false;
      }
    },
  },
  name.element, email.element,
  h('fieldset', {}, h('legend', {}, 'Shipping address'), street.element, city.element, zip.element),
  problems.element,
  h('div', { class: 'actions' }, save));
  // The browser's own e-mail check would hide the API's message: the API validates.
  form.noValidate = true;
  return h('section', { 'aria-labelledby': 'profile-heading' },
    h('h2', { id: 'profile-heading' }, 'Your details'),
    h('p', {}, 'Fields left empty stay as they are. A shipping address needs all three lines.'),
    form);
}

function exportSection(customerId) {
  const fileName = `shop-export-${customerId}.json`;
  const button = h('button', {
    type: 'button', class: 'secondary',
    onclick: async () => {
      clearMessages();
      button.disabled = true;
      try {
        // The document exactly as the API wrote it: amounts stay the decimal text it sent.
        const text = await api.exportCustomer(customerId);
        const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
        const link = h('a', { href: url, download: fileName, hidden: true });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        showNotice(`Your data is downloaded as ${fileName}.`);
      } catch (error) {
        showError(error);
      } finally {
        button.disabled = false;
      }
    },
  }, 'Download my data');
  return h('section', { 'aria-labelledby': 'export-heading' },
    h('h2', { id: 'export-heading' }, 'Your data'),
    h('p', {}, 'Everything the shop holds about you (profile, address, orders with their lines and history, statistics), as one JSON file.'),
    button);
}

function deleteSection(customerId, signedOut) {
  const area = h('div', {});
  const start = h('button', { type: 'button', class: 'danger', onclick: () => confirmStep() }, 'Delete my account…');
  const confirmStep = () => {
    clearMessages();
    const question = h('p', { id: 'delete-question', tabindex: '-1', class: 'confirm' },
      'Delete your account? Your name, e-mail and address are erased and you can no longer sign in. Your orders stay in the shop\'s accounts under an anonymous id. This cannot be undone.');
    const yes = h('button', {
      type: 'button', class: 'danger', 'aria-describedby': 'delete-question',
      onclick: async () => {
        yes.disabled = true;
        try {
          await api.deleteCustomer(customerId);
          signedOut();
          showNotice('Your account is deleted, and you are signed out.');
        } catch (error) {
          showError(error);
          yes.disabled = false;
        }
      },
    }, 'Yes, delete my account');
    const no = h('button', { type: 'button', class: 'secondary', onclick: () => { area.replaceChildren(start); start.focus(); } }, 'Keep my account');
    area.replaceChildren(question, h('div', { class: 'actions' }, yes, no));
    question.focus();
  };
  area.append(start);
  return h('section', { 'aria-labelledby': 'delete-heading' },
    h('h2', { id: 'delete-heading' }, 'Delete your account'),
    area);
}
