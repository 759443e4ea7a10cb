import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {isLocalDatabase, loadConfig, parseDatabaseUrl, redactUrl} from '../../src/core/config.js'
import {OpsError} from '../../src/core/errors.js'

function refusal(fn: () => unknown): OpsError {
  try {
    fn()
  } catch (error) {
    expect(error).to.be.instanceOf(OpsError)
    return error as OpsError
  }
  throw new Error('expected a refusal')
}

describe('configuration', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'laundry-ops-config-'))

  it('defaults to an SQLite file in ./storage, environment local', () => {
    const config = loadConfig({cwd, env: {}})
    expect(config.env).to.equal('local')
    expect(config.storage).to.equal(path.join(cwd, 'storage'))
    expect(config.database).to.deep.include({client: 'sqlite', filename: path.join(cwd, 'storage', 'database.sqlite')})
    expect(config.databaseSource).to.equal('default')
  })

  it('reads sqlite:, file paths and postgres:// URLs', () => {
    expect(parseDatabaseUrl('sqlite:data/x.sqlite', cwd)).to.deep.include({client: 'sqlite', filename: path.join(cwd, 'data/x.sqlite')})
    expect(parseDatabaseUrl('sqlite:///abs/x.sqlite', cwd)).to.deep.include({filename: '/abs/x.sqlite'})
    expect(parseDatabaseUrl('./y.db', cwd)).to.deep.include({client: 'sqlite', filename: path.join(cwd, 'y.db')})
    const pg = parseDatabaseUrl('postgresql://app:s3cret@db.internal:6432/laundry', cwd)
    expect(pg).to.deep.include({client: 'pg', host: 'db.internal', port: 6432, database: 'laundry', user: 'app'})
    expect(pg.display).to.equal('postgresql://app:***@db.internal:6432/laundry')
    expect(isLocalDatabase(pg)).to.equal(false)
    expect(isLocalDatabase(parseDatabaseUrl('postgres://postgres@127.0.0.1/test', cwd))).to.equal(true)
  })

  it('refuses a database it does not speak, naming the variable and what is expected (exit 2)', () => {
    const err = refusal(() => loadConfig({cwd, env: {DATABASE_URL: 'mysql://root:pw@x/db'}}))
    expect(err.exit).to.equal(2)
    expect(err.message).to.equal("DATABASE_URL='mysql://root:***@x/db' is not supported: expected sqlite:<path>, a file path, or postgres://…")
    expect(refusal(() => loadConfig({cwd, env: {DATABASE_URL: 'postgres://h:5432/'}})).message).to.match(/names no database/)
  })

  it('LAUNDRY_OPS_PROGRESS_INTERVAL_MS: 5000 by default, a whole number of milliseconds from 0 to an hour', () => {
    expect(loadConfig({cwd, env: {}}).progressIntervalMs).to.equal(5000)
    expect(loadConfig({cwd, env: {LAUNDRY_OPS_PROGRESS_INTERVAL_MS: '0'}}).progressIntervalMs).to.equal(0)
    expect(loadConfig({cwd, env: {LAUNDRY_OPS_PROGRESS_INTERVAL_MS: '250'}}).progressIntervalMs).to.equal(250)
    for (const value of ['-1', '1.5', 'soon', '3600001']) {
      const err = refusal(() => loadConfig({cwd, env: {LAUNDRY_OPS_PROGRESS_INTERVAL_MS: value}}))
      expect(err.exit, value).to.equal(2)
      expect(err.message, value).to.match(
        new RegExp(
          `^LAUNDRY_OPS_PROGRESS_INTERVAL_MS='${value.replace('.', '\\.')}' is invalid: expected (a whole number of milliseconds|milliseconds from 0 to 3600000)$`,
        ),
      )
    }
  })

  it('refuses an unknown environment name', () => {
    const err = refusal(() => loadConfig({cwd, env: {LAUNDRY_OPS_ENV: 'prod'}}))
    expect(err.exit).to.equal(2)
    expect(err.message).to.equal("LAUNDRY_OPS_ENV='prod' is invalid: expected one of local, testing, staging, production")
  })

  it('refuses a variable that is set but blank instead of falling back to its default (LAUNDRY_OPS_ENV=$ENV with ENV unset is not local)', () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'laundry-ops-config-'))
    for (const name of ['DATABASE_URL', 'LAUNDRY_OPS_ENV', 'LAUNDRY_OPS_STORAGE', 'DB_QUEUE_RETRY_AFTER', 'LAUNDRY_OPS_PROGRESS_INTERVAL_MS']) {
      for (const value of ['', '  ']) {
        const error = refusal(() => loadConfig({cwd, env: {[name]: value}}))
        expect(error.code).to.equal('CONFIG_INVALID')
        expect(error.exit).to.equal(2)
        expect(error.message).to.equal(`${name} is set but empty: give it a value, or unset it to use the default`)
      }
    }
    writeFileSync(path.join(cwd, '.env'), 'LAUNDRY_OPS_ENV=\n')
    expect(refusal(() => loadConfig({cwd, env: {}})).message).to.match(/^LAUNDRY_OPS_ENV is set but empty/)
    // An empty cache prefix is a real Laravel setting; an empty APP_NAME keeps the default name.
    writeFileSync(path.join(cwd, '.env'), '')
    expect(loadConfig({cwd, env: {CACHE_PREFIX: '', APP_NAME: ''}}).cachePrefix).to.equal('')
  })

  it('reads .env, where real environment variables win, and --database-url wins over both', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'laundry-ops-dotenv-'))
    writeFileSync(path.join(dir, '.env'), 'LAUNDRY_OPS_ENV=staging\nDATABASE_URL=sqlite:from-dotenv.sqlite\n')
    expect(loadConfig({cwd: dir, env: {}})).to.deep.include({env: 'staging', databaseSource: 'DATABASE_URL'})
    expect(loadConfig({cwd: dir, env: {LAUNDRY_OPS_ENV: 'testing'}}).env).to.equal('testing')
    const flagged = loadConfig({cwd: dir, env: {}, databaseUrl: 'sqlite:flag.sqlite'})
    expect(flagged.databaseSource).to.equal('--database-url')
    expect(flagged.database).to.deep.include({filename: path.join(dir, 'flag.sqlite')})
  })

  it('never prints a password', () => {
    expect(redactUrl('postgres://u:p%40ss@h/db')).to.equal('postgres://u:***@h/db')
    expect(redactUrl('postgres://u@h/db')).to.equal('postgres://u@h/db')
  })
})
