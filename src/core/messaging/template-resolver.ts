import type {Executor} from '../db/transactions.js'
import type {WaTemplateRow} from '../db/rows.js'
import {DEFAULT_TEMPLATES, isTemplateId} from './template-catalog.js'

export interface ResolvedTemplate {
  templateId: string
  source: 'outlet' | 'tenant' | 'default'
  version: number
  definition: unknown
}

export class UnknownTemplateError extends Error {}

function parseDefinition(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value
}

/** The newest outlet override, else the newest tenant override, else the built-in catalog (version 1). */
export async function resolveTemplate(conn: Executor, tenantId: string, outletId: string | null, templateId: string): Promise<ResolvedTemplate> {
  if (!isTemplateId(templateId)) throw new UnknownTemplateError(`Template '${templateId}' is not recognized.`)
  if (outletId) {
    const row = await conn<WaTemplateRow>('wa_templates')
      .where({tenant_id: tenantId, outlet_id: outletId, template_id: templateId})
      .orderBy('version', 'desc')
      .first()
    if (row) return {templateId, source: 'outlet', version: Number(row.version), definition: parseDefinition(row.definition_json)}
  }
  const row = await conn<WaTemplateRow>('wa_templates')
    .where({tenant_id: tenantId, template_id: templateId})
    .whereNull('outlet_id')
    .orderBy('version', 'desc')
    .first()
  if (row) return {templateId, source: 'tenant', version: Number(row.version), definition: parseDefinition(row.definition_json)}
  return {templateId, source: 'default', version: 1, definition: DEFAULT_TEMPLATES[templateId]}
}
