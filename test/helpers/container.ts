import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, rmdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {spawn} from 'node:child_process'
import {haveCommand, nsx, NSX_BIN, REPO, run, RunResult, skipOrFail, stopWritersIn} from './env.js'
import {descendantsOf, waitFor} from './processes.js'

/**
 * Fixtures for nsx run tests: the static probe (test/helpers/probe.c) compiled once per
 * file, and layers built from it and busybox-static, in a temp dir with its own store
 * (NSX_ROOT), so the tests never touch /var/lib/nsx and remove all they made.
 */

export const BUSYBOX = '/usr/bin/busybox'
const APPLETS = ['sh', 'ls', 'cat', 'echo', 'ps', 'id', 'hostname', 'mount', 'sleep', 'true', 'false', 'touch', 'mkdir', 'rm', 'readlink', 'grep', 'env', 'pwd', 'head', 'wc', 'stat', 'ip', 'kill', 'tr', 'sed', 'od', 'chmod']

/** Whether the tools a container test needs are here (failing under CI, skipping elsewhere). */
export function needContainerTools(t: TestContext): boolean {
  if (process.getuid?.() !== 0) return !skipOrFail(t, 'needs root')
  if (!existsSync(BUSYBOX)) return !skipOrFail(t, 'needs busybox (Debian package busybox-static)')
  if (!haveCommand('gcc')) return !skipOrFail(t, 'needs gcc (Debian packages gcc, libc6-dev)')
  return true
}

/** The same, without a test context: whether to build the file's fixture at all. */
export function containerToolsPresent(): boolean {
  return process.getuid?.() === 0 && existsSync(BUSYBOX) && haveCommand('gcc')
}

export interface Fixture {
  /** The temp dir holding everything. */
  dir: string
  /** NSX_ROOT for nsx run. */
  store: string
  probe: string
  /** Layer 1: busybox, its applets, the probe, /etc/passwd and /etc/group. */
  base: string
  env: NodeJS.ProcessEnv
  nsx(args: string[], opts?: {input?: string; env?: NodeJS.ProcessEnv; timeout?: number}): RunResult
}

export function compileProbe(out: string): string {
  const r = run('gcc', ['-static', '-O2', '-o', out, join(REPO, 'test', 'helpers', 'probe.c')])
  assert.equal(r.status, 0, `cannot compile the probe: ${r.stderr}`)
  return out
}

export function busyboxLayer(dir: string, probe: string): string {
  mkdirSync(join(dir, 'bin'), {recursive: true})
  mkdirSync(join(dir, 'etc'), {recursive: true})
  mkdirSync(join(dir, 'tmp'), {recursive: true, mode: 0o1777})
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'))
  copyFileSync(probe, join(dir, 'bin', 'probe'))
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a))
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n')
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n')
  writeFileSync(join(dir, 'etc', 'motd'), 'from the base layer\n')
  return dir
}

/** A fixture in a fresh temp dir; removed (with a sweep of the store) when the test file ends. */
export function makeFixture(after: (fn: () => void | Promise<void>) => void, prefix = 'nsx-run-'): Fixture {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const store = join(dir, 'store')
  const probe = compileProbe(join(dir, 'probe'))
  const base = busyboxLayer(join(dir, 'base'), probe)
  const env = {...process.env, NSX_ROOT: store}
  after(() => {
    // Whatever a failed test left running is stopped, what is left swept by nsx gc; then the dir goes.
    const ps = nsx(['ps', '--json'], {env})
    const running = ps.status === 0 ? (JSON.parse(ps.stdout) as {name: string}[]).map((c) => c.name) : []
    if (running.length > 0) nsx(['stop', '-t', '0', ...running], {env})
    nsx(['gc'], {env})
    stopWritersIn(dir)
    killHoldersOf(dir)
    rmSync(dir, {recursive: true, force: true})
  })
  return {
    dir,
    store,
    probe,
    base,
    env,
    nsx: (args, opts = {}) => nsx(args, {env: {...env, ...(opts.env ?? {})}, input: opts.input, timeout: opts.timeout ?? 60000}),
  }
}

/**
 * What nsx could not stop (its build broken mid-test, say): every process with an fd or its cwd
 * in dir (a container's supervisor holds its logs there) is SIGKILLed with its descendants (the
 * container's init, pid 1 of its namespace, and so all of it), and their nsx cgroups removed.
 * Only this test's processes can hold its own temp dir.
 */
function killHoldersOf(dir: string): void {
  const inDir = (l: string) => l === dir || l.startsWith(`${dir}/`)
  const link = (p: string) => {
    try {
      return readlinkSync(p)
    } catch {
      return ''
    }
  }
  const holders = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid).map(Number).filter((pid) => {
    if (inDir(link(`/proc/${pid}/cwd`))) return true
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => inDir(link(`/proc/${pid}/fd/${fd}`)))
    } catch {
      return false
    }
  })
  if (holders.length === 0) return
  const all = [...new Set(holders.flatMap((pid) => [...descendantsOf(pid), pid]))]
  const cgroups = new Set<string>()
  for (const pid of all) {
    try {
      for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
        const [, controllers, path] = line.split(':')
        if (path && /\/nsx-[^/]+-[0-9a-f]{8}$/.test(path)) cgroups.add(join('/sys/fs/cgroup', controllers === '' ? 'unified' : controllers.replace(/^name=/, ''), path))
      }
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone already
    }
  }
  const end = Date.now() + 10000
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return false
    }
  }
  while (Date.now() < end && all.some(alive)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  for (const c of cgroups) {
    try {
      rmdirSync(c)
    } catch {
      // not there, or still busy: the leak check names it
    }
  }
}

/** Cgroup directories of container NAME (nsx-NAME-ID8) below /sys/fs/cgroup (a few levels deep is enough for ours). */
export function cgroupsNamed(name: string): string[] {
  const out: string[] = []
  const walk = (d: string, depth: number) => {
    let entries: string[] = []
    try {
      entries = readdirSync(d, {withFileTypes: true}).filter((e) => e.isDirectory()).map((e) => e.name)
    } catch {
      return
    }
    for (const e of entries) {
      if (new RegExp(`^nsx-${name.replace(/\./g, '\\.')}-[0-9a-f]{8}$`).test(e)) out.push(join(d, e))
      else if (depth < 4) walk(join(d, e), depth + 1)
    }
  }
  walk('/sys/fs/cgroup', 0)
  return out
}

/** Mounts in our (the host's) mount namespace whose mount point or options mention s. */
export function hostMountsMentioning(s: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(s))
}

/** Processes whose command line mentions s (e.g. a container's unique marker). */
export function processesMentioning(s: string): number[] {
  const out: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8')
      if (cmd.includes(s)) out.push(Number(e))
    } catch {
      // gone
    }
  }
  return out
}

/** The ids of the containers in store whose saved name is `name` (kept ones included). */
export function containersNamed(store: string, name: string): string[] {
  let ids: string[] = []
  try {
    ids = readdirSync(join(store, 'run'))
  } catch {
    return []
  }
  return ids.filter((id) => {
    try {
      return (JSON.parse(readFileSync(join(store, 'run', id, 'config.json'), 'utf8')) as {name: string}).name === name
    } catch {
      return false
    }
  })
}

/** Nothing of container NAME is left: directory, name link, layer pin, cgroups, host mounts. */
export function assertContainerGone(f: Fixture, name: string, ids: string[] = containersNamed(f.store, name)): void {
  assert.deepEqual(containersNamed(f.store, name), [], 'state directory left')
  assert.ok(!existsSync(join(f.store, 'names', name)), 'name left')
  for (const id of ids) assert.ok(!existsSync(join(f.store, 'containers', `${id}.json`)), 'layer pin left')
  assert.deepEqual(cgroupsNamed(name), [], 'cgroups left')
  assert.deepEqual(hostMountsMentioning(f.store), [], 'host mounts left')
}

/** A container started by runningContainer: what it printed so far, its cgroup files, and its end. */
export interface RunningContainer {
  /** Its stdout so far. */
  out: () => string
  /** The first line-trimmed content of FILE in its cgroup of controller CTRL (v1 hierarchies). */
  file: (ctrl: string, file: string) => string
  /** SIGTERM to nsx; it must exit 0, and the container's cgroups must be gone. */
  stop: () => Promise<void>
}

/**
 * `nsx run --name NAME ARGS...` in the background, ARGS ending in a command that prints
 * "ready" and waits (probe wait-signal); resolves once it is ready. Killed at the test's
 * end if still running.
 */
export async function runningContainer(t: TestContext, f: Fixture, name: string, args: string[]): Promise<RunningContainer> {
  const c = spawn(process.execPath, [NSX_BIN, 'run', '--name', name, ...args], {env: f.env, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<number | null>((res) => c.on('exit', (code) => res(code)))
  t.after(async () => {
    if (c.exitCode === null) process.kill(c.pid!, 'SIGKILL')
    await exited
  })
  await waitFor(() => out.includes('ready') || c.exitCode !== null, 15000, `the container ${name}`)
  assert.equal(c.exitCode, null, err)
  const file = (ctrl: string, file: string) => {
    // Looked up each time: nsx update may add a cgroup.
    const dirs = cgroupsNamed(name)
    const d = dirs.find((x) => x.startsWith(`/sys/fs/cgroup/${ctrl}/`))
    assert.ok(d, `no ${ctrl} cgroup among ${dirs}`)
    return readFileSync(`${d}/${file}`, 'utf8').trim()
  }
  const stop = async () => {
    process.kill(c.pid!, 'SIGTERM')
    assert.equal(await exited, 0, err)
    assert.deepEqual(cgroupsNamed(name), [])
  }
  return {out: () => out, file, stop}
}
