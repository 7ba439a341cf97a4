/**
 * Invoice totals as the server computes them (core_api/billing/money.py), in integer arithmetic (BigInt) so
 * no float ever drifts: a line's amount is quantity × unit price rounded half-up to the currency's minor
 * unit, its tax is amount × rate / 100 rounded the same way, and the totals are sums of the rounded lines.
 */

/** Decimal places the API accepts for quantities, unit prices and tax rates. */
export const INPUT_PLACES = 4;

const MINOR_UNITS: Record<string, number> = { JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, BHD: 3, JOD: 3, KWD: 3, OMR: 3, TND: 3 };

/** The currency's minor unit digits (2 unless the server's table says otherwise). */
export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency.toUpperCase()] ?? 2;
}

const TEN = BigInt(10);
const ZERO = BigInt(0);
const pow10 = (n: number) => TEN ** BigInt(n);

/**
 * "12.5" → 125000n at 4 places. Null for anything that is not a plain non-negative decimal with at most
 * `places` decimals (no exponents, no thousands separators, no sign).
 */
export function parseDecimal(text: string, places = INPUT_PLACES): bigint | null {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (!m[1] && !m[2])) return null;
  const frac = m[2] ?? "";
  if (frac.length > places) return null;
  return BigInt((m[1] || "0") + frac.padEnd(places, "0"));
}

/** 123450n at 2 places → "1234.50". */
export function formatScaled(value: bigint, places: number): string {
  const negative = value < ZERO;
  const digits = (negative ? -value : value).toString().padStart(places + 1, "0");
  const whole = places ? digits.slice(0, -places) : digits;
  const frac = places ? `.${digits.slice(-places)}` : "";
  return `${negative ? "-" : ""}${whole}${frac}`;
}

/** n / d rounded half-up, for n ≥ 0 and d > 0. */
function divRound(n: bigint, d: bigint): bigint {
  return (n * BigInt(2) + d) / (d * BigInt(2));
}

export interface LineInput {
  quantity: string;
  unit_price: string;
  tax_rate?: string | null;
}

export interface LineMoney {
  /** In the currency's minor units; null when an input is not a valid number. */
  amount: bigint | null;
  tax: bigint | null;
}

export function priceLine(line: LineInput, currency: string): LineMoney {
  const minor = minorUnits(currency);
  const q = parseDecimal(line.quantity);
  const p = parseDecimal(line.unit_price);
  const rateText = (line.tax_rate ?? "").trim();
  const rate = rateText ? parseDecimal(rateText) : ZERO;
  if (q === null || p === null) return { amount: null, tax: null };
  // q and p carry 4 decimals each: their product carries 8; bring it to the minor unit.
  const amount = divRound(q * p, pow10(2 * INPUT_PLACES - minor));
  if (rate === null) return { amount, tax: null };
  // amount × rate / 100, the rate carrying 4 decimals.
  const tax = divRound(amount * rate, BigInt(100) * pow10(INPUT_PLACES));
  return { amount, tax };
}

export interface Totals {
  subtotal: string;
  tax: string;
  total: string;
  /** Per line, formatted, or null where the line's inputs are not numbers yet. */
  lines: { amount: string | null; tax: string | null }[];
}

export function invoiceTotals(lines: LineInput[], currency: string): Totals {
  const minor = minorUnits(currency);
  let subtotal = ZERO;
  let tax = ZERO;
  const out: Totals["lines"] = [];
  for (const line of lines) {
    const priced = priceLine(line, currency);
    subtotal += priced.amount ?? ZERO;
    tax += priced.tax ?? ZERO;
    out.push({
      amount: priced.amount === null ? null : formatScaled(priced.amount, minor),
      tax: priced.tax === null ? null : formatScaled(priced.tax, minor),
    });
  }
  return {
    subtotal: formatScaled(subtotal, minor),
    tax: formatScaled(tax, minor),
    total: formatScaled(subtotal + tax, minor),
    lines: out,
  };
}

/** Compares two decimal strings exactly (-1, 0, 1); null when either is not a decimal. */
export function compareDecimal(a: string, b: string, places = INPUT_PLACES): number | null {
  const x = parseDecimal(a, places);
  const y = parseDecimal(b, places);
  if (x === null || y === null) return null;
  return x < y ? -1 : x > y ? 1 : 0;
}
