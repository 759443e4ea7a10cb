/**
 * The bundle entry: oclif's runtime and the command classes in one file, so a start-up parses one
 * module instead of ~160 (see docs/BENCHMARKS.md). Heavy work stays behind dynamic imports, which the
 * bundler keeps as separate chunks.
 */
import AuditArchive from './commands/audit/archive.js'
import DbBackup from './commands/db/backup.js'
import DbBackupList from './commands/db/backup/list.js'
import DbBackupVerify from './commands/db/backup/verify.js'
import AuditLogins from './commands/audit/logins.js'
import DbFresh from './commands/db/fresh.js'
import DbMigrate from './commands/db/migrate.js'
import DbRestore from './commands/db/restore.js'
import DbRollback from './commands/db/rollback.js'
import DbSeed from './commands/db/seed.js'
import DbStatus from './commands/db/status.js'
import HelpCommand from './commands/help.js'
import ObserveHealth from './commands/observe/health.js'
import QueueFailed from './commands/queue/failed.js'
import QuotaReconcile from './commands/quota/reconcile.js'
import ReadinessCheck from './commands/readiness/check.js'
import Release from './commands/release.js'
import WaRedrive from './commands/wa/redrive.js'
import WaRemind from './commands/wa/remind.js'
import WaStatus from './commands/wa/status.js'
import QueueFlush from './commands/queue/flush.js'
import QueueRestart from './commands/queue/restart.js'
import QueueRetry from './commands/queue/retry.js'
import QueueWork from './commands/queue/work.js'
import ScheduleHistory from './commands/schedule/history.js'
import ScheduleList from './commands/schedule/list.js'
import ScheduleRun from './commands/schedule/run.js'
import ScheduleWork from './commands/schedule/work.js'
import Serve from './commands/serve.js'
import SyncRejects from './commands/sync/rejects.js'
import UatRun from './commands/uat/run.js'

export {execute} from '@oclif/core'
export {default as commandNotFound} from './hooks/command-not-found.js'

export const COMMANDS = {
  'audit:archive': AuditArchive,
  'db:backup': DbBackup,
  'db:backup:list': DbBackupList,
  'db:backup:verify': DbBackupVerify,
  'audit:logins': AuditLogins,
  'db:fresh': DbFresh,
  'db:migrate': DbMigrate,
  'db:restore': DbRestore,
  'db:rollback': DbRollback,
  'db:seed': DbSeed,
  'db:status': DbStatus,
  help: HelpCommand,
  'observe:health': ObserveHealth,
  'queue:failed': QueueFailed,
  'queue:flush': QueueFlush,
  'queue:restart': QueueRestart,
  'queue:retry': QueueRetry,
  'queue:work': QueueWork,
  'quota:reconcile': QuotaReconcile,
  'schedule:history': ScheduleHistory,
  'schedule:list': ScheduleList,
  'schedule:run': ScheduleRun,
  'schedule:work': ScheduleWork,
  'readiness:check': ReadinessCheck,
  release: Release,
  serve: Serve,
  'sync:rejects': SyncRejects,
  'uat:run': UatRun,
  'wa:redrive': WaRedrive,
  'wa:remind': WaRemind,
  'wa:status': WaStatus,
}
