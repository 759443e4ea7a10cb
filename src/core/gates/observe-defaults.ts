/**
 * Upstream's thresholds of `ops:observe:health`: the command's flag defaults and the release checklist's
 * health step. A module of its own, without imports, so the command's static import stays light.
 */
export const OBSERVE_DEFAULTS = {
  lookbackMinutes: 15,
  failedJobsThreshold: 10,
  queueBacklogThreshold: 100,
  waFailureRatioThreshold: 20,
  quotaUsageThreshold: 85,
} as const
