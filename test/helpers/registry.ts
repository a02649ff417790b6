import {ChildProcess, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {needCommand} from './env.js'

/**
 * Debian's docker-registry (distribution 2.x) on a free 127.0.0.1 port, started by the test
 * with a config it writes, optionally behind htpasswd (bcrypt) auth, and stopped by t.after.
 */

export interface TestRegistry {
  host: string
  port: number
  dir: string
  user?: string
  password?: string
  proc: ChildProcess
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port
      srv.close(() => resolve(port))
    })
  })
}

export function needRegistry(t: TestContext): boolean {
  return needCommand(t, 'docker-registry', 'docker-registry')
}

export async function startRegistry(t: TestContext, opts: {auth?: {user: string; password: string}} = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'nsx-registry-'))
  let lastErr = ''
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    let auth = ''
    if (opts.auth) {
      const h = spawnSync('htpasswd', ['-B', '-i', '-c', join(dir, 'htpasswd'), opts.auth.user], {input: opts.auth.password, encoding: 'utf8'})
      if (h.status !== 0) throw new Error(`htpasswd failed: ${h.stderr}`)
      auth = `auth:\n  htpasswd:\n    realm: nsx-test\n    path: ${join(dir, 'htpasswd')}\n`
    }
    const config = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`
    writeFileSync(join(dir, 'config.yml'), config)
    const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], {stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<void>((res) => proc.once('exit', () => res()))
    // Ready when /v2/ answers.
    let ready = false
    for (let i = 0; i < 100 && proc.exitCode === null; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/v2/`)
        await r.arrayBuffer()
        ready = true
        break
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    if (ready) {
      const reg: TestRegistry = {host: `127.0.0.1:${port}`, port, dir, user: opts.auth?.user, password: opts.auth?.password, proc}
      t.after(async () => {
        if (proc.exitCode === null) {
          proc.kill('SIGTERM')
          await exited
        }
        rmSync(dir, {recursive: true, force: true})
      })
      return reg
    }
    proc.kill('SIGKILL')
    await exited
    lastErr = stderr
  }
  rmSync(dir, {recursive: true, force: true})
  throw new Error(`docker-registry did not start: ${lastErr.slice(-500)}`)
}
