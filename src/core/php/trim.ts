/**
 * PHP's trim(), ltrim() and rtrim() with their default character list. String.prototype.trim would
 * also strip NBSP and the other Unicode spaces, which PHP keeps.
 */
const PHP_TRIM_CHARS = ' \t\n\r\0\v'

export function phpTrim(text: string): string {
  return phpRtrim(phpLtrim(text))
}

export function phpLtrim(text: string): string {
  let start = 0
  while (start < text.length && PHP_TRIM_CHARS.includes(text[start])) start++
  return text.slice(start)
}

export function phpRtrim(text: string): string {
  let end = text.length
  while (end > 0 && PHP_TRIM_CHARS.includes(text[end - 1])) end--
  return text.slice(0, end)
}
