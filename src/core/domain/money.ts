/** Whole Rupiah, Indonesian style: no decimals, `.` between thousands (22000 → "22.000"). */
export function formatRupiah(amount: number): string {
  const rounded = Math.round(Number(amount) || 0)
  const sign = rounded < 0 ? '-' : ''
  return sign + String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, '.')
}
