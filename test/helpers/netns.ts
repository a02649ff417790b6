import {spawn, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {BUSYBOX} from './container.js'
import {haveCommand, NSX_BIN, RunResult, skipOrFail, stopWritersIn} from './env.js'

/**
 * A network lab: a process holding a network namespace and a mount namespace of the test's
 * own (lo up, nothing else), in which every nsx command of the test runs (nsenter). Bridges,
 * veths, iptables rules, ip_forward and the containers' namespace mounts all live there, so
 * the host's network is never touched; closing the lab removes the containers, and the
 * namespaces go with the holder.
 */
export interface NetLab {
  dir: string
  /** The process holding the lab's namespaces (nsenter -t PID -n -m enters them). */
  pid: number
  store: string
  /** A busybox root with every applet (httpd, nc, wget, ping) and /www/index.html. */
  layer: string
  /** A command in the lab's namespaces. */
  run(cmd: string, args: string[], opts?: {input?: string; timeout?: number; env?: NodeJS.ProcessEnv}): RunResult
  nsx(args: string[], opts?: {env?: Record<string, string>; timeout?: number}): RunResult
  /** GET URL from the lab's host side (node's fetch): the body, or undefined on any failure. */
  http(url: string): string | undefined
  /** Send one UDP datagram from the lab's host side and return the reply (undefined: none within a second). */
  udp(host: string, port: number, text: string): string | undefined
  close(): void
}

/** A static UDP echo server for containers (busybox's nc has no -u): prints and answers each datagram. */
const UDP_ECHO_C = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET; a.sin_port = htons(atoi(argv[1]));
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
  for (;;) {
    char buf[512], out[600]; struct sockaddr_in from; socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) continue;
    buf[n] = 0; printf("got %s\\n", buf); fflush(stdout);
    int m = snprintf(out, sizeof out, "echo %s", buf);
    sendto(s, out, m, 0, (struct sockaddr *)&from, fl);
  }
}
`

export function needNetLab(t: TestContext): boolean {
  if (process.getuid?.() !== 0) return !skipOrFail(t, 'needs root')
  if (!existsSync(BUSYBOX)) return !skipOrFail(t, 'needs busybox (Debian package busybox-static)')
  for (const [cmd, pkg] of [['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['iptables', 'iptables'], ['ip', 'iproute2']])
    if (!haveCommand(cmd)) return !skipOrFail(t, `needs ${cmd} (Debian package ${pkg})`)
  if (!existsSync('/usr/lib/cni/bridge')) return !skipOrFail(t, 'needs the CNI plugins (Debian package containernetworking-plugins)')
  return true
}

export function busyboxAll(dir: string): string {
  mkdirSync(join(dir, 'bin'), {recursive: true})
  mkdirSync(join(dir, 'etc'), {recursive: true})
  mkdirSync(join(dir, 'www'), {recursive: true})
  mkdirSync(join(dir, 'tmp'), {recursive: true, mode: 0o1777})
  copyFileSync(BUSYBOX, join(dir, 'bin', 'busybox'))
  const list = spawnSync(BUSYBOX, ['--list'], {encoding: 'utf8'}).stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox')
  for (const a of list) symlinkSync('busybox', join(dir, 'bin', a))
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\n')
  writeFileSync(join(dir, 'www', 'index.html'), 'hello from nsx\n')
  writeFileSync(join(dir, 'udp-echo.c'), UDP_ECHO_C)
  const cc = spawnSync('gcc', ['-static', '-O2', '-o', join(dir, 'bin', 'udp-echo'), join(dir, 'udp-echo.c')], {encoding: 'utf8'})
  if (cc.status !== 0) throw new Error(`cannot compile the udp echo server: ${cc.stderr}`)
  rmSync(join(dir, 'udp-echo.c'))
  return dir
}

export async function makeNetLab(t: TestContext | {after(fn: () => void): void}): Promise<NetLab> {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-net-'))
  const store = join(dir, 'store')
  const layer = busyboxAll(join(dir, 'bb'))
  const holder = spawn('unshare', ['--net', '--mount', '--propagation', 'private', 'sh', '-c', 'ip link set lo up && echo ready && exec sleep 1000000'], {stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve())
    holder.once('exit', (code) => reject(new Error(`the lab's namespace holder exited (${code})`)))
  })
  const pid = holder.pid!
  const run = (cmd: string, args: string[], opts: {input?: string; timeout?: number; env?: NodeJS.ProcessEnv} = {}): RunResult => {
    const r = spawnSync('nsenter', ['-t', String(pid), '-n', '-m', '--', cmd, ...args], {encoding: 'utf8', input: opts.input, timeout: opts.timeout ?? 60000, env: opts.env ?? process.env, maxBuffer: 16 << 20})
    return {status: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
  }
  const env = (extra: Record<string, string> = {}) => {
    // In the lab, containers get root's default network, bridge, as docker's do: the suite's
    // NSX_NETWORK=none (test/run.mjs) is unset here.
    return {...process.env, NSX_ROOT: store, NO_COLOR: '1', NSX_NETWORK: '', ...extra}
  }
  let closed = false
  const lab: NetLab = {
    dir,
    pid,
    store,
    layer,
    run: (cmd, args, opts = {}) => run(cmd, args, opts),
    nsx: (args, opts = {}) => run(process.execPath, [NSX_BIN, ...args], {env: env(opts.env), timeout: opts.timeout}),
    http: (url) => {
      const code = `fetch(${JSON.stringify(url)}, {signal: AbortSignal.timeout(2000)}).then((r) => r.text()).then((t) => process.stdout.write(t), () => process.exit(1))`
      const r = run(process.execPath, ['-e', code], {timeout: 10000})
      return r.status === 0 ? r.stdout : undefined
    },
    udp: (host, port, text) => {
      const code = `const s = require('dgram').createSocket('udp4'); s.on('message', (m) => { process.stdout.write(m.toString()); process.exit(0) }); s.send(${JSON.stringify(text)}, ${port}, ${JSON.stringify(host)}); setTimeout(() => process.exit(1), 1000)`
      const r = run(process.execPath, ['-e', code], {timeout: 10000})
      return r.status === 0 ? r.stdout : undefined
    },
    close: () => {
      if (closed) return
      closed = true
      const ids = lab.nsx(['ps', '-aq']).stdout.split('\n').filter(Boolean)
      if (ids.length > 0) lab.nsx(['rm', '-f', ...ids])
      lab.nsx(['gc'])
      stopWritersIn(dir)
      holder.kill('SIGKILL')
      rmSync(dir, {recursive: true, force: true})
    },
  }
  t.after(() => lab.close())
  return lab
}

/** Retry FN until it returns true (a server that has not bound its port yet), up to ms. */
export async function eventually(fn: () => boolean, ms = 15000): Promise<boolean> {
  const end = Date.now() + ms
  for (;;) {
    if (fn()) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 100))
  }
}
