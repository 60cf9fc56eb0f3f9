/**
 * The demo's meters, as numbers: shared by `npm run demo` and the test that
 * checks the 1.5x rule is meaningful with them (no alert on ordinary noise,
 * an alert on the spike).
 */
/** Seconds between increments of every demo meter. */
export const DEMO_INCREMENT_INTERVAL_S = 0.2;
/** Smallest increment (units of 1 kWh): 15 to 20 each, so periods vary by a few percent. */
export const DEMO_MIN_INCREMENT_UNITS = 15;
/** Seconds between readings of the steady meters: about 10 increments a period. */
export const DEMO_SEND_INTERVAL_S = 2;
/** The spiking meter reports every 5 s, so its alert stays visible for a whole period. */
export const DEMO_PEAK_SEND_INTERVAL_S = 5;
export const DEMO_PEAK_FACTOR = '4';
export const DEMO_PEAK_AFTER_S = 20;
