/**
 * Real parallelism for API race tests: several processes, each with its own app and database pool (SQLite:
 * its own connection, whose busy wait blocks only that process), fire their requests at one start signal.
 * `raceApi` spawns the processes (this file run as a script), waits until every app is ready, says go,
 * and collects every answer.
 */
import {spawn} from 'node:child_process'
import path from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'

export interface RaceRequest {
  method: 'GET' | 'POST'
  url: string
  token: string
  payload?: unknown
}

export interface RaceAnswer {
  status: number
  body: Record<string, unknown>
}

interface WorkerSpec {
  databaseUrl: string
  cwd: string
  at: string
  requests: RaceRequest[]
}

const SELF = fileURLToPath(import.meta.url)
const ROOT = path.resolve(path.dirname(SELF), '..', '..')

/** Runs `groups` (one per process) against the database at once; the answers in request order, per group. */
export async function raceApi(spec: {databaseUrl: string; cwd: string; at: string}, groups: RaceRequest[][]): Promise<RaceAnswer[][]> {
  const children = groups.map((requests) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, JSON.stringify({...spec, requests} satisfies WorkerSpec)], {
      // tsx resolves from the project, not from the scratch folder.
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {...process.env, NO_COLOR: '1'},
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const lines = createInterface({input: child.stdout})
    const ready = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line === 'ready') resolve()
      })
      child.on('exit', (code) => reject(new Error(`race worker exited ${code} before ready: ${stderr}`)))
    })
    const done = new Promise<RaceAnswer[]>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith('answers ')) resolve(JSON.parse(line.slice('answers '.length)) as RaceAnswer[])
      })
      child.on('exit', (code) => reject(new Error(`race worker exited ${code} without answers: ${stderr}`)))
    })
    return {child, ready, done}
  })
  await Promise.all(children.map((c) => c.ready))
  for (const {child} of children) child.stdin.write('go\n')
  return Promise.all(children.map((c) => c.done))
}

async function work(spec: WorkerSpec): Promise<void> {
  const {buildApp} = await import('../../src/api/app.js')
  const {fixedClock} = await import('../../src/core/clock.js')
  const {loadConfig} = await import('../../src/core/config.js')
  const {openDatabase} = await import('../../src/core/db/connection.js')
  const config = loadConfig({cwd: spec.cwd, env: {}, databaseUrl: spec.databaseUrl})
  const db = await openDatabase(config.database)
  const app = await buildApp({db, config, clock: fixedClock(spec.at)})
  await app.ready()
  // Warm the pool (every connection) before the start signal.
  await db.knex.raw('select 1')
  process.stdout.write('ready\n')
  await new Promise<void>((resolve) => createInterface({input: process.stdin}).once('line', () => resolve()))
  const answers = await Promise.all(
    spec.requests.map((r) =>
      app.inject({
        method: r.method,
        url: r.url,
        headers: {authorization: `Bearer ${r.token}`, accept: 'application/json'},
        ...(r.payload === undefined ? {} : {payload: r.payload as object}),
      }),
    ),
  )
  process.stdout.write(`answers ${JSON.stringify(answers.map((a) => ({status: a.statusCode, body: a.json<Record<string, unknown>>()})))}\n`)
  await app.close()
  await db.close()
}

if (process.argv[1] === SELF) {
  work(JSON.parse(process.argv[2]) as WorkerSpec).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`)
      process.exit(1)
    },
  )
}
