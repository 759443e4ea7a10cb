import {phpRound} from '../php/round.js'

/**
 * Order money (reference §4.2): whole Rupiah, never negative. A line is round(metric × unit price), PHP's
 * half away from zero; the total is Σ lines + shipping − discount, clamped at 0; due = total − paid,
 * clamped at 0 (overpayment is allowed and leaves due at 0).
 */

/**
 * The largest amount the money columns hold on every engine (PostgreSQL `integer`; MySQL's unsigned int
 * holds more): beyond it upstream's insert failed with a 500, ours is a 422 on the field.
 */
export const MAX_AMOUNT = 2_147_483_647
/** The largest qty or weight_kg a decimal(10,2) column holds. */
export const MAX_METRIC = 99_999_999.99

/** The effective unit price: an active outlet override when it is set, else the service's base price. */
export function unitPrice(basePrice: number, activeOverride: number | null | undefined): number {
  return Math.trunc(Number(activeOverride ?? basePrice))
}

/** `(int) round($metric * $unitPrice)`: the metric is weight_kg for `kg` services and qty otherwise. */
export function lineSubtotal(metric: number, price: number): number {
  return Math.trunc(phpRound(metric * price))
}

/** max(Σ subtotals + shipping − discount, 0). */
export function orderTotal(subtotals: readonly number[], shippingFee: number, discount: number): number {
  const sum = subtotals.reduce((a, b) => a + b, 0)
  return Math.max(sum + shippingFee - discount, 0)
}

/** max(total − paid, 0). */
export function dueAmount(total: number, paid: number): number {
  return Math.max(total - paid, 0)
}

/**
 * Laravel's `decimal:2` cast of qty and weight_kg: a string with two decimals ("5.20"), or null. The value
 * is a number (SQLite, or an input) or the numeric text PostgreSQL returns.
 */
export function decimal2(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(n)) return null
  return phpRound(n, 2).toFixed(2)
}

/** What a decimal(10,2) column keeps of a metric: two places, half away from zero (as MySQL and PostgreSQL store it). */
export function storedDecimal(value: number | null): number | null {
  return value === null ? null : phpRound(value, 2)
}
