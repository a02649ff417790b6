import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {readlinkSync} from 'node:fs'
import {assertOneLineError} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'

/**
 * nsx inspect NAME stays nsx's report of the container's init (the debugging view);
 * --type container and -f TEMPLATE give docker's JSON of the container, as nsx container
 * inspect does, with docker's Go template.
 */

const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-inspect-ctr-') : undefined

test('nsx inspect NAME: the isolation report of its init; --type container and -f: docker\'s JSON and template, running or not', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  t.after(() => f.nsx(['rm', '-f', 'web', 'done']))
  assert.equal(f.nsx(['run', '-d', '--name', 'web', '-e', 'A=1', '--layer', f.base, '--', 'sleep', '1000']).status, 0)
  assert.equal(f.nsx(['run', '--name', 'done', '--layer', f.base, '--', 'sh', '-c', 'exit 3']).status, 3)
  const ps = (JSON.parse(f.nsx(['ps', '--json']).stdout) as {name: string; pid: number}[]).find((c) => c.name === 'web')!

  // The default is nsx's report (text and --json), about the init's namespaces.
  const report = f.nsx(['inspect', 'web'])
  assert.equal(report.status, 0, report.stderr)
  assert.match(report.stdout, /verdict\s+isolated: pid, net, mnt, uts, ipc/)
  const rj = JSON.parse(f.nsx(['inspect', '--json', 'web']).stdout) as {pid: number; namespaces: unknown}
  assert.equal(rj.pid, ps.pid)
  assert.ok(rj.namespaces, 'the report has the namespaces')
  assert.match(f.nsx(['inspect', '--type', 'process', 'web']).stdout, new RegExp(`^pid ${ps.pid} \\(nsx-init\\)`))

  // docker's: the pid is the init's, whose pid namespace is not ours.
  const pid = f.nsx(['inspect', '-f', '{{.State.Pid}}', 'web'])
  assert.deepEqual([pid.status, pid.stdout], [0, `${ps.pid}\n`])
  assert.notEqual(readlinkSync(`/proc/${ps.pid}/ns/pid`), readlinkSync('/proc/self/ns/pid'))
  const both = JSON.parse(f.nsx(['inspect', '--type', 'container', 'web', 'done']).stdout) as {Name: string; State: {Status: string; ExitCode: number}}[]
  assert.deepEqual(both.map((o) => [o.Name, o.State.Status, o.State.ExitCode]), [['/web', 'running', 0], ['/done', 'exited', 3]])
  const ci = JSON.parse(f.nsx(['container', 'inspect', 'web', 'done']).stdout) as unknown[]
  assert.deepEqual(both, ci, 'the same JSON as nsx container inspect')
  const line = f.nsx(['inspect', '-f', '{{.Name}} {{.State.Status}} {{.State.ExitCode}} {{json .Config.Cmd}}{{range .Config.Env}} {{.}}{{end}}', 'done', 'web'])
  assert.equal(line.stdout, `/done exited 3 ["sh","-c","exit 3"] PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=done HOME=/root\n/web running 0 ["sleep","1000"] PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=web A=1 HOME=/root\n`)
  assert.equal(f.nsx(['container', 'inspect', '-f', '{{.State.Status}}/{{.State.Running}}', 'done']).stdout, 'exited/false\n')

  // docker's errors: one line, exit 1.
  assertOneLineError(f.nsx(['inspect', '-f', '{{.State.Pid', 'web']), 1, /^nsx inspect: template parsing error: unclosed action$/)
  assertOneLineError(f.nsx(['container', 'inspect', '-f', '{{nope .X}}', 'web']), 1, /template parsing error: function "nope" not defined/)
  assertOneLineError(f.nsx(['inspect', '--type', 'image', 'web']), 1, /unknown --type "image"/)
  assertOneLineError(f.nsx(['inspect', '-f', '{{.State.Pid}}', 'ghost']), 1, /^nsx inspect: No such container: ghost$/)
  assertOneLineError(f.nsx(['inspect', 'web', 'done']), 1, /unexpected argument: done/)
  // A stopped container has no process to report on: nsx's view refuses it by name, docker's describes it.
  assert.equal(f.nsx(['inspect', 'done']).status, 1)
})
