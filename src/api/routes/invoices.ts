import {z} from 'zod'

import {claimInvoiceRangesForDevice} from '../../core/invoices/claim.js'
import type {ApiRouteModule, ApiUser} from '../app.js'
import {laravelInteger, laravelRequiredList, laravelUuid, laravelYmd} from '../laravel-rules.js'
import {guard, requestRoleKeys} from '../plugins/access.js'

/** InvoiceRangeController::claim's rules (reference §3.7). */
export const invoiceClaimBody = z.object({
  device_id: laravelUuid(),
  outlet_id: laravelUuid(),
  days: laravelRequiredList(
    z.object({
      date: laravelYmd(),
      count: laravelInteger({min: 1, max: 2000}),
    }),
  ),
})

/**
 * POST /api/invoices/range/claim (auth:sanctum; owner, admin, cashier), reference §3.7: the role check
 * runs before validation (403), the device and outlet refusals are 422, not behind outlet.access.
 */
export const invoiceRoutes: ApiRouteModule = (app, deps) => {
  const {db, clock} = deps
  app.post(
    '/api/invoices/range/claim',
    {schema: {body: invoiceClaimBody}, preValidation: guard(app, deps, {roles: ['owner', 'admin', 'cashier']})},
    async (request) => {
      const body = request.body
      return claimInvoiceRangesForDevice(
        db,
        {
          user: request.user as ApiUser,
          roleKeys: await requestRoleKeys(request, deps),
          deviceId: body.device_id,
          outletId: body.outlet_id,
          days: body.days,
        },
        clock,
      )
    },
  )
}
