/**
 * The business UAT scenarios (upstream's `ops:uat:run` catalogue, reference upstream-ops §1.7 and the
 * playbook §8.3): ID, role and notes as upstream prints them in the report, in catalogue order.
 */
export interface UatScenarioInfo {
  id: string
  /** The role column of the report (Indonesian, as upstream). */
  role: string
  /** The notes column of the report. */
  notes: string
}

export const UAT_CATALOG: readonly UatScenarioInfo[] = [
  {id: 'UAT-01', role: 'Kasir', notes: 'Create order non pickup'},
  {id: 'UAT-02', role: 'Kasir', notes: 'Payment append-only'},
  {id: 'UAT-03', role: 'Pekerja', notes: 'Laundry forward-only transitions'},
  {id: 'UAT-04', role: 'Admin', notes: 'Assign courier role validation'},
  {id: 'UAT-05', role: 'Kurir', notes: 'Pickup flow progression'},
  {id: 'UAT-06', role: 'Kurir + Pekerja', notes: 'delivery_pending blocked before ready'},
  {id: 'UAT-07', role: 'Kurir', notes: 'Delivery flow progression'},
  {id: 'UAT-08', role: 'Owner/Admin', notes: 'Billing quota endpoint'},
  {id: 'UAT-09', role: 'Admin', notes: 'WA lifecycle message logs'},
  {id: 'UAT-10', role: 'Semua role', notes: 'Role guard on master data'},
]
