// Money in integer cents: the API's amounts (decimal strings or JSON numbers with at most two
// decimals) are read as text, never through float arithmetic.

/**
 * @param {string | number} amount e.g. "599.99", 59.97, 12
 * @returns {number} cents
 */
export function toCents(amount) {
  const text = typeof amount === 'number' ? String(amount) : String(amount).trim();
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) throw new Error(`not an amount: ${text}`);
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/**
 * @param {number} cents
 * @returns {string} e.g. "$1,234.50"
 */
export function formatCents(cents) {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = (abs - (abs % 100)) / 100;
  return `${sign}$${dollars.toLocaleString('en-US')}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * @param {string | number} amount
 * @returns {string}
 */
export function formatAmount(amount) {
  return formatCents(toCents(amount));
}
