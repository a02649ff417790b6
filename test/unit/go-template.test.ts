import {test} from 'node:test'
import assert from 'node:assert/strict'
import {executeTemplate, parseTemplate, TemplateError} from '../../src/render/go-template.js'

const data = {
  Name: '/web',
  State: {Pid: 42, Running: true, Status: 'running', ExitCode: 0},
  Config: {Env: ['A=1', 'B=2'], Cmd: ['sleep', '9'], Labels: {tier: 'front', 'com.x': 'y'}, Tty: false},
  Mounts: [{Source: '/a', Destination: '/x'}, {Source: '/b', Destination: '/y'}],
  Empty: [],
  Nil: null,
}
const run = (t: string) => executeTemplate(parseTemplate(t), data)

test("docker's --format: fields, json, index, len, join, upper/lower, pipes, as Go prints them", () => {
  assert.equal(run('{{.State.Pid}}'), '42')
  assert.equal(run('{{.Name}} {{.State.Status}}'), '/web running')
  assert.equal(run('{{json .State}}'), '{"Pid":42,"Running":true,"Status":"running","ExitCode":0}')
  assert.equal(run('{{.State | json}}'), '{"Pid":42,"Running":true,"Status":"running","ExitCode":0}')
  assert.equal(run('{{.Config.Env}}'), '[A=1 B=2]')
  assert.equal(run('{{.Config.Labels}}'), 'map[com.x:y tier:front]')
  assert.equal(run('{{index .Config.Labels "com.x"}} {{index .Config.Cmd 1}}'), 'y 9')
  assert.equal(run('{{len .Mounts}} {{join .Config.Cmd ","}} {{upper .State.Status}} {{lower "AB"}}'), '2 sleep,9 RUNNING ab')
  assert.equal(run('{{.Missing}} {{.State.Missing.Deeper}} {{.Nil}}'), '<no value> <no value> <nil>')
  assert.equal(run('{{.Config.Tty}} {{.State.Running}}'), 'false true')
  assert.equal(run('{{println .Name}}'), '/web\n')
  assert.equal(run('{{json (index .Mounts 0)}}'), '{"Source":"/a","Destination":"/x"}')
})

test('range, if/else, with, trim markers', () => {
  assert.equal(run('{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}'), '/a:/x /b:/y ')
  assert.equal(run('{{range .Empty}}x{{else}}none{{end}}'), 'none')
  assert.equal(run('{{if .State.Running}}up{{else}}down{{end}} {{if .Empty}}a{{else}}b{{end}}'), 'up b')
  assert.equal(run('{{with .State}}{{.Pid}}{{end}}{{with .Missing}}never{{end}}'), '42')
  assert.equal(run('a  {{- .State.Pid -}}  b'), 'a42b')
  assert.equal(run('{{range .Config.Env -}}\n  {{.}};\n{{- end}}'), 'A=1;B=2;')
})

test('bad templates are refused with a message, not a stack', () => {
  for (const [t, msg] of [
    ['{{.State.Pid', /unclosed action/],
    ['{{nosuch .X}}', /function "nosuch" not defined/],
    ['{{range .Mounts}}', /without \{\{end\}\}/],
    ['{{end}}', /unexpected \{\{end\}\}/],
    ['{{.A | }}', /missing value/],
    ['{{.A .B}}', /non-function/],
  ] as const) {
    assert.throws(() => run(t), (e: unknown) => e instanceof TemplateError && msg.test(e.message), t)
  }
})
