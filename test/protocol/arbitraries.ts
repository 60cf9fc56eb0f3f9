/** fast-check arbitraries shared by the protocol tests. */
import fc from 'fast-check';

/** Registers the protocol allows: up to 15 significant digits, up to 3 decimals (in thousandths). */
export const registerArbitrary = fc.bigInt({ min: 0n, max: 10n ** 15n - 1n });

export const MIN_INSTANT = Date.UTC(1970, 0, 1);
export const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** Instants with a four-digit year, the range of the canonical timestamp form. */
export const instantArbitrary = fc.integer({ min: MIN_INSTANT, max: MAX_INSTANT });
