import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {startApiService} from '../helpers/api.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {makeNetLab, needNetLab} from '../helpers/netns.js'

/**
 * Legacy --link, as docker 20.10 does it, in a network namespace of the test's own: the linked
 * container by its alias in /etc/hosts (its address on the network both are on) and, on the
 * default bridge only, the ALIAS_NAME and ALIAS_ENV_* variables; through nsx run and docker-py.
 */

const addressOf = (inspect: string, network: string) => (JSON.parse(inspect)[0].NetworkSettings.Networks[network].IPAddress as string)

test('--link: the alias in /etc/hosts, the variables on the default bridge only; a stopped target is refused at start', async (t) => {
  if (!needNetLab(t)) return
  const lab = await makeNetLab(t)
  const db = lab.nsx(['run', '-d', '--name', 'db', '-e', 'FOO=1', '--layer', lab.layer, '--', 'sleep', '1000'])
  assert.equal(db.status, 0, db.stderr)
  const ip = addressOf(lab.nsx(['container', 'inspect', 'db']).stdout, 'bridge')
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/)
  const r = lab.nsx(['run', '--rm', '--name', 'web', '--link', 'db:database', '--layer', lab.layer, '--', 'sh', '-c', 'cat /etc/hosts; env; ping -c 1 -W 5 database >/dev/null && echo reached'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tdatabase db\\b`, 'm'))
  assert.match(r.stdout, /^DATABASE_NAME=\/web\/database$/m)
  assert.match(r.stdout, /^DATABASE_ENV_FOO=1$/m)
  assert.doesNotMatch(r.stdout, /^DATABASE_ENV_PATH=/m)
  assert.match(r.stdout, /^reached$/m)

  // A user-defined network: the alias, no variables.
  assert.equal(lab.nsx(['network', 'create', 'appnet']).status, 0)
  assert.equal(lab.nsx(['run', '-d', '--name', 'db2', '--network', 'appnet', '-e', 'BAR=2', '--layer', lab.layer, '--', 'sleep', '1000']).status, 0)
  const ip2 = addressOf(lab.nsx(['container', 'inspect', 'db2']).stdout, 'appnet')
  const u = lab.nsx(['run', '--rm', '--network', 'appnet', '--link', 'db2:store', '--layer', lab.layer, '--', 'sh', '-c', 'cat /etc/hosts; env'])
  assert.equal(u.status, 0, u.stderr)
  assert.match(u.stdout, new RegExp(`^${ip2.replace(/\./g, '\\.')}\\tstore db2\\b`, 'm'))
  assert.doesNotMatch(u.stdout, /^STORE_/m)

  // Refused in one line: a link to nothing at create, to a stopped container at start, with --network none.
  const none = lab.nsx(['create', '--link', 'ghost:g', '--layer', lab.layer, '--', 'true'])
  assert.equal(none.status, 125)
  assert.match(none.stderr, /^nsx create: --link ghost:g: no such container: ghost\n$/)
  assert.equal(lab.nsx(['run', '--name', 'stopped', '--layer', lab.layer, '--', 'true']).status, 0)
  const c = lab.nsx(['create', '--name', 'late', '--link', 'stopped:s', '--layer', lab.layer, '--', 'true'])
  assert.equal(c.status, 0, c.stderr)
  const s = lab.nsx(['start', 'late'])
  assert.notEqual(s.status, 0)
  assert.match(s.stderr, /Cannot link to a non running container: \/stopped AS \/late\/s/)
  const n = lab.nsx(['run', '--network', 'none', '--link', 'db', '--layer', lab.layer, '--', 'true'])
  assert.equal(n.status, 125)
  assert.match(n.stderr, /cannot be used with links/)

  // docker-py, as its own suite's test_create_with_links does it.
  mkdirSync(join(lab.dir, 'img'), {recursive: true})
  assert.equal(lab.nsx(['load', '-i', buildBusyboxArchive(join(lab.dir, 'img'))]).status, 0)
  const svc = await startApiService(lab.dir, {...process.env, NSX_ROOT: lab.store, NO_COLOR: '1', NSX_NETWORK: 'bridge'}, lab.pid)
  t.after(() => svc.stop())
  const py = lab.run('python3', ['-c', `import docker
c = docker.APIClient(base_url='${svc.host}', version='1.41')
x = c.create_container('busybox', 'env', host_config=c.create_host_config(links={'db': 'mylink'}, network_mode='bridge'))
c.start(x)
assert c.wait(x)['StatusCode'] == 0
print(c.logs(x).decode())
print(c.inspect_container(x)['HostConfig']['Links'])
c.remove_container(x)`])
  assert.equal(py.status, 0, py.stderr)
  assert.match(py.stdout, /^MYLINK_NAME=\/\S+\/mylink$/m)
  assert.match(py.stdout, /^MYLINK_ENV_FOO=1$/m)
  assert.match(py.stdout, /\['\/db:\/\S+\/mylink'\]/)
})
