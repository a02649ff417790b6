import {spawnSync, SpawnSyncOptions} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {TestContext} from 'node:test'
import assert from 'node:assert/strict'

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const NSX_BIN = join(REPO, 'bin', 'nsx')
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1'

// Containers of the tests get no network unless a test asks for one: test/run.mjs sets
// NSX_NETWORK=none, and a test file run on its own (node --test) gets the same here, so root's
// default, bridge, is never made in the host's network namespace (test/helpers/netns.ts unsets it
// inside a network namespace of the test's own).
process.env.NSX_NETWORK ??= 'none'

/**
 * Skip a test that cannot run here, except under CI, where a skip would hide a
 * missing package or privilege: there it fails instead.
 */
export function skipOrFail(t: TestContext, reason: string): boolean {
  if (IN_CI) assert.fail(`cannot run under CI: ${reason}`)
  t.skip(reason)
  return true
}

/** True when the test may go on; otherwise the test is skipped (or failed under CI). */
export function needRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true
  skipOrFail(t, 'needs root')
  return false
}

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'}).status === 0
}

/** e.g. needCommand(t, 'pstree', 'psmisc'). */
export function needCommand(t: TestContext, cmd: string, debianPackage: string): boolean {
  if (haveCommand(cmd)) return true
  skipOrFail(t, `needs ${cmd} (Debian package ${debianPackage})`)
  return false
}

export interface RunResult {
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, {encoding: 'utf8', maxBuffer: 64 << 20, ...opts})
  if (r.error) throw r.error
  return {status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
}

/**
 * Run lsns. util-linux 2.38's lsns exits 1 with nothing on stderr when a process it is reading
 * ends under it (seen on this machine under load, about once in 40 runs): such a run is retried,
 * a real failure (a message on stderr) is not.
 */
export function runLsns(args: string[]): RunResult {
  let r = run('lsns', args)
  for (let attempt = 1; attempt < 8 && r.status === 1 && r.stderr === ''; attempt++) r = run('lsns', args)
  return r
}

/** Run bin/nsx with NO_COLOR, so output is plain whatever the terminal. */
export function nsx(args: string[], opts: SpawnSyncOptions = {}): RunResult {
  return run(process.execPath, [NSX_BIN, ...args], {
    ...opts,
    env: {...process.env, NO_COLOR: '1', ...(opts.env ?? {})},
  })
}

/** Parse JSON output, failing the test with the output shown when it is not JSON. */
export function nsxJson<T = unknown>(args: string[], opts: SpawnSyncOptions = {}): T {
  const r = nsx([...args, '--json'], opts)
  assert.equal(r.status, 0, `nsx ${args.join(' ')} --json failed: ${r.stderr}`)
  try {
    return JSON.parse(r.stdout) as T
  } catch {
    assert.fail(`not JSON: ${r.stdout.slice(0, 500)}`)
  }
}

/** A bad-input run: one line on stderr, no stack trace, the expected exit code. */
export function assertOneLineError(r: RunResult, exitCode: number, pattern?: RegExp): void {
  assert.equal(r.status, exitCode, `exit status ${r.status}, stderr: ${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'stack trace on stderr')
  if (pattern) assert.match(lines[0], pattern)
}

/** A temp dir removed when the test ends, pass or fail. */
export function tempDir(t: {after(fn: () => void): void}, prefix = 'nsx-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => {
    stopWritersIn(d)
    rmSync(d, {recursive: true, force: true})
  })
  return d
}

/**
 * Processes of a test that write into its directory until they end (an Engine API service: its
 * watcher records events in the store), by pid. A directory's cleanup stops them first: else
 * they write while it is removed (ENOTEMPTY), or make it again after.
 */
const writers = new Map<number, string>()

/** Register pid as writing into dir; the returned function unregisters it (its own stop). */
export function writesInto(dir: string, pid: number): () => void {
  writers.set(pid, dir)
  return () => writers.delete(pid)
}

/** SIGTERM every writer registered in dir or below it, and wait (up to 10 s each) until it has ended. */
export function stopWritersIn(dir: string): void {
  for (const [pid, d] of writers) {
    if (d !== dir && !d.startsWith(`${dir}/`)) continue
    writers.delete(pid)
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      continue
    }
    const end = Date.now() + 10000
    // Our own child stays a zombie until Node reaps it: ended is gone or state Z.
    const ended = () => {
      try {
        return /^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return true
      }
    }
    while (Date.now() < end && !ended()) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
}

/** Files of these contents in a temp dir removed when the test ends; their paths by the same names, and the dir. */
export function tempFiles<K extends string>(t: {after(fn: () => void): void}, prefix: string, files: Record<K, string>): Record<K, string> & {dir: string} {
  const dir = tempDir(t, prefix)
  const paths: Record<string, string> = {dir}
  for (const [name, text] of Object.entries<string>(files)) {
    paths[name] = join(dir, name)
    writeFileSync(paths[name], text)
  }
  return paths as Record<K, string> & {dir: string}
}
