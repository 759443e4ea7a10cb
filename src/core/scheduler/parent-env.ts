/** The environment variable that tells a task process who its runner is (it stops if the runner dies). */
export const PARENT_ENV = 'LAUNDRY_OPS_SCHEDULER_PID'
