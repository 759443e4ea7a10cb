import {UsageError} from '../errors.js'

/** Laravel's `uuid` rule: only the 8-4-4-4-12 hex shape, no version or variant check. */
export function isLaravelUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
}

/** `--tenant`: a UUID (whether the tenant exists is the database's to say). A pure input check, also run while parsing the flag. */
export function assertTenantId(value: string): void {
  if (!isLaravelUuid(value)) throw new UsageError('INVALID_TENANT', `--tenant '${value}' is not a tenant id: expected a UUID`)
}

/** `--outlet`: a UUID, as `--tenant`. */
export function assertOutletId(value: string): void {
  if (!isLaravelUuid(value)) throw new UsageError('INVALID_OUTLET', `--outlet '${value}' is not an outlet id: expected a UUID`)
}
