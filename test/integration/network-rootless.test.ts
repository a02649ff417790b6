import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {TestContext} from 'node:test'
import {assertOneLineError, needCommand, NSX_BIN, RunResult} from '../helpers/env.js'
import {eventually, makeNetLab, NetLab, needNetLab} from '../helpers/netns.js'

/**
 * Rootless networking (src/network/rootless.ts): an ordinary user (uid 65534) publishes a
 * port through pasta, or slirp4netns, in a network lab of the test's own (helpers/netns.ts).
 * The lab gets what an ordinary machine has and the lab alone sees: /dev/net/tun open to
 * everyone (a node of the test's own bound over it in the lab's mount namespace; udev makes
 * it 0666 on a Debian host, this machine has it 0600), and an interface with a default route
 * (both stacks take the host's route). Nothing is contacted but the lab's loopback, where the
 * test runs its own server, and the test's containers.
 */

const UID = 65534
const GATEWAY = '10.231.0.1'

interface UserLab {
  lab: NetLab
  dir: string
  layer: string
  nsx(args: string[]): RunResult
  /** The pid of a container's user-mode stack (pasta or slirp4netns), from its endpoint record. */
  helperPid(name: string): number
}

async function userLab(t: TestContext): Promise<UserLab> {
  // The user's containers go before the lab closes (its close removes only root's, then its namespaces).
  let closeLab = () => {}
  const lab = await makeNetLab({after: (fn) => (closeLab = fn)})
  const dir = join(lab.dir, 'user')
  mkdirSync(dir)
  const layer = join(dir, 'layer')
  cpSync(lab.layer, layer, {recursive: true, verbatimSymlinks: true})
  lab.run('chown', ['-R', `${UID}:${UID}`, dir])
  chownSync(lab.dir, 0, 0)
  lab.run('chmod', ['755', lab.dir])
  const setup = [
    `mknod -m 666 ${lab.dir}/tun c 10 200`,
    `mount --bind ${lab.dir}/tun /dev/net/tun`,
    'ip link add nsxrl0 type veth peer name nsxrl1',
    'ip addr add 10.231.0.2/24 dev nsxrl0',
    'ip link set nsxrl0 up',
    'ip link set nsxrl1 up',
    `ip route add default via ${GATEWAY}`,
  ].join(' && ')
  const u: UserLab = {
    lab,
    dir,
    layer,
    nsx: (args) => lab.run('setpriv', [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--', 'env', '-u', 'NSX_NETWORK', `NSX_ROOT=${dir}/store`, `HOME=${dir}`, 'NO_COLOR=1', process.execPath, NSX_BIN, ...args]),
    helperPid: (name) => {
      const id = (JSON.parse(u.nsx(['container', 'inspect', name]).stdout) as Array<{Id: string}>)[0].Id
      return Number(readFileSync(join(dir, 'store', 'networks', 'endpoints', id, 'helper.pid'), 'utf8').trim())
    },
  }
  t.after(() => {
    try {
      const ids = u.nsx(['ps', '-aq']).stdout.split('\n').filter(Boolean)
      if (ids.length > 0) u.nsx(['rm', '-f', ...ids])
    } finally {
      closeLab()
    }
  })
  const r = lab.run('sh', ['-c', setup])
  assert.equal(r.status, 0, r.stderr)
  return u
}

/** A server of the test's own on the lab's loopback (busybox httpd), stopped after the test. */
function loopbackServer(t: TestContext, u: UserLab, port: number, text: string): void {
  const www = join(u.lab.dir, 'www')
  mkdirSync(www, {recursive: true})
  writeFileSync(join(www, 'index.html'), text)
  const r = u.lab.run('sh', ['-c', `busybox httpd -f -p 127.0.0.1:${port} -h ${www} </dev/null >/dev/null 2>&1 & echo $!`])
  const pid = Number(r.stdout.trim())
  assert.ok(pid > 0, r.stderr)
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone
    }
  })
  assert.ok(u.lab.http(`http://127.0.0.1:${port}/`) === text || eventuallySync(() => u.lab.http(`http://127.0.0.1:${port}/`) === text), 'the loopback server answers')
}

function eventuallySync(fn: () => boolean): boolean {
  for (let i = 0; i < 100; i++) {
    if (fn()) return true
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)
  }
  return false
}

/** Gone, or a zombie its parent (the test runner, a subreaper) has not reaped yet: it holds no socket any more. */
function ended(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return true
  }
}

function needRootless(t: TestContext, stack: 'pasta' | 'slirp4netns'): boolean {
  return needNetLab(t) && needCommand(t, 'setpriv', 'util-linux') && needCommand(t, stack, stack === 'pasta' ? 'passt' : 'slirp4netns')
}

test('rootless -p through pasta: the host loopback reaches the published port, nsx port shows it, outbound reaches a loopback server through the gateway, a taken port is one line, and rm leaves no pasta', async (t) => {
  if (!needRootless(t, 'pasta')) return
  const u = await userLab(t)
  loopbackServer(t, u, 8099, 'from the host loopback\n')
  // -p with no --network: an ordinary user's bridge, which is pasta.
  const r = u.nsx(['run', '-d', '--name', 'web', '-p', '8080:80', '--layer', u.layer, '--', 'httpd', '-f', '-p', '80', '-h', '/www'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(await eventually(() => u.lab.http('http://127.0.0.1:8080/') === 'hello from nsx\n'), 'the published port answers on the host loopback')
  assert.equal(u.nsx(['port', 'web']).stdout, '80/tcp -> 0.0.0.0:8080\n')
  assert.equal(u.nsx(['port', 'web', '80']).stdout, '0.0.0.0:8080\n')
  const helper = u.helperPid('web')
  assert.match(readFileSync(`/proc/${helper}/cmdline`, 'utf8'), /^\S*pasta\0/)
  // Outbound, from the command's first instruction on: pasta maps the gateway address to the host's loopback.
  const out = u.nsx(['run', '--rm', '--network', 'pasta', '--layer', u.layer, '--', 'sh', '-c', `ip route; wget -q -O - http://${GATEWAY}:8099/`])
  assert.equal(out.status, 0, out.stderr)
  assert.match(out.stdout, new RegExp(`^default via ${GATEWAY.replace(/\./g, '\\.')} dev eth0`, 'm'))
  assert.match(out.stdout, /from the host loopback\n$/)
  // Taken ports: by another container, and by a process of the host; one line, before anything starts.
  assertOneLineError(u.nsx(['run', '-d', '--name', 'dup', '-p', '8080:80', '--layer', u.layer, '--', 'httpd', '-f', '-p', '80']), 125, /^nsx run: Bind for 0\.0\.0\.0:8080\/tcp failed: port is already allocated$/)
  assertOneLineError(u.nsx(['run', '--rm', '-p', '8099:80', '--layer', u.layer, '--', 'true']), 125, /^nsx run: Bind for 0\.0\.0\.0:8099\/tcp failed: port is already in use on the host$/)
  assertOneLineError(u.nsx(['run', '--rm', '-p', '80:80', '--layer', u.layer, '--', 'true']), 125, /cannot publish a port below/)
  assert.equal(u.nsx(['ps', '-q', '--filter', 'name=dup']).stdout, '', 'the container with the taken port does not run')
  // stop ends pasta (the supervisor's exit hook); rm removes the record.
  assert.equal(u.nsx(['stop', 'web']).status, 0)
  assert.ok(await eventually(() => ended(helper)), 'pasta ended with the container')
  assert.equal(u.lab.http('http://127.0.0.1:8080/'), undefined)
  assert.equal(u.nsx(['rm', 'web']).status, 0)
  u.nsx(['rm', '-f', 'dup'])
  assert.deepEqual(readdirSync(join(u.dir, 'store', 'networks', 'endpoints')), [])
})

test('rootless --network slirp4netns: published port, outbound to the loopback through 10.0.2.2, and rm -f of a running container stops it', async (t) => {
  if (!needRootless(t, 'slirp4netns')) return
  const u = await userLab(t)
  loopbackServer(t, u, 8099, 'loopback via slirp\n')
  const r = u.nsx(['run', '-d', '--name', 'web', '--network', 'slirp4netns', '-p', '8081:80', '--layer', u.layer, '--', 'httpd', '-f', '-p', '80', '-h', '/www'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(await eventually(() => u.lab.http('http://127.0.0.1:8081/') === 'hello from nsx\n'))
  assert.equal(u.nsx(['port', 'web']).stdout, '80/tcp -> 0.0.0.0:8081\n')
  const helper = u.helperPid('web')
  assert.match(readFileSync(`/proc/${helper}/cmdline`, 'utf8'), /^\S*slirp4netns\0/)
  const out = u.nsx(['run', '--rm', '--network', 'slirp4netns', '--layer', u.layer, '--', 'sh', '-c', 'ip route; wget -q -O - http://10.0.2.2:8099/'])
  assert.equal(out.status, 0, out.stderr)
  assert.match(out.stdout, /^default via 10\.0\.2\.2 dev eth0/m)
  assert.match(out.stdout, /loopback via slirp\n$/)
  assert.equal(u.nsx(['rm', '-f', 'web']).status, 0)
  assert.ok(ended(helper), 'slirp4netns ended by the time rm returned')
  assert.deepEqual(readdirSync(join(u.dir, 'store', 'networks', 'endpoints')), [])
})

test('rootless --network none and host keep working; pasta as root, and --ip rootless, are refused in one line', async (t) => {
  if (!needRootless(t, 'pasta')) return
  const u = await userLab(t)
  // /proc/net/dev: the reader's network namespace (a rootless /sys is the host's, and shows the host's).
  const ifaces = (out: string) => out.split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean).sort()
  const none = u.nsx(['run', '--rm', '--network', 'none', '--layer', u.layer, '--', 'cat', '/proc/net/dev'])
  assert.equal(none.status, 0, none.stderr)
  assert.deepEqual(ifaces(none.stdout), ['lo'])
  const host = u.nsx(['run', '--rm', '--network', 'host', '--layer', u.layer, '--', 'cat', '/proc/net/dev'])
  assert.equal(host.status, 0, host.stderr)
  assert.deepEqual(ifaces(host.stdout), ['lo', 'nsxrl0', 'nsxrl1'], "the lab's own interfaces")
  assertOneLineError(u.nsx(['run', '--rm', '-p', '8082:80', '--ip', '10.0.2.5', '--layer', u.layer, '--', 'true']), 125, /--ip is not supported with --network pasta/)
  assertOneLineError(u.lab.nsx(['run', '--rm', '--network', 'pasta', '--layer', u.layer, '--', 'true']), 125, /--network pasta is for rootless containers/)
  assert.ok(!existsSync(join(u.dir, 'store', 'networks', 'endpoints')) || readdirSync(join(u.dir, 'store', 'networks', 'endpoints')).length === 0)
})
