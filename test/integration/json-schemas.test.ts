import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {createInterface} from 'node:readline'
import {join} from 'node:path'
import Ajv, {ValidateFunction} from 'ajv'
import {SCHEMAS} from '../../src/doc/schemas.js'
import {buildBusyboxArchive} from '../helpers/busybox-image.js'
import {needContainerTools} from '../helpers/container.js'
import {needCommand, needRoot, nsx, REPO} from '../helpers/env.js'
import {needRegistry, startRegistry} from '../helpers/registry.js'

/**
 * The real --json output of every command validates against its schema in docs/schemas/
 * (src/doc/schemas.ts says which schema is whose). One store, one image, one running
 * container, a registry on loopback for pull and push; everything removed afterwards.
 */

const ajv = new Ajv({allErrors: true, strict: false})
const validators = new Map<string, ValidateFunction>()
for (const s of SCHEMAS) {
  const v = ajv.compile(JSON.parse(readFileSync(join(REPO, 'docs', 'schemas', s.file), 'utf8')) as object)
  // A command's words before its flags name it; a second schema for the same command (nsx audit --watch's lines) goes by the whole line.
  for (const c of s.commands) {
    const word = c.split(' ')[0]
    validators.set(validators.has(word) && validators.get(word) !== v ? c : word, v)
  }
}
const checked = new Set<string>()

function validate(command: string, doc: unknown): void {
  const v = validators.get(command)
  assert.ok(v, `no schema for nsx ${command}`)
  if (!v(doc)) {
    const errors = (v.errors ?? []).slice(0, 10).map((e) => `  ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    assert.fail(`nsx ${command} --json does not match its schema (if the output type changed: npm run schemas):\n${errors.join('\n')}`)
  }
  checked.add(command)
}

test('the --json output of every command matches its schema', async (t) => {
  if (!needRoot(t) || !needContainerTools(t) || !needCommand(t, 'umoci', 'umoci') || !needCommand(t, 'skopeo', 'skopeo') || !needRegistry(t)) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-schemas-'))
  const env = {...process.env, NSX_ROOT: join(dir, 'store'), XDG_CONFIG_HOME: join(dir, 'config'), REGISTRY_AUTH_FILE: join(dir, 'auth.json')}
  const run = (args: string[]) => {
    const r = nsx(args, {env, cwd: dir, timeout: 120000})
    assert.equal(r.status, 0, `nsx ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  const json = (command: string, args: string[]) => validate(command, JSON.parse(run([command, ...args])))
  t.after(() => {
    const ps = nsx(['ps', '--json'], {env})
    const running = ps.status === 0 ? (JSON.parse(ps.stdout) as {name: string}[]).map((c) => c.name) : []
    if (running.length > 0) nsx(['stop', '-t', '0', ...running], {env})
    nsx(['gc'], {env})
    nsx(['group', 'rm', '-f', 'schema-g'], {env})
    rmSync(dir, {recursive: true, force: true})
  })
  const archive = buildBusyboxArchive(dir)
  const image = 'docker.io/library/busybox:latest'

  json('load', [archive, '--json'])
  json('images', ['--json', '--layers'])
  json('history', [image, '--json'])
  json('tag', [image, 'schema-test:1', '--json'])
  json('rmi', ['schema-test:1', '--json'])
  json('save', [image, '-o', join(dir, 'saved.tar'), '--json'])
  // A root filesystem tar (one file is enough) made into an image.
  mkdirSync(join(dir, 'rootfs', 'etc'), {recursive: true})
  writeFileSync(join(dir, 'rootfs', 'etc', 'motd'), 'imported\n')
  assert.equal(spawnSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']).status, 0)
  json('import', [join(dir, 'rootfs.tar'), 'schema-imported:1', '--json'])

  mkdirSync(join(dir, 'ctx'))
  writeFileSync(join(dir, 'ctx', 'Dockerfile'), `FROM ${image}\nRUN echo built > /built\n`)
  json('build', ['-t', 'schema-built:1', '--json', join(dir, 'ctx')])

  const reg = await startRegistry(t)
  run(['tag', image, `${reg.host}/schema/bb:1`])
  json('push', [`${reg.host}/schema/bb:1`, '--json'])
  run(['rmi', `${reg.host}/schema/bb:1`])
  json('pull', [`${reg.host}/schema/bb:1`, '--json'])

  for (const cmd of ['run', 'create', 'enter', 'unshare', 'exec', 'debug']) assert.ok(validators.has(cmd))
  validate('run', JSON.parse(run(['run', '--dry-run', '--json', '--image', image, '--', 'true'])))
  validate('create', JSON.parse(run(['create', '--dry-run', '--json', image, 'true'])))
  validate('unshare', JSON.parse(run(['unshare', '--dry-run', '--json', '--uts', 'true'])))

  run(['run', '-d', '--name', 'schema-web', '--image', image, '-v', 'schema-vol:/data', '--', 'sleep', '1000'])
  json('volume', ['ls', '--json'])
  const ps = JSON.parse(run(['ps', '--json'])) as {pid: number}[]
  validate('ps', ps)
  const pid = String(ps[0].pid)
  validate('enter', JSON.parse(run(['enter', '--dry-run', '--json', 'schema-web'])))
  validate('exec', JSON.parse(run(['exec', '--dry-run', '--json', 'schema-web', 'true'])))
  validate('debug', JSON.parse(run(['debug', '--dry-run', '--json', 'schema-web', 'true'])))
  json('ls', ['--json'])
  json('pstree', [pid, '--json'])
  json('inspect', [pid, '--json'])
  // Different (exit 1): every kind of difference the container has from nsx itself.
  const diff = nsx(['diff', '--json', String(process.pid), pid], {env})
  assert.equal(diff.status, 1, diff.stderr)
  validate('diff', JSON.parse(diff.stdout))
  json('uidmap', [pid, '--json', '--uid', '0'])
  for (const line of run(['top', '--json', '-n', '2', '-d', '0.2']).trim().split('\n')) validate('top', JSON.parse(line))
  const audited = run(['audit', 'schema-web', '--format', 'json'])
  validate('audit', JSON.parse(audited))
  writeFileSync(join(dir, 'audit.json'), audited)
  validate('audit merge --format json', JSON.parse(run(['audit', 'merge', '--format', 'json', join(dir, 'audit.json'), join(dir, 'audit.json')])))
  validate('audit --watch --format json', await firstLine(['audit', '--watch', '--format', 'json', 'schema-web'], env))
  json('pause', ['schema-web', '--json'])
  json('unpause', ['schema-web', '--json'])
  json('update', ['-m', '64m', '--pids-limit', '100', 'schema-web', '--json'])
  validate('container', JSON.parse(run(['container', 'diff', '--json', 'schema-web'])))
  validate('diff CONTAINER', JSON.parse(run(['diff', '--json', 'schema-web'])))
  json('commit', ['schema-web', 'schema-committed:1', '--json'])
  run(['group', 'create', 'schema-g', '--memory', '10%', '--cpu-shares', '512'])
  json('group', ['ls', '--json'])
  run(['group', 'rm', 'schema-g'])
  json('stop', ['-t', '1', 'schema-web', '--json'])
  json('gc', ['--dry-run', '--json'])
  validate('system', JSON.parse(run(['system', 'df', '--json'])))
  run(['rm', '-f', 'schema-web'])
  run(['volume', 'rm', 'schema-vol'])
  validate('system prune', JSON.parse(run(['system', 'prune', '-f', '--json'])))

  const unchecked = [...validators.keys()].filter((c) => !checked.has(c))
  assert.deepEqual(unchecked, [], 'schemas no real output was checked against')
})

/** The first line a long-running nsx command prints (then it is stopped with SIGTERM, as a user's ^C would). */
async function firstLine(args: string[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'nsx'), ...args], {env, stdio: ['ignore', 'pipe', 'inherit']})
  try {
    const [line] = (await once(createInterface({input: child.stdout!}), 'line')) as [string]
    return JSON.parse(line)
  } finally {
    child.kill('SIGTERM')
    if (child.exitCode === null) await once(child, 'exit')
  }
}
