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
import {type EtcSpec, hostHosts, hostResolvConf, hostsFile, resolvConf, writeEtcFiles} from '../container/etc-files.js'
import type {Store} from '../store/store.js'
import {randomBytes} from 'node:crypto'

/**
 * A build's RUN: the command in an nsx container (the same plan as nsx run: all namespaces,
 * docker's default capabilities, masked paths) over the stage's layers, with an upper
 * directory the build owns, so the changes survive the container and become the step's
 * layer. The host's network, as docker build gives a RUN network access (or none, or a network
 * of the store, joined for the RUN's time: --network). The executor is a
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
  /** The RUN's network: host (default; docker's `default` too), none, or a network of the store, which the RUN joins for its time (needs STORE). */
  network?: string
  store?: Store
  /** Where the command's stdout goes (its stderr goes to nsx's); a function gets both, as they come (the Engine API's build stream). */
  stdout?: 'stdout' | 'stderr' | ((chunk: Buffer, stream: 'stdout' | 'stderr') => void)
}

export async function runStep(o: RunStepOptions): Promise<{exitCode: number; signal?: string}> {
  const lowers = o.lowerDirs.length > 0 ? o.lowerDirs.filter((d, i) => o.lowerDirs.indexOf(d, i + 1) < 0) : [join(o.dir, 'empty')]
  mkdirSync(join(o.dir, 'empty'), {recursive: true})
  mkdirSync(join(o.dir, 'rootfs'), {recursive: true})
  const name = `build-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const mode = !o.network || o.network === 'default' || o.network === 'host' ? 'host' : o.network
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
    network: mode,
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
  // On a network of the store the RUN is a container of it for its time: CNI ADD, its peers by
  // name (/etc/hosts and the network's DNS server), and its teardown when it ends.
  const id = mode === 'host' || mode === 'none' ? undefined : randomBytes(32).toString('hex')
  if (id !== undefined) Object.assign(paths, await joinNetwork(o, id, name, mode, spec.etc))
  try {
    return await execute(spec, lowers, paths, o)
  } finally {
    if (id !== undefined) {
      const {teardownContainer} = await import('../network/records.js')
      teardownContainer(o.store!, id)
    }
  }
}

async function joinNetwork(o: RunStepOptions, id: string, name: string, network: string, etcSpec: EtcSpec): Promise<{netns: string; netWait: string}> {
  if (!o.store) throw NsxError.internal(`build --network ${network}: no store to find the network in`)
  const [{attachContainer}, {addStatusPath, netnsPath}, {DEFAULT_NETWORK}, {liveCheck}] = await Promise.all([import('../network/attach.js'), import('../network/records.js'), import('../network/networks.js'), import('../lifecycle/container-network.js')])
  const live = await liveCheck(o.store)
  await attachContainer(o.store, {
    id,
    name,
    hostname: etcSpec.hostname,
    networks: [network === 'bridge' ? DEFAULT_NETWORK : network],
    net: {publish: [], publishAll: false, exposed: [], aliases: []},
    isLive: (x) => x === id || live(x),
    hosts: {path: join(o.dir, 'hosts'), text: (addresses) => hostsFile({...etcSpec, network, addresses}, hostHosts())},
    resolvConf: {path: join(o.dir, 'resolv.conf'), text: (servers) => resolvConf(servers ? {...etcSpec, dns: servers} : etcSpec, hostResolvConf())},
  })
  return {netns: netnsPath(o.store, id), netWait: addStatusPath(o.store, id)}
}

async function execute(spec: ReturnType<typeof buildSpec>, lowers: string[], paths: ReturnType<typeof containerPaths>, o: RunStepOptions): Promise<{exitCode: number; signal?: string}> {
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
      child.once('error', (err) => reject(NsxError.internal(`cannot start the executor: ${err.message}`)))
      child.once(sink ? 'close' : 'exit', (code: number | null, signal: NodeJS.Signals | null) => resolve(signal ? {exitCode: 128, signal} : {exitCode: code ?? 125}))
    })
  } finally {
    closeSync(fd)
  }
}
