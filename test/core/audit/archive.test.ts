import {closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import path from 'node:path'
import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'
import {gunzipSync, gzipSync} from 'node:zlib'

import {expect} from 'chai'

import {fixedClock, systemClock, toDbTimestamp} from '../../../src/core/clock.js'
import {ARCHIVE_LEASE_KEY, archiveAuditEvents, type ArchiveOptions, type Manifest} from '../../../src/core/audit/archive.js'
import {leaseNow, unixSeconds} from '../../../src/core/db/lease-time.js'
import {archivedIds, sha256} from '../../../src/core/audit/archive-files.js'
import type {Database} from '../../../src/core/db/connection.js'
import type {AuditEventRow} from '../../../src/core/db/rows.js'
import {uuid7} from '../../../src/core/domain/ids.js'
import {describeEachEngine} from '../../helpers/engines.js'
import {insertAuditEvents, recordArchiveSource} from '../../helpers/audit.js'

const NOW = new Date('2026-02-17T02:00:00Z')

interface ObjectMetadata {
  x: number
  note: string
}

/** One line of an archive: the 12 keys of a row, metadata parsed (an empty array or an object, as insertAuditEvents writes it). */
type ArchiveLine = Omit<AuditEventRow, 'metadata_json' | 'updated_at'> & {metadata: unknown[] | ObjectMetadata}

describeEachEngine('audit archive', {from: 'migrated'}, (ctx) => {
  let db: Database
  let storage: string
  const dir = () => path.join(storage, 'app', 'audit-archives')
  const options = (extra: Partial<ArchiveOptions> = {}): ArchiveOptions => ({
    days: 90,
    chunk: 1000,
    dryRun: false,
    gzip: false,
    clock: fixedClock(NOW),
    storage,
    toolVersion: '0.0.0-test',
    ...extra,
  })
  const count = async () => Number((await db.knex('audit_events').count({n: '*'}))[0].n)

  before(async () => {
    db = await ctx.scratch.open()
  })
  beforeEach(async () => {
    storage = path.join(ctx.scratch.dir, `storage-${Date.now()}-${Math.random().toString(36).slice(2)}`)
    await db.knex('audit_events').delete()
    await db.knex('cache_locks').delete()
  })

  it('OpsCommandsTest T1: archives and deletes the old row, keeps the recent one, clean JSONL with the 12 keys', async () => {
    const tenant = uuid7()
    await db.knex('plans').insert({key: 'standard', name: 'Standar', orders_limit: 1000}).onConflict('key').ignore()
    await db.knex('tenants').insert({id: tenant, name: 'Ops Tenant', status: 'active'})
    const old = toDbTimestamp(new Date(NOW.getTime() - 100 * 86_400_000))
    const recent = toDbTimestamp(new Date(NOW.getTime() - 86_400_000))
    const a = uuid7()
    await db.knex('audit_events').insert([
      {id: a, tenant_id: tenant, event_key: 'AUTH_LOGIN_FAILED', channel: 'api', metadata_json: '{"x":1}', created_at: old, updated_at: old},
      {id: uuid7(), tenant_id: tenant, event_key: 'ORDER_CREATED', channel: 'api', metadata_json: '{"x":2}', created_at: recent, updated_at: recent},
    ])
    const result = await archiveAuditEvents(db, options())
    expect(result).to.deep.include({matched: 1, archived: 1, deleted: 1, dry_run: false})
    expect(await count()).to.equal(1)
    expect(path.basename(result.file!)).to.equal('audit-events-20260217-020000.jsonl')
    expect(path.dirname(result.file!)).to.equal(dir())
    const content = readFileSync(result.file!, 'utf8')
    expect(content).to.equal(
      `{"id":"${a}","tenant_id":"${tenant}","user_id":null,"outlet_id":null,"event_key":"AUTH_LOGIN_FAILED","channel":"api","entity_type":null,"entity_id":null,"request_id":null,"ip_address":null,"metadata":{"x":1},"created_at":"2025-11-09T02:00:00+00:00"}\n`,
    )
    const manifest = JSON.parse(readFileSync(result.manifest!, 'utf8')) as Manifest
    expect(manifest).to.deep.include({
      file: 'audit-events-20260217-020000.jsonl',
      rows: 1,
      bytes: Buffer.byteLength(content),
      sha256: sha256(Buffer.from(content)),
      gzip: false,
      recovered: false,
    })
    expect(manifest.first).to.deep.equal({created_at: '2025-11-09 02:00:00', id: a})
    expect(manifest.filter).to.deep.equal({cutoff: '2025-11-19 02:00:00', days: 90, channel: null})
    expect(manifest.tool).to.deep.equal({name: 'laundry-ops', version: '0.0.0-test'})
    await db.knex('tenants').where({id: tenant}).delete()
  })

  it('pages by (created_at, id): more than three chunks of out-of-order ids, every row archived once, in order', async () => {
    const ids = await insertAuditEvents(db, 450, {now: NOW, minDays: 91, maxDays: 120})
    const result = await archiveAuditEvents(db, options({chunk: 100}))
    expect(result).to.deep.include({matched: 450, archived: 450, deleted: 450})
    expect(await count()).to.equal(0)
    const lines = readFileSync(result.file!, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ArchiveLine)
    expect(lines.map((l) => l.id).sort()).to.deep.equal([...ids].sort())
    const keys = lines.map((l) => `${l.created_at}|${l.id}`)
    expect(keys).to.deep.equal([...keys].sort())
    expect(lines.map((l) => Object.keys(l))[0]).to.deep.equal([
      'id',
      'tenant_id',
      'user_id',
      'outlet_id',
      'event_key',
      'channel',
      'entity_type',
      'entity_id',
      'request_id',
      'ip_address',
      'metadata',
      'created_at',
    ])
    expect(lines.find((l) => Array.isArray(l.metadata))?.metadata).to.deep.equal([])
    expect(lines.map((l) => l.metadata).find((m): m is ObjectMetadata => !Array.isArray(m))?.note).to.equal('café/ü')
  })

  it('deletes fsynced pages in batches: every row archived once and deleted, progress after each batch', async () => {
    const ids = await insertAuditEvents(db, 450, {now: NOW, minDays: 91, maxDays: 120})
    const progress: number[] = []
    const result = await archiveAuditEvents(db, options({chunk: 100, deleteBatchRows: 200, onChunk: (p) => progress.push(p.archived)}))
    expect(result).to.deep.include({matched: 450, archived: 450, deleted: 450})
    // Batches after 200 and 400 fsynced rows, and the rest at the end.
    expect(progress).to.have.length(3)
    expect(progress.at(-1)).to.equal(450)
    if (ctx.dialect === 'sqlite') expect(progress).to.deep.equal([200, 400, 450])
    expect(await count()).to.equal(0)
    const lines = readFileSync(result.file!, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as ArchiveLine).id)
    expect(lines).to.have.length(450)
    expect([...lines].sort()).to.deep.equal([...ids].sort())
  })

  it("a chunk above both engines' bind-parameter limits (66,000 of 70,000 rows) binds a handful of parameters per statement [slow]", async function () {
    this.timeout(300_000)
    const ids = await insertAuditEvents(db, 70_000, {now: NOW, minDays: 91, maxDays: 400})
    let most = 0
    const spy = (q: {bindings?: unknown[]}) => (most = Math.max(most, q.bindings?.length ?? 0))
    db.knex.on('query', spy)
    try {
      const result = await archiveAuditEvents(db, options({chunk: 66_000}))
      expect(result).to.deep.include({matched: 70_000, archived: 70_000, deleted: 70_000})
      expect(result.manifest).to.be.a('string')
    } finally {
      db.knex.removeListener('query', spy)
    }
    expect(most).to.be.below(10)
    expect(await count()).to.equal(0)
    const where = archivedIds(dir())
    expect(where.size).to.equal(70_000)
    expect(ids.every((id) => where.get(id)?.length === 1)).to.equal(true)
  })

  it('--dry-run reports the same matched and changes nothing; nothing to archive creates no file', async () => {
    await insertAuditEvents(db, 30, {now: NOW, minDays: 95, maxDays: 99})
    const dry = await archiveAuditEvents(db, options({dryRun: true}))
    expect(dry).to.deep.include({matched: 30, archived: 30, deleted: 30, dry_run: true, file: null})
    expect(await count()).to.equal(30)
    expect(existsSync(dir())).to.equal(false)
    const none = await archiveAuditEvents(db, options({days: 100}))
    expect(none).to.deep.include({matched: 0, archived: 0, file: null})
    expect(existsSync(dir()) ? readdirSync(dir()) : []).to.deep.equal([])
  })

  it('--channel archives only that channel; --gzip writes one gzip member per chunk', async () => {
    await insertAuditEvents(db, 300, {now: NOW, minDays: 91, maxDays: 99, channel: (i) => (i % 2 ? 'web' : 'api')})
    const result = await archiveAuditEvents(db, options({channel: 'web', gzip: true, chunk: 100}))
    expect(result).to.deep.include({matched: 150, archived: 150, deleted: 150})
    expect(result.file!.endsWith('.jsonl.gz')).to.equal(true)
    const text = gunzipSync(readFileSync(result.file!)).toString('utf8')
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ArchiveLine)
    expect(lines).to.have.length(150)
    expect(lines.every((l) => l.channel === 'web')).to.equal(true)
    expect(text.endsWith('\n')).to.equal(true)
    expect(await db.knex('audit_events').where({channel: 'web'}).count({n: '*'}).first()).to.satisfy((r: {n: unknown}) => Number(r.n) === 0)
    expect(await count()).to.equal(150)
  })

  it('finishes an interrupted archive first: torn tail cut, left-over rows deleted, manifest written', async () => {
    const ids = await insertAuditEvents(db, 10, {now: NOW, minDays: 91, maxDays: 92})
    const rows = await db.knex<AuditEventRow>('audit_events').whereIn('id', ids.slice(0, 3)).orderBy('created_at')
    // A killed run: lines for three rows made durable, rows 1-2 already deleted, row 3 not yet, a torn 4th line.
    const line = (r: AuditEventRow) =>
      JSON.stringify({
        id: r.id,
        tenant_id: null,
        user_id: null,
        outlet_id: null,
        event_key: r.event_key,
        channel: r.channel,
        entity_type: null,
        entity_id: null,
        request_id: null,
        ip_address: null,
        metadata: null,
        created_at: `${String(r.created_at).replace(' ', 'T')}+00:00`,
      })
    mkdirSync(dir(), {recursive: true})
    const killed = path.join(dir(), 'audit-events-20260216-020000.jsonl')
    writeFileSync(killed, `${rows.map(line).join('\n')}\n{"id":"torn`)
    await recordArchiveSource(db, killed)
    // ...and killed while writing its manifest atomically: the temporary file is removed.
    const tmpManifest = `${killed}.manifest.json.tmp-999999`
    writeFileSync(tmpManifest, '{"rows": 3, "sha2')
    await db.knex('audit_events').whereIn('id', [rows[0].id, rows[1].id]).delete()

    const result = await archiveAuditEvents(db, options())
    expect(result.recovered).to.deep.equal([{file: killed, rows: 3, deleted_from_table: 1, torn_tail: true}])
    expect(result).to.deep.include({matched: 7, archived: 7, deleted: 7})
    const manifest = JSON.parse(readFileSync(`${killed}.manifest.json`, 'utf8')) as Manifest
    expect(manifest).to.deep.include({rows: 3, recovered: true, sha256: sha256(readFileSync(killed))})
    expect(existsSync(tmpManifest)).to.equal(false)
    const where = archivedIds(dir())
    expect([...where.keys()].sort()).to.deep.equal([...ids].sort())
    expect([...where.values()].every((files) => files.length === 1)).to.equal(true)
    expect(await count()).to.equal(0)
    rmSync(dir(), {recursive: true})
  })

  for (const gzip of [false, true]) {
    it(`recovers a large unfinished ${gzip ? '.jsonl.gz' : '.jsonl'} archive by streaming it: 200,000 lines, torn tail cut, rows still in the table deleted in bounded statements [slow]`, async function () {
      this.timeout(300_000)
      const LINES = 200_000
      const IN_TABLE = 12_000
      const ids = await insertAuditEvents(db, IN_TABLE, {now: NOW, minDays: 91, maxDays: 92})
      const inTable = await db.knex('audit_events').whereIn('id', ids.slice(0, 1)).select('created_at')
      expect(inTable).to.have.length(1)
      const line = (id: string, at: string, i: number) =>
        `{"id":"${id}","tenant_id":null,"user_id":null,"outlet_id":null,"event_key":"ORDER_CREATED","channel":"api","entity_type":"order","entity_id":"ORD-${i}","request_id":null,"ip_address":null,"metadata":{"x":${i},"note":"café/ü"},"created_at":"${at}"}`
      // A killed run: 200,000 lines made durable, 1,000 per chunk (one gzip member each); the rows of the
      // last 12,000 were not deleted yet; a torn last line (plain) or a torn last member (gzip).
      mkdirSync(dir(), {recursive: true})
      const killed = path.join(dir(), `audit-events-20260216-020000.jsonl${gzip ? '.gz' : ''}`)
      const fd = openSync(killed, 'w')
      const firstId = randomUUID()
      for (let from = 0; from < LINES; from += 1000) {
        const chunk: string[] = []
        for (let i = from; i < from + 1000; i++) {
          const id = i >= LINES - IN_TABLE ? ids[i - (LINES - IN_TABLE)] : i === 0 ? firstId : randomUUID()
          chunk.push(line(id, i === 0 ? '2025-01-01T00:00:07+00:00' : '2025-06-01T12:34:56+00:00', i))
        }
        const text = Buffer.from(`${chunk.join('\n')}\n`)
        writeSync(fd, gzip ? gzipSync(text) : text)
      }
      await recordArchiveSource(db, killed)
      const whole = fstatSync(fd).size
      writeSync(fd, gzip ? gzipSync(Buffer.from(`${line(randomUUID(), '2025-06-01T12:34:56+00:00', -1)}\n`)).subarray(0, 15) : Buffer.from('{"id":"torn'))
      closeSync(fd)

      let most = 0
      let deletes = 0
      const spy = (q: {sql?: string; bindings?: unknown[]}) => {
        most = Math.max(most, q.bindings?.length ?? 0)
        if (/^delete/i.test(q.sql ?? '')) deletes++
      }
      db.knex.on('query', spy)
      let result
      try {
        result = await archiveAuditEvents(db, options({gzip}))
      } finally {
        db.knex.removeListener('query', spy)
      }
      expect(result.recovered).to.deep.equal([{file: killed, rows: LINES, deleted_from_table: IN_TABLE, torn_tail: true}])
      expect(result).to.deep.include({matched: 0, archived: 0, file: null})
      expect(await count()).to.equal(0)
      // Every statement binds at most one delete batch of ids (far below SQLite's 32,766 and PG's 65,535).
      expect(most).to.be.at.most(5000)
      expect(deletes).to.be.at.least(LINES / 5000)

      const content = readFileSync(killed)
      // The torn tail is gone: plain, the file is cut at its last whole line; gzip, a strict gunzip reads it.
      if (gzip) expect(content.length).to.be.below(whole)
      else expect(content.length).to.equal(whole)
      const text = (gzip ? gunzipSync(content) : content).toString('utf8')
      expect(text.endsWith('\n')).to.equal(true)
      const lines = text.trimEnd().split('\n')
      expect(lines).to.have.length(LINES)
      expect((JSON.parse(lines.at(-1)!) as ArchiveLine).id).to.equal(ids.at(-1))
      const manifest = JSON.parse(readFileSync(`${killed}.manifest.json`, 'utf8')) as Manifest
      expect(manifest).to.deep.include({rows: LINES, bytes: content.length, sha256: sha256(content), gzip, recovered: true})
      expect(manifest.first).to.deep.equal({id: firstId, created_at: '2025-01-01 00:00:07'})
      expect(manifest.last).to.deep.equal({id: ids.at(-1), created_at: '2025-06-01 12:34:56'})
      expect(readdirSync(dir()).sort()).to.deep.equal([path.basename(killed), `${path.basename(killed)}.manifest.json`])

      // A rerun finds the archive complete: nothing recovered again.
      const again = await archiveAuditEvents(db, options({gzip}))
      expect(again.recovered).to.deep.equal([])
      rmSync(dir(), {recursive: true})
    })
  }

  it('a recovered .jsonl.gz whose last member lost its trailer (every line whole) is rewritten into whole gzip members', async () => {
    const ids = await insertAuditEvents(db, 3, {now: NOW, minDays: 91, maxDays: 92})
    const rows = await db
      .knex<AuditEventRow>('audit_events')
      .whereIn('id', ids)
      .orderBy([{column: 'created_at'}, {column: 'id'}])
    const text = rows.map((r) => `${JSON.stringify({id: r.id, created_at: `${String(r.created_at).replace(' ', 'T')}+00:00`})}\n`).join('')
    mkdirSync(dir(), {recursive: true})
    const killed = path.join(dir(), 'audit-events-20260216-020000.jsonl.gz')
    const member = gzipSync(Buffer.from(text))
    writeFileSync(killed, member.subarray(0, member.length - 8))
    await recordArchiveSource(db, killed)
    // ...and a rewrite killed before its rename: the temporary file is removed.
    writeFileSync(`${killed}.tmp-999999`, member.subarray(0, 10))

    const result = await archiveAuditEvents(db, options({gzip: true}))
    expect(result.recovered).to.deep.equal([{file: killed, rows: 3, deleted_from_table: 3, torn_tail: true}])
    const content = readFileSync(killed)
    expect(gunzipSync(content).toString('utf8')).to.equal(text)
    expect(JSON.parse(readFileSync(`${killed}.manifest.json`, 'utf8'))).to.deep.include({rows: 3, bytes: content.length, sha256: sha256(content)})
    expect(existsSync(`${killed}.tmp-999999`)).to.equal(false)
    expect(await count()).to.equal(0)
    rmSync(dir(), {recursive: true})
  })

  it('refuses to run beside a live run, and takes over the lease of a dead one', async () => {
    await insertAuditEvents(db, 5, {now: NOW, minDays: 91, maxDays: 92})
    const future = Math.floor(Date.now() / 1000) + 600
    await db.knex('cache_locks').insert({key: 'laundry-ops:audit-archive', owner: 'laundry-ops:elsewhere:1:abcd', expiration: future})
    let error: Error & {code?: string} = new Error('none')
    try {
      await archiveAuditEvents(db, options())
    } catch (err) {
      error = err as Error & {code?: string}
    }
    expect(error.code).to.equal('ARCHIVE_RUNNING')
    expect(await count()).to.equal(5)
    const {hostname} = await import('node:os')
    await db.knex('cache_locks').update({owner: `laundry-ops:${hostname()}:999999:abcd`})
    const result = await archiveAuditEvents(db, options())
    expect(result.archived).to.equal(5)
    expect(await db.knex('cache_locks').select('key')).to.deep.equal([])
  })

  it('a clock ten minutes ahead does not take over a live run (PostgreSQL: by the server clock; SQLite: a live process here)', async () => {
    await insertAuditEvents(db, 5, {now: new Date(), minDays: 91, maxDays: 92})
    const server = unixSeconds(await leaseNow(db.knex, db.dialect, systemClock))
    // SQLite: another live process on this host.
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'})
    const holder = ctx.dialect === 'pg' ? 'laundry-ops:elsewhere:1:abcd' : `laundry-ops:${hostname()}:${live.pid}:abcd`
    await db.knex('cache_locks').insert({key: ARCHIVE_LEASE_KEY, owner: holder, expiration: server + 300})
    const ahead = {now: () => new Date(Date.now() + 600_000)}
    const error = await archiveAuditEvents(db, options({clock: ahead}))
      .then(
        () => ({code: 'none', message: ''}),
        (err: Error & {code: string}) => err,
      )
      .finally(() => live.kill())
    expect(error.code).to.equal('ARCHIVE_RUNNING')
    expect(error.message).to.contain(holder)
    expect(await count()).to.equal(5)
    expect(await db.knex('cache_locks').select('owner')).to.deep.equal([{owner: holder}])
  })

  it('a run whose lease is taken over mid-way stops with ARCHIVE_LEASE_LOST; the next run finishes its file, every row archived once', async () => {
    const ids = await insertAuditEvents(db, 8, {now: NOW, minDays: 91, maxDays: 120})
    const other = await ctx.scratch.open()
    let takeover: Promise<unknown> | undefined
    const error = await archiveAuditEvents(
      db,
      options({
        chunk: 1,
        deleteBatchRows: 1,
        // After the first batch, another run takes the lease over (as it would once this one looked gone).
        onChunk: () => {
          // (A knex query runs once it is awaited or then-ed: Promise.resolve starts it now.)
          takeover ??= Promise.resolve(other.knex('cache_locks').where({key: ARCHIVE_LEASE_KEY}).update({owner: 'laundry-ops:elsewhere:2:beef'}))
        },
      }),
    ).then(
      () => ({code: 'none', message: ''}),
      (err: Error & {code: string}) => err,
    )
    await takeover
    expect(error.code).to.equal('ARCHIVE_LEASE_LOST')
    expect(error.message).to.match(/^lost the archive lease to laundry-ops:elsewhere:2:beef after writing \d+ row\(s\) to \S+\.jsonl; stopped there/)
    expect(error.message).to.contain('the next `audit archive` run does')
    const stopped = readdirSync(dir())
    expect(stopped.filter((f) => f.endsWith('.manifest.json'))).to.deep.equal([])
    expect(await count()).to.be.above(0)
    // That other run is gone: the next run finishes the file first, then archives the rest.
    await db.knex('cache_locks').delete()
    const next = await archiveAuditEvents(db, options({clock: fixedClock(new Date(NOW.getTime() + 1000))}))
    expect(next.recovered).to.have.length(1)
    expect(await count()).to.equal(0)
    const where = archivedIds(dir())
    expect([...where.keys()].sort()).to.deep.equal([...ids].sort())
    expect([...where.values()].filter((files) => files.length !== 1)).to.deep.equal([])
  })
})
