import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {INVALID_CREDENTIALS, login, logout, me} from '../../../src/core/auth/session.js'
import {authenticateToken, bearerToken, crc32bHex, sha256Hex, type PersonalAccessTokenRow} from '../../../src/core/auth/tokens.js'
import {fixedClock} from '../../../src/core/clock.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {AccountRow, AuditEventRow} from '../../../src/core/db/rows.js'
import {OpsError, ValidationError} from '../../../src/core/errors.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {ROOT} from '../../helpers/cli.js'
import {found} from '../../helpers/wa.js'

interface SanctumFixture {
  access_token: string
  row: Record<string, unknown> & {id: number; tokenable_id: number}
  user: {id: number; email: string; password: string; password_plain: string}
}

const laravel = (name: string): unknown => JSON.parse(readFileSync(path.join(ROOT, 'fixtures', 'laravel', name), 'utf8'))
const sanctum = laravel('laravel-sanctum-token.json') as SanctumFixture
const phpHashes = laravel('php-bcrypt-hashes.json') as {hashes: Array<{password: string; hash: string}>}

const clock = fixedClock('2026-12-05T08:30:15Z')
const request = {requestId: 'req-auth-test', ip: '10.1.2.3'}

async function refusal(work: Promise<unknown>): Promise<OpsError> {
  try {
    await work
  } catch (error) {
    if (error instanceof OpsError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

/** A type name that tells null from a string: the shape of a row, column by column. */
const shapeOf = (row: Record<string, unknown>) => Object.fromEntries(Object.keys(row).map((key) => [key, row[key] === null ? 'null' : typeof row[key]]))

describeEachEngine('auth core: login, tokens, me, logout', {from: 'seeded'}, (ctx) => {
  let db: Database

  async function latestAudit(eventKey: string) {
    return found(
      await db.knex<AuditEventRow>('audit_events').where({event_key: eventKey}).orderBy('created_at', 'desc').orderBy('id', 'desc').first(),
      eventKey,
    )
  }

  const metadata = (row: {metadata_json: unknown}) => (typeof row.metadata_json === 'string' ? JSON.parse(row.metadata_json) : row.metadata_json) as unknown

  before(async () => {
    db = await ctx.scratch.open()
    // The Laravel application's token, its row and its user's hash, loaded as they were written.
    const owner = found(await db.knex<AccountRow>('users').where({email: sanctum.user.email}).first('id'), 'owner')
    expect(Number(owner.id)).to.equal(sanctum.user.id)
    await db.knex<AccountRow>('users').where({id: owner.id}).update({password: sanctum.user.password})
    await db.knex('personal_access_tokens').insert(sanctum.row)
    if (db.dialect === 'pg')
      await db.knex.raw(`select setval(pg_get_serial_sequence('personal_access_tokens', 'id'), (select max(id) from personal_access_tokens))`)
  })

  it("authenticates the token the Laravel application issued, and GET /api/me's context answers in upstream's key order", async () => {
    const auth = found(await authenticateToken(db, bearerToken(`Bearer ${sanctum.access_token}`), clock), 'authenticated')
    expect(auth.user.email).to.equal('owner@demo.local')
    expect(auth.token.id).to.equal(sanctum.row.id)
    const {data} = await me(db, auth, clock)
    expect(Object.keys(data)).to.deep.equal(['user', 'roles', 'allowed_outlets', 'plan', 'quota'])
    expect(Object.keys(data.user)).to.deep.equal(['id', 'tenant_id', 'name', 'email', 'phone', 'status'])
    expect(data.user).to.include({id: sanctum.user.id, email: 'owner@demo.local', status: 'active'})
    expect(data.roles).to.deep.equal(['owner'])
    expect(data.allowed_outlets.map((o) => Object.keys(o))).to.deep.equal([['id', 'tenant_id', 'name', 'code', 'timezone']])
    expect(data.allowed_outlets[0]).to.include({code: 'BL', timezone: 'Asia/Jakarta', tenant_id: data.user.tenant_id})
    expect(data.plan).to.deep.equal({key: 'standard', orders_limit: 1000})
    expect(Object.keys(data.quota)).to.deep.equal(['period', 'orders_limit', 'orders_used', 'orders_remaining', 'can_create_order'])
    expect(data.quota).to.deep.equal({period: '2026-12', orders_limit: 1000, orders_used: 0, orders_remaining: 1000, can_create_order: true})
  })

  it('sets last_used_at and updated_at on every authenticated use, as Eloquent save() does', async () => {
    const later = fixedClock('2026-12-06T01:02:03Z')
    await authenticateToken(db, sanctum.access_token, later)
    const row = found(await db.knex<PersonalAccessTokenRow>('personal_access_tokens').where({id: sanctum.row.id}).first(), 'token row')
    expect(String(row.last_used_at)).to.equal('2026-12-06 01:02:03')
    expect(String(row.updated_at)).to.equal('2026-12-06 01:02:03')
    expect(String(row.created_at)).to.equal('2026-12-01 20:59:12')
  })

  it('accepts the secret alone (looked up by hash) and refuses a wrong secret, a bad id, an empty secret', async () => {
    const secret = sanctum.access_token.slice(sanctum.access_token.indexOf('|') + 1)
    expect((await authenticateToken(db, secret, clock))?.user.email).to.equal('owner@demo.local')
    const wrong = `${sanctum.row.id}|${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`
    for (const bad of [wrong, `x${sanctum.access_token}`, `${sanctum.row.id}|`, '', '999|' + secret, `1a|${secret}`]) {
      expect(await authenticateToken(db, bad, clock), bad).to.equal(null)
    }
    expect(await authenticateToken(db, null, clock)).to.equal(null)
    expect(bearerToken('Basic abc')).to.equal(null)
    expect(bearerToken('bearer 1|abc')).to.equal('1|abc')
  })

  it('logs in with a PHP-made hash; issues a token of Sanctum anatomy and a row shaped like the Laravel row', async () => {
    const php = phpHashes.hashes.find((h) => h.password === 'password' && h.hash.startsWith('$2y$10$'))!
    await db.knex<AccountRow>('users').where({email: 'worker@demo.local'}).update({password: php.hash})
    const answer = await login(db, {body: {email: 'worker@demo.local', password: 'password', device_name: 'pixel-7'}, ...request}, clock)
    expect(Object.keys(answer)).to.deep.equal(['token_type', 'access_token', 'data'])
    expect(answer.token_type).to.equal('Bearer')
    expect(answer.data.user.email).to.equal('worker@demo.local')
    expect(answer.data.roles).to.deep.equal(['worker'])

    const match = /^(\d+)\|([A-Za-z0-9]{40})([0-9a-f]{8})$/.exec(answer.access_token)
    expect(match, answer.access_token).to.not.equal(null)
    const [, id, entropy, checksum] = match!
    expect(checksum).to.equal(crc32bHex(entropy))
    const fixtureAnatomy = /^(\d+)\|([A-Za-z0-9]{40})([0-9a-f]{8})$/.exec(sanctum.access_token)!
    expect(fixtureAnatomy[3]).to.equal(crc32bHex(fixtureAnatomy[2]))

    const row = found(
      await db
        .knex('personal_access_tokens')
        .where({id: Number(id)})
        .first(),
      'issued row',
    ) as Record<string, unknown>
    const laravelRow = found(await db.knex('personal_access_tokens').where({id: sanctum.row.id}).first(), 'laravel row') as Record<string, unknown>
    expect(shapeOf({...row, last_used_at: null})).to.deep.equal(shapeOf({...laravelRow, last_used_at: null}))
    expect(shapeOf(row)).to.deep.equal(shapeOf({...sanctum.row, last_used_at: null}))
    expect(row).to.deep.include({
      tokenable_type: 'App\\Models\\User',
      name: 'pixel-7',
      token: sha256Hex(`${entropy}${checksum}`),
      abilities: '["*"]',
      last_used_at: null,
      expires_at: null,
      created_at: '2026-12-05 08:30:15',
      updated_at: '2026-12-05 08:30:15',
    })
    expect(String(row.tokenable_type)).to.equal(String(laravelRow.tokenable_type))

    const auth = found(await authenticateToken(db, answer.access_token, clock), 'our token')
    expect(auth.user.email).to.equal('worker@demo.local')

    const audit = await latestAudit('AUTH_LOGIN_SUCCESS')
    expect(audit).to.include({tenant_id: answer.data.user.tenant_id, channel: 'api', request_id: 'req-auth-test', ip_address: '10.1.2.3'})
    expect(Number(audit.user_id)).to.equal(answer.data.user.id)
    expect(metadata(audit)).to.deep.equal({email: 'worker@demo.local', device_name: 'pixel-7'})
  })

  it('matches the email case-insensitively and names a token api-device without device_name (AUTH-1)', async () => {
    const answer = await login(db, {body: {email: '  Admin@DEMO.local ', password: 'password', device_name: ''}}, clock)
    expect(answer.data.user.email).to.equal('admin@demo.local')
    expect(answer.data.plan.key).to.equal('standard')
    const id = Number(answer.access_token.split('|')[0])
    expect(found(await db.knex<PersonalAccessTokenRow>('personal_access_tokens').where({id}).first('name'), 'row').name).to.equal('api-device')
  })

  it('answers a wrong password and an unknown email alike, after the same bcrypt work, and audits both (AUTH-6)', async () => {
    let started = performance.now()
    const wrong = await refusal(login(db, {body: {email: 'admin@demo.local', password: 'wrong-password'}, ...request}, clock))
    const wrongMs = performance.now() - started
    started = performance.now()
    const unknown = await refusal(login(db, {body: {email: 'nobody@demo.local', password: 'wrong-password'}, ...request}, clock))
    const unknownMs = performance.now() - started
    for (const error of [wrong, unknown]) {
      expect(error).to.be.instanceOf(ValidationError)
      expect(error.http).to.equal(422)
      expect((error as ValidationError).body()).to.deep.equal({message: INVALID_CREDENTIALS, errors: {email: [INVALID_CREDENTIALS]}})
    }
    expect(unknownMs / wrongMs, `${unknownMs.toFixed(0)} ms vs ${wrongMs.toFixed(0)} ms`).to.be.within(0.5, 2)

    const admin = found(await db.knex<AccountRow>('users').where({email: 'admin@demo.local'}).first('id', 'tenant_id'), 'admin')
    const failures = await db.knex<AuditEventRow>('audit_events').where({event_key: 'AUTH_LOGIN_FAILED'}).orderBy('id')
    expect(failures).to.have.length(2)
    const [known, nobody] = failures
    expect(known).to.include({tenant_id: admin.tenant_id, channel: 'api'})
    expect(Number(known.user_id)).to.equal(Number(admin.id))
    expect(metadata(known)).to.deep.equal({email: 'admin@demo.local', reason: 'invalid_credentials'})
    expect(nobody).to.include({tenant_id: null, user_id: null, channel: 'api'})
    expect(metadata(nobody)).to.deep.equal({email: 'nobody@demo.local', reason: 'invalid_credentials'})
  })

  it('refuses an inactive account with USER_INACTIVE after checking its password, and audits it', async () => {
    await db.knex<AccountRow>('users').where({email: 'cashier@demo.local'}).update({status: 'suspended'})
    const wrong = await refusal(login(db, {body: {email: 'cashier@demo.local', password: 'nope'}}, clock))
    expect(wrong).to.be.instanceOf(ValidationError)
    const inactive = await refusal(login(db, {body: {email: 'CASHIER@demo.local', password: 'password'}}, clock))
    expect(inactive.code).to.equal('USER_INACTIVE')
    expect(inactive.http).to.equal(403)
    expect(inactive.message).to.equal('Your account is inactive.')
    expect(metadata(await latestAudit('AUTH_LOGIN_INACTIVE'))).to.deep.equal({email: 'cashier@demo.local', reason: 'inactive_account'})
    expect(
      await db
        .knex('personal_access_tokens')
        .where({tokenable_id: found(await db.knex<AccountRow>('users').where({email: 'cashier@demo.local'}).first('id'), 'cashier').id}),
    ).to.have.length(0)
  })

  it("validates the body with Laravel's rules and messages", async () => {
    const cases: Array<[unknown, Record<string, string[]>, string]> = [
      [{}, {email: ['The email field is required.'], password: ['The password field is required.']}, 'The email field is required. (and 1 more error)'],
      [{email: '   ', password: 'x'}, {email: ['The email field is required.']}, 'The email field is required.'],
      [{email: 'not-an-email', password: 'x'}, {email: ['The email field must be a valid email address.']}, 'The email field must be a valid email address.'],
      [
        {email: 'a@b.c', password: 123, device_name: 'x'.repeat(101)},
        {password: ['The password field must be a string.'], device_name: ['The device name field must not be greater than 100 characters.']},
        'The password field must be a string. (and 1 more error)',
      ],
      [
        {email: 7, password: 'x', device_name: 5},
        {email: ['The email field must be a valid email address.'], device_name: ['The device name field must be a string.']},
        'The email field must be a valid email address. (and 1 more error)',
      ],
      [null, {email: ['The email field is required.'], password: ['The password field is required.']}, 'The email field is required. (and 1 more error)'],
    ]
    for (const [body, errors, message] of cases) {
      const error = await refusal(login(db, {body}, clock))
      expect(error, JSON.stringify(body)).to.be.instanceOf(ValidationError)
      expect((error as ValidationError).body(), JSON.stringify(body)).to.deep.equal({message, errors})
    }
  })

  it('logout deletes the token the request used and no other, and audits AUTH_LOGOUT', async () => {
    const first = await login(db, {body: {email: 'courier@demo.local', password: 'password', device_name: 'a'}}, clock)
    const second = await login(db, {body: {email: 'courier@demo.local', password: 'password', device_name: 'b'}}, clock)
    const auth = found(await authenticateToken(db, first.access_token, clock), 'first token')
    expect(await logout(db, {auth, ...request}, clock)).to.deep.equal({message: 'Logged out successfully.'})
    expect(await authenticateToken(db, first.access_token, clock)).to.equal(null)
    expect((await authenticateToken(db, second.access_token, clock))?.user.email).to.equal('courier@demo.local')
    expect((await authenticateToken(db, sanctum.access_token, clock))?.user.email).to.equal('owner@demo.local')
    const audit = await latestAudit('AUTH_LOGOUT')
    expect(Number(audit.user_id)).to.equal(auth.user.id)
    expect(metadata(audit)).to.deep.equal({email: 'courier@demo.local'})
  })

  it("refuses a soft-deleted account's token and an expired token", async () => {
    const answer = await login(db, {body: {email: 'courier@demo.local', password: 'password'}}, clock)
    const id = Number(answer.access_token.split('|')[0])
    await db.knex('personal_access_tokens').where({id}).update({expires_at: '2026-12-05 08:30:14'})
    expect(await authenticateToken(db, answer.access_token, clock)).to.equal(null)
    await db.knex('personal_access_tokens').where({id}).update({expires_at: '2026-12-05 08:30:16'})
    expect(await authenticateToken(db, answer.access_token, clock)).to.not.equal(null)
    await db.knex<AccountRow>('users').where({email: 'courier@demo.local'}).update({deleted_at: '2026-12-05 00:00:00'})
    expect(await authenticateToken(db, answer.access_token, clock)).to.equal(null)
    await db.knex<AccountRow>('users').where({email: 'courier@demo.local'}).update({deleted_at: null})
  })
})
