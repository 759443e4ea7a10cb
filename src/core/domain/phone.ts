/**
 * Upstream's customer phone normalisation: digits only, `00` dropped, a leading `0` (or a bare `8`)
 * becomes `62`, and the result must be 62… with 9 to 16 digits. Returns null when invalid.
 */
export function normalizePhone(raw: string): string | null {
  let digits = raw.replace(/\D+/g, '')
  if (digits === '') return null
  if (digits.startsWith('00')) digits = digits.slice(2)
  if (digits.startsWith('0')) digits = `62${digits.slice(1)}`
  else if (digits.startsWith('8')) digits = `62${digits}`
  if (!digits.startsWith('62')) return null
  if (digits.length < 9 || digits.length > 16) return null
  return digits
}
