/**
 * PHP's `round($value, $places)` (PHP_ROUND_HALF_UP) as PHP 8.2 computes it: the value is first
 * "pre-rounded" to 15 significant digits, so a decimal that binary floating point stores a hair below
 * the half (1.005 is 1.00499999999999989...) still rounds up, as it does in PHP. `Math.round(x * 100) /
 * 100` gives 1 where upstream printed 1.01.
 */
export function phpRound(value: number, places = 0): number {
  if (!Number.isFinite(value) || value === 0) return value
  const factor = 10 ** places
  const scaled = Math.abs(value) * factor
  // Beyond 15 digits there is nothing left to round (PHP returns the value as it is).
  if (scaled >= 1e15) return value
  const rounded = Math.floor(Number(scaled.toPrecision(15)) + 0.5)
  return (Math.sign(value) * rounded) / factor
}
