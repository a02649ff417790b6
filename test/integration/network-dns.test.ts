import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {makeNetLab, needNetLab, NetLab} from '../helpers/netns.js'
import {skipOrFail} from '../helpers/env.js'

// Names by DNS on user-defined networks (aardvark-dns, src/network/dns.ts); every container and
// the DNS server run inside the lab's own network namespace (test/helpers/netns.ts). busybox's
// nslookup asks the DNS server only, never /etc/hosts.

const AARDVARK = '/usr/lib/podman/aardvark-dns'

function needAardvark(t: Parameters<typeof needNetLab>[0]): boolean {
  if (!needNetLab(t)) return false
  if (!existsSync(AARDVARK)) return !skipOrFail(t, 'needs aardvark-dns (Debian package aardvark-dns)')
  return true
}

const dnsDir = (lab: NetLab) => join(lab.store, 'networks', 'aardvark')
const lookup = (lab: NetLab, from: string, name: string) => lab.nsx(['exec', from, 'nslookup', '-type=a', name])
const resolves = (lab: NetLab, from: string, name: string, ip?: string) => {
  const r = lookup(lab, from, name)
  return r.status === 0 && (ip === undefined || r.stdout.includes(`Address: ${ip}`))
}
const address = (lab: NetLab, name: string, net: string) => JSON.parse(lab.nsx(['container', 'inspect', name]).stdout)[0].NetworkSettings.Networks[net].IPAddress as string

/** The aardvark-dns processes serving the lab's store (their command line names its config directory). */
function aardvarks(lab: NetLab): number[] {
  const out: number[] = []
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
      if (cmd.includes('aardvark-dns') && cmd.includes(dnsDir(lab)) && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, 'utf8'))) out.push(Number(p))
    } catch {
      // gone
    }
  }
  return out
}

test('DNS on a user-defined network: names, aliases, a link made before its target, rename, stop and rm; nothing left after', async (t) => {
  if (!needAardvark(t)) return
  const lab = await makeNetLab(t)
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.20.0/24', 'dnsnet']).status, 0)
  const web = lab.nsx(['run', '-d', '--name', 'web', '--network', 'dnsnet', '--network-alias', 'www', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(web.status, 0, web.stderr)
  // A link to a container that does not exist yet: taken on a user-defined network (docker's daemon checks links on the default bridge only).
  const app = lab.nsx(['run', '-d', '--name', 'app', '--network', 'dnsnet', '--link', 'up:bar', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(app.status, 0, app.stderr)
  assert.deepEqual(JSON.parse(lab.nsx(['container', 'inspect', 'app']).stdout)[0].NetworkSettings.Networks.dnsnet.Links, ['up:bar'])
  // The container asks the network's DNS server, on its gateway.
  assert.match(lab.nsx(['exec', 'app', 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.99\.20\.1$/m)
  assert.equal(aardvarks(lab).length, 1)

  const webIp = address(lab, 'web', 'dnsnet')
  const r = lookup(lab, 'app', 'web')
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, new RegExp(`Address: ${webIp.replace(/\./g, '\\.')}\\b`))
  assert.ok(resolves(lab, 'app', 'www', webIp), 'the network alias resolves')
  assert.ok(resolves(lab, 'web', 'app', address(lab, 'app', 'dnsnet')), 'and the other way')
  assert.ok(!resolves(lab, 'app', 'bar'), 'the link alias resolves only once its target runs')

  const up = lab.nsx(['run', '-d', '--name', 'up', '--network', 'dnsnet', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(up.status, 0, up.stderr)
  assert.ok(resolves(lab, 'app', 'bar', address(lab, 'up', 'dnsnet')), 'the link alias made before its target resolves now')
  assert.ok(resolves(lab, 'app', 'up'))

  // Renamed: the new name resolves, the old one no more.
  assert.equal(lab.nsx(['rename', 'up', 'upstream']).status, 0)
  assert.ok(resolves(lab, 'app', 'upstream'))
  assert.ok(!resolves(lab, 'app', 'up'))

  // Stopped: gone from DNS when stop returns (its supervisor's teardown reloaded the server).
  assert.equal(lab.nsx(['stop', '-t', '0', 'web']).status, 0)
  const gone = lookup(lab, 'app', 'web')
  assert.notEqual(gone.status, 0)
  assert.match(gone.stdout + gone.stderr, /NXDOMAIN/)
  assert.ok(!resolves(lab, 'app', 'www'))
  // Started again: back.
  assert.equal(lab.nsx(['start', 'web']).status, 0)
  assert.ok(resolves(lab, 'app', 'www', address(lab, 'web', 'dnsnet')))

  // The last container gone: no server, no file.
  assert.equal(lab.nsx(['rm', '-f', 'web', 'app', 'upstream']).status, 0)
  assert.deepEqual(aardvarks(lab), [])
  assert.ok(!existsSync(dnsDir(lab)), 'the DNS configuration directory is removed')
})

test("DNS: the default bridge has none (docker's), a crashed server is started again, nsx gc drops what a crash left, --dns is where other names go", async (t) => {
  if (!needAardvark(t)) return
  const lab = await makeNetLab(t)
  const plain = lab.nsx(['run', '-d', '--name', 'plain', '--network', 'bridge', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(plain.status, 0, plain.stderr)
  assert.doesNotMatch(lab.nsx(['exec', 'plain', 'cat', '/etc/resolv.conf']).stdout, /^nameserver 10\.77\.0\.1$/m)
  assert.deepEqual(aardvarks(lab), [])

  // A resolver of the test's own on the lab's loopback: --dns 127.0.0.1 makes the DNS server (in the lab's namespace) forward there.
  const resolver = spawn('nsenter', ['-t', String(lab.pid), '-n', '--', process.execPath, '-e', RESOLVER], {stdio: ['ignore', 'pipe', 'inherit']})
  t.after(() => resolver.kill('SIGKILL'))
  await new Promise<void>((resolve, reject) => {
    resolver.stdout!.once('data', () => resolve())
    resolver.once('exit', (code) => reject(new Error(`the test's resolver exited (${code})`)))
  })
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.21.0/24', 'fwd']).status, 0)
  const a = lab.nsx(['run', '-d', '--name', 'a', '--network', 'fwd', '--dns', '127.0.0.1', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(a.status, 0, a.stderr)
  const bb = lab.nsx(['run', '-d', '--name', 'b', '--network', 'fwd', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(bb.status, 0, bb.stderr)
  assert.ok(resolves(lab, 'a', 'upstream.example.test', '10.1.2.3'), 'a name of no container is forwarded to the container\'s --dns server')
  assert.ok(resolves(lab, 'a', 'b'), 'and container names still answered by the network\'s server')

  // The server killed: the next change starts another.
  const [pid] = aardvarks(lab)
  process.kill(pid, 'SIGKILL')
  const c = lab.nsx(['run', '-d', '--name', 'c', '--network', 'fwd', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(c.status, 0, c.stderr)
  assert.equal(aardvarks(lab).length, 1)
  assert.ok(resolves(lab, 'a', 'c'))

  // A line a crash left (a container that no longer exists): nsx gc rewrites the files from the live containers.
  const file = join(dnsDir(lab), 'fwd')
  writeFileSync(file, readFileSync(file, 'utf8') + `${'f'.repeat(64)} 10.99.21.200  ghost\n`)
  assert.equal(lab.nsx(['gc']).status, 0)
  assert.doesNotMatch(readFileSync(file, 'utf8'), /ghost/)
  assert.equal(lab.nsx(['rm', '-f', 'a', 'b', 'c', 'plain']).status, 0)
  assert.deepEqual(aardvarks(lab), [])
  assert.ok(!existsSync(dnsDir(lab)))
})

test('build --network NAME: each RUN joins the network and reaches a container by its alias; --network none cannot', async (t) => {
  if (!needAardvark(t)) return
  const lab = await makeNetLab(t)
  assert.equal(lab.nsx(['network', 'create', '--subnet', '10.99.22.0/24', 'bnet']).status, 0)
  // The target starts on the default bridge and is connected with an alias (docker-py's test_build_with_network_mode).
  const tgt = lab.nsx(['run', '-d', '--name', 'tgt', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(tgt.status, 0, tgt.stderr)
  assert.equal(lab.nsx(['network', 'connect', '--alias', 'pingtarget.docker', 'bnet', 'tgt']).status, 0)
  const ctx = join(lab.dir, 'ctx')
  mkdirSync(ctx)
  assert.equal(lab.run('cp', ['-a', lab.layer, join(ctx, 'bb')]).status, 0)
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY bb /\nRUN nslookup -type=a pingtarget.docker && ping -c1 -W5 pingtarget.docker\n')
  const b = lab.nsx(['build', '--network', 'bnet', '-t', 'dnsbuild', ctx], {timeout: 120000})
  assert.equal(b.status, 0, b.stdout + b.stderr)
  assert.match(b.stdout, /Name:\s+pingtarget\.docker\nAddress: 10\.99\.22\.\d+/)
  assert.match(b.stdout, /1 packets received/)
  const none = lab.nsx(['build', '--network', 'none', '--no-cache', '-t', 'dnsbuild-none', ctx], {timeout: 120000})
  assert.equal(none.status, 1, none.stdout + none.stderr)
  assert.match(none.stderr, /RUN nslookup .*the command exited with status 1/)
  // Each RUN's attachment is gone with it: only tgt holds an address on bnet.
  assert.deepEqual(readdirSync(join(lab.store, 'networks', 'endpoints')), [JSON.parse(lab.nsx(['container', 'inspect', 'tgt']).stdout)[0].Id])
  assert.equal(lab.nsx(['rm', '-f', 'tgt']).status, 0)
  assert.deepEqual(aardvarks(lab), [])
})

/** A resolver answering every A query with 10.1.2.3, on the lab's 127.0.0.1:53 (node's dgram; no other address). */
const RESOLVER = `
const s = require('dgram').createSocket('udp4')
s.on('message', (q, from) => {
  let i = 12
  while (q[i] !== 0) i += q[i] + 1
  const question = q.subarray(12, i + 5)
  const head = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0])
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3])
  s.send(Buffer.concat([head, question, answer]), from.port, from.address)
})
s.bind(53, '127.0.0.1', () => process.stdout.write('ready\\n'))
setTimeout(() => process.exit(0), 600000).unref()
`
