/**
 * Decimal strings ("12.5", "0.333") multiplied and summed exactly (BigInt, no float), rounded half-up to
 * the currency's minor unit as the API does — so a live total shows what the server will store.
 */
interface Scaled {
  value: bigint;
  scale: number;
}

export function parseDecimal(text: string | number | null | undefined): Scaled | null {
  const s = String(text ?? "").trim();
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return null;
  const frac = m[2] ?? "";
  return { value: BigInt(m[1] + frac), scale: frac.length };
}

/** quantity × unit price in minor units (cents for 2 digits), rounded half-up; null if either is not a number. */
export function lineAmountMinor(quantity: string, unitPrice: string, digits = 2): bigint | null {
  const q = parseDecimal(quantity);
  const p = parseDecimal(unitPrice);
  if (!q || !p) return null;
  const product = q.value * p.value;
  const scale = q.scale + p.scale;
  if (scale <= digits) return product * 10n ** BigInt(digits - scale);
  const divisor = 10n ** BigInt(scale - digits);
  return (product + divisor / 2n) / divisor;
}

/** Minor units back to a decimal string: 12345n, 2 → "123.45". */
export function minorToString(minor: bigint, digits = 2): string {
  if (digits === 0) return minor.toString();
  const s = minor.toString().padStart(digits + 1, "0");
  return `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** The sum of the lines that have a valid quantity and price, as a decimal string. */
export function linesTotal(lines: { quantity: string; unit_price: string }[], digits = 2): string {
  let total = 0n;
  for (const line of lines) total += lineAmountMinor(line.quantity, line.unit_price, digits) ?? 0n;
  return minorToString(total, digits);
}
