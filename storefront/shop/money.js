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

/**
 * The decimal text the API reads exactly, for sending an amount.
 * @param {number} cents
 * @returns {string} e.g. "1234.50"
 */
export function centsToDecimal(cents) {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new Error(`not an amount in cents: ${cents}`);
  return `${(cents - (cents % 100)) / 100}.${String(cents % 100).padStart(2, '0')}`;
}

/**
 * What a person typed as a price ("19.9", "1,234.50", "$5"), as cents; null when it is not an
 * amount of at most two decimals.
 * @param {string} text
 * @returns {number | null}
 */
export function parseAmountInput(text) {
  const cleaned = text.trim().replace(/^\$/, '').replace(/,(?=\d{3}(\D|$))/g, '');
  try {
    return toCents(cleaned);
  } catch {
    return null;
  }
}
