/** The status transition validator (reference §4.1): one step forward or stay; backward and skips refused with upstream's codes and messages. */
import {expect} from 'chai'

import {COURIER_STATUSES, LAUNDRY_STATUSES, validateCourierTransition, validateLaundryTransition} from '../../../src/core/orders/pipelines.js'

describe('order status pipelines (OrderStatusTransitionValidator)', () => {
  it('lists the laundry and courier pipelines in upstream order', () => {
    expect(LAUNDRY_STATUSES).to.deep.equal(['received', 'washing', 'drying', 'ironing', 'ready', 'completed'])
    expect(COURIER_STATUSES).to.deep.equal([
      'pickup_pending',
      'pickup_on_the_way',
      'picked_up',
      'at_outlet',
      'delivery_pending',
      'delivery_on_the_way',
      'delivered',
    ])
  })

  it('accepts every single step forward and every same-status move, on both pipelines', () => {
    for (const [pipeline, validate] of [
      [LAUNDRY_STATUSES, validateLaundryTransition],
      [COURIER_STATUSES, validateCourierTransition],
    ] as const) {
      for (let i = 0; i < pipeline.length; i++) {
        expect(validate(pipeline[i], pipeline[i]), `${pipeline[i]} → itself`).to.deep.equal({ok: true})
        if (i + 1 < pipeline.length) expect(validate(pipeline[i], pipeline[i + 1]), `${pipeline[i]} → next`).to.deep.equal({ok: true})
      }
    }
  })

  it('refuses a backward move with STATUS_NOT_FORWARD and the field named', () => {
    expect(validateLaundryTransition('washing', 'received')).to.deep.equal({
      ok: false,
      code: 'STATUS_NOT_FORWARD',
      message: 'Cannot move laundry_status backward from washing to received.',
    })
    expect(validateCourierTransition('delivered', 'pickup_pending')).to.deep.equal({
      ok: false,
      code: 'STATUS_NOT_FORWARD',
      message: 'Cannot move courier_status backward from delivered to pickup_pending.',
    })
  })

  it('refuses a forward skip with INVALID_TRANSITION', () => {
    expect(validateLaundryTransition('washing', 'ready')).to.deep.equal({
      ok: false,
      code: 'INVALID_TRANSITION',
      message: 'Cannot move laundry_status from washing to ready.',
    })
    expect(validateCourierTransition('at_outlet', 'delivered')).to.deep.equal({
      ok: false,
      code: 'INVALID_TRANSITION',
      message: 'Cannot move courier_status from at_outlet to delivered.',
    })
  })

  it('refuses an unknown status on either side with "Unknown <field> transition."', () => {
    expect(validateLaundryTransition('received', 'cancelled')).to.deep.equal({
      ok: false,
      code: 'INVALID_TRANSITION',
      message: 'Unknown laundry_status transition.',
    })
    expect(validateLaundryTransition('bogus', 'received')).to.deep.equal({ok: false, code: 'INVALID_TRANSITION', message: 'Unknown laundry_status transition.'})
    // A laundry status is not a courier status (the pipelines do not mix).
    expect(validateCourierTransition('pickup_pending', 'washing')).to.deep.equal({
      ok: false,
      code: 'INVALID_TRANSITION',
      message: 'Unknown courier_status transition.',
    })
  })
})
