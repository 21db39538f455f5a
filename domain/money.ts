/**
 * Money is a whole number of cents everywhere inside the system; the HTTP edge converts.
 * Commissions are computed in integers too (percent in basis points), rounded half-up.
 */
export type Cents = number;

export function isCents(value: unknown): value is Cents {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** `2000` → `"20.00"`: how amounts are printed in descriptions and letters. */
export function formatCents(cents: Cents): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `price × percent / 100`, half-up to the cent, with `percent` given in basis points (10 % = 1000). */
export function commissionOf(price: Cents, percentBasisPoints: number): Cents {
  return Math.floor((price * percentBasisPoints + 5000) / 10000);
}
