/**
 * The built-in WhatsApp template catalogue (upstream-ops §2.5, upstream-schema-api §4.8). These are the
 * definitions used when neither the outlet nor the tenant has its own `wa_templates` row
 * (source 'default', version 1). The Indonesian strings are the exact upstream literals: acceptance
 * checks compare message bodies byte for byte, so do not "fix" their wording or punctuation.
 */

/** The catalogue ids, in upstream's order. Only these ids can be resolved or upserted. */
export const TEMPLATE_IDS = ['WA_PICKUP_CONFIRM', 'WA_PICKUP_OTW', 'WA_LAUNDRY_READY', 'WA_DELIVERY_OTW', 'WA_ORDER_DONE', 'WA_BILLING_REMINDER'] as const

export type TemplateId = (typeof TEMPLATE_IDS)[number]

/**
 * A condition of the template DSL (see renderer.ts). Definitions come from JSON stored per tenant, so a
 * condition is any JSON value; the renderer gives every shape a defined meaning.
 */
export type TemplateCondition = unknown

export interface TemplateLine {
  text: string
  condition?: TemplateCondition
  /** Optional lines are the first to go when the body exceeds max_length. */
  optional?: boolean
}

/** A bare string is the same as `{text}` with no condition. */
export type TemplateBodyLine = string | TemplateLine

export interface TemplateDefinition {
  body_lines: TemplateBodyLine[]
  /** Every name must have a value. */
  required_vars_all?: string[]
  /** Groups of alternatives (at least one per group must have a value); a flat list is one group. */
  required_vars_any?: string[][] | string[]
  /** target → source name(s); the first source with a value fills an empty target. */
  fallbacks?: Record<string, string | string[]>
  /** In UTF-8 bytes; the renderer defaults to 1200. */
  max_length?: number
}

export function isTemplateId(value: unknown): value is TemplateId {
  return typeof value === 'string' && (TEMPLATE_IDS as readonly string[]).includes(value)
}

// Shared parts: every catalogue template has the same requirements and the same invoice-or-code pair.
const REQUIRED_VARS_ALL = ['brand_name', 'customer_name', 'to_phone']
const REQUIRED_VARS_ANY = [['invoice_no', 'order_code']]
const CATALOG_MAX_LENGTH = 700

const invoiceOrCodeLines = (): TemplateLine[] => [
  {text: 'No invoice: {{invoice_no}}.', condition: {exists: 'invoice_no'}},
  {text: 'Kode order: {{order_code}}.', condition: {notExists: 'invoice_no'}},
]

function catalogTemplate(bodyLines: TemplateBodyLine[], extra: Partial<TemplateDefinition> = {}): TemplateDefinition {
  return {
    required_vars_all: [...REQUIRED_VARS_ALL],
    required_vars_any: REQUIRED_VARS_ANY.map((group) => [...group]),
    ...extra,
    max_length: CATALOG_MAX_LENGTH,
    body_lines: bodyLines,
  }
}

/** Freezes the shared defaults so a caller cannot alter the catalogue for everyone by mutating one. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

export const DEFAULT_TEMPLATES: Record<TemplateId, TemplateDefinition> = deepFreeze({
  WA_PICKUP_CONFIRM: catalogTemplate(
    [
      'Halo {{customer_name}}, pesanan Anda sudah kami terima di {{brand_name}}.',
      ...invoiceOrCodeLines(),
      {text: 'Status awal: menunggu pickup kurir.', condition: {isTrue: 'is_pickup_delivery'}, optional: true},
      {text: 'Total saat ini: Rp{{total_amount}}.', condition: {exists: 'total_amount'}, optional: true},
      'Terima kasih.',
    ],
    {fallbacks: {customer_name: ['customer_display_name']}},
  ),
  WA_PICKUP_OTW: catalogTemplate([
    'Halo {{customer_name}}, kurir {{courier_name}} sedang menuju lokasi pickup Anda.',
    ...invoiceOrCodeLines(),
    {text: 'Kontak kurir: {{courier_phone}}.', condition: {exists: 'courier_phone'}, optional: true},
    'Terima kasih, {{brand_name}}.',
  ]),
  WA_LAUNDRY_READY: catalogTemplate([
    'Halo {{customer_name}}, laundry Anda sudah siap di {{brand_name}}.',
    ...invoiceOrCodeLines(),
    {text: 'Sisa tagihan: Rp{{due_amount}}.', condition: {gt: ['due_amount_numeric', 0]}, optional: true},
    'Silakan ambil atau tunggu jadwal antar.',
  ]),
  WA_DELIVERY_OTW: catalogTemplate([
    'Halo {{customer_name}}, pesanan Anda sedang diantar kurir {{courier_name}}.',
    ...invoiceOrCodeLines(),
    {text: 'Kontak kurir: {{courier_phone}}.', condition: {exists: 'courier_phone'}, optional: true},
    'Mohon siapkan penerimaan.',
  ]),
  WA_ORDER_DONE: catalogTemplate([
    'Halo {{customer_name}}, pesanan laundry Anda sudah selesai.',
    ...invoiceOrCodeLines(),
    'Terima kasih telah menggunakan {{brand_name}}.',
  ]),
  WA_BILLING_REMINDER: catalogTemplate([
    'Halo {{customer_name}}, kami mengingatkan sisa tagihan laundry Anda.',
    ...invoiceOrCodeLines(),
    'Sisa tagihan: Rp{{due_amount}}.',
    // Not optional upstream: the age is the point of the reminder.
    {text: 'Umur tagihan: {{aging_days}} hari ({{aging_bucket_label}}).', condition: {exists: 'aging_days'}},
    'Mohon konfirmasi jadwal pembayaran. Terima kasih, {{brand_name}}.',
  ]),
})
