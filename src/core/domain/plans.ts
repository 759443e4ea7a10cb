/** Plans whose tenants may use WhatsApp; upstream hard-codes the list and compares keys case-insensitively. */
export const WA_PLAN_KEYS = ['premium', 'pro'] as const

export function planAllowsWhatsapp(planKey: string | null | undefined): boolean {
  return typeof planKey === 'string' && (WA_PLAN_KEYS as readonly string[]).includes(planKey.toLowerCase())
}
