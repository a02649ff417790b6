import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {NsxError} from '../cli/errors.js'
import type {ImageDefaults} from '../image/config.js'
import {encodePlan} from '../plan/encode.js'
import {sealedExecutor} from '../plan/executor.js'
import {validatePlan} from '../plan/validate.js'
import {readLastCap} from '../proc/capabilities.js'
import type {RunOptions} from '../container/options.js'
import {buildRunPlan, containerPaths, encodeEnv} from '../container/plan.js'
import {buildSpec} from '../container/spec.js'
import {writeEtcFiles} from '../container/etc-files.js'

/**
 * A build's RUN: the command in an nsx container (the same plan as nsx run: all namespaces,
 * docker's default capabilities, masked paths) over the stage's layers, with an upper
 * directory the build owns, so the changes survive the container and become the step's
 * layer. The host's network, as docker build gives a RUN network access. The executor is a
 * child of nsx (not an exec): the build goes on after it.
 */

export interface RunStepOptions {
  /** Stored layer roots, lowest first (may be empty: FROM scratch). */
  lowerDirs: string[]
  /** Where the changes go; work is the overlay's work directory (same filesystem). */
  upper: string
  work: string
  /** A directory for the container's files (rootfs mount point, env, pids), removed after. */
  dir: string
  argv: string[]
  env: string[]
  workdir: string
  user: string
  /** --add-host NAME:IP, lines of its /etc/hosts (docker build --add-host, the Engine API's extrahosts). */
  addHosts?: string[]
  /** Where the command's stdout goes (its stderr goes to nsx's); a function gets both, as they come (the Engine API's build stream). */
  stdout?: 'stdout' | 'stderr' | ((chunk: Buffer, stream: 'stdout' | 'stderr') => void)
}

export async function runStep(o: RunStepOptions): Promise<{exitCode: number; signal?: string}> {
  const lowers = o.lowerDirs.length > 0 ? o.lowerDirs.filter((d, i) => o.lowerDirs.indexOf(d, i + 1) < 0) : [join(o.dir, 'empty')]
  mkdirSync(join(o.dir, 'empty'), {recursive: true})
  mkdirSync(join(o.dir, 'rootfs'), {recursive: true})
  const name = `build-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const opts: RunOptions = {
    layers: [],
    env: [],
    envFiles: [],
    volumes: [],
    interactive: false,
    tty: false,
    detach: false,
    rm: true,
    logOpts: [],
    capAdd: [],
    capDrop: [],
    privileged: false,
    network: 'host',
    dryRun: false,
    json: false,
    help: false,
    command: o.argv,
    workdir: o.workdir || '/',
    user: o.user,
    addHosts: o.addHosts ?? [],
  }
  const defaults: ImageDefaults = {entrypoint: [], cmd: [], env: o.env, workingDir: o.workdir, user: o.user}
  const spec = buildSpec(opts, lowers, defaults, name, readLastCap())
  spec.hostname = 'nsx-build'
  spec.etc.hostname = spec.hostname
  // BuildKit's RUN gets /etc/hosts and /etc/resolv.conf, and may change its /etc/hostname.
  spec.etc.bind = ['hosts', 'resolv.conf']
  const paths = {...containerPaths(o.dir, join(o.dir, 'pin')), upper: o.upper, work: o.work}
  writeFileSync(paths.env, encodeEnv(spec.env), {mode: 0o600})
  // A RUN step gets /etc/hosts, /etc/hostname and /etc/resolv.conf as a container does (docker build's too).
  writeEtcFiles(o.dir, spec.etc)
  const plan = buildRunPlan(spec, lowers, paths, {places: [], enable: [], writes: []})
  validatePlan(plan)
  const fd = await sealedExecutor()
  try {
    const argv = encodePlan(plan)
    const sink = typeof o.stdout === 'function' ? o.stdout : undefined
    const child = spawn(`/proc/${process.pid}/fd/${fd}`, argv.slice(1), {argv0: argv[0], stdio: ['ignore', sink ? 'pipe' : o.stdout === 'stderr' ? 2 : 'inherit', sink ? 'pipe' : 'inherit']})
    if (sink) {
      child.stdout?.on('data', (c: Buffer) => sink(c, 'stdout'))
      child.stderr?.on('data', (c: Buffer) => sink(c, 'stderr'))
    }
    return await new Promise((resolve, reject) => {
      child.once('error', (err) => reject(new NsxError(`cannot start the executor: ${err.message}`)))
      child.once(sink ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => resolve(signal ? {exitCode: 128, signal} : {exitCode: code ?? 125}))
    })
  } finally {
    closeSync(fd)
  }
}
