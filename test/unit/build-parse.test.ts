import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseDockerfile} from '../../src/build/dockerfile.js'
import {expandVars} from '../../src/build/expand.js'
import {ContextSource, walkSource, resolveSources} from '../../src/build/context.js'
import {LayerView} from '../../src/image/layer-view.js'
import {applyConfigInstruction, ConfigTarget} from '../../src/build/config-instructions.js'
import {tempDir} from '../helpers/images.js'

test('Dockerfile parsing: stages, flags, JSON and shell forms, continuations, escape directive, global ARGs', () => {
  const df = parseDockerfile('# escape=`\nARG V=1\nFROM base:${V} AS one\nRUN echo a `\n  b\nCOPY --from=one --chown=1:2 ["a b", "/c/"]\nENV A=1 B="x y"\nFROM scratch\nCMD ["sh", "-c", "echo exec"]\n')
  assert.equal(df.escape, '`')
  assert.deepEqual(df.globalArgs, [{key: 'V', value: '1'}])
  assert.equal(df.stages.length, 2)
  assert.deepEqual([df.stages[0].name, df.stages[0].base, df.stages[0].line], ['one', 'base:${V}', 3])
  const [run, copy, env] = df.stages[0].instructions
  assert.equal(run.line, 4)
  assert.equal(run.rest.replace(/\s+/g, ' '), 'echo a b')
  assert.equal(run.json, undefined)
  assert.deepEqual([...copy.flags], [['from', 'one'], ['chown', '1:2']])
  assert.deepEqual(copy.json, ['a b', '/c/'])
  assert.deepEqual(env.pairs, [{key: 'A', value: '1'}, {key: 'B', value: 'x y'}])
  // The exec form keeps the spaces inside its strings (dockerfile-ast's own JSON helper does not).
  assert.deepEqual(df.stages[1].instructions[0].json, ['sh', '-c', 'echo exec'])
  assert.throws(() => parseDockerfile('RUN x\n'), /RUN before the first FROM/)
  assert.throws(() => parseDockerfile('FROM a AS x\nFROM b AS x\n'), /duplicate stage name/)
  assert.throws(() => parseDockerfile('# nothing\n'), /no FROM/)
})

test('variable expansion as docker does it', () => {
  const v = new Map([['A', 'one'], ['E', '']])
  assert.equal(expandVars('$A ${A} ${A:-x} ${B:-def} ${A:+alt} ${B:+alt} ${E:-empty} \\$A $B.', v), 'one one one def alt  empty $A .')
  assert.equal(expandVars('`$A', v, '`'), '$A')
  assert.throws(() => expandVars('${A', v), /missing '}'/)
})

test('COPY sources: wildcards per component, .dockerignore with exceptions, nothing outside the context', (t) => {
  const dir = tempDir(t, 'nsx-ctx-')
  mkdirSync(join(dir, 'app/sub'), {recursive: true})
  for (const f of ['app/a.txt', 'app/b.txt', 'app/c.md', 'app/sub/d.txt', 'x.log', 'keep.log', 'secret']) writeFileSync(join(dir, f), f)
  writeFileSync(join(dir, '.dockerignore'), 'secret\n*.log\n!keep.log\n')
  const ctx = new ContextSource(dir)
  const rel = (p: string) => resolveSources(ctx, p).map((n) => n.rel)
  assert.deepEqual(rel('app/*.txt'), ['app/a.txt', 'app/b.txt'])
  assert.deepEqual(rel('app/[ab].*'), ['app/a.txt', 'app/b.txt'])
  assert.deepEqual(rel('*/sub/?.txt'), ['app/sub/d.txt'])
  assert.deepEqual(rel('*.log'), ['keep.log'])
  assert.deepEqual(rel('secret'), [])
  assert.deepEqual(rel('../../etc/passwd'), [])
  assert.deepEqual(rel('/app/../app/c.md'), ['app/c.md'])
  // docker-py's test_build_with_dockerignore: an excluded directory keeps the one file re-included below it.
  mkdirSync(join(dir, 'ignored/subdir'), {recursive: true})
  writeFileSync(join(dir, 'ignored/subdir/file'), 'x')
  writeFileSync(join(dir, 'ignored/subdir/excepted-file'), 'x')
  writeFileSync(join(dir, '.dockerignore'), 'ignored\n!ignored/subdir/excepted-file\n')
  const ctx2 = new ContextSource(dir)
  const files: string[] = []
  for (const n of resolveSources(ctx2, '.')) walkSource(ctx2, n, (x) => void (x.st.isFile() && files.push(x.rel)))
  assert.ok(files.includes('ignored/subdir/excepted-file'), files.join(' '))
  assert.ok(!files.includes('ignored/subdir/file'))
})

test('the merged view of layers: upper copies win, symlinks resolved inside the root', (t) => {
  const dir = tempDir(t, 'nsx-view-')
  const l1 = join(dir, 'l1')
  const l2 = join(dir, 'l2')
  mkdirSync(join(l1, 'usr/bin'), {recursive: true})
  mkdirSync(join(l1, 'etc/old'), {recursive: true})
  writeFileSync(join(l1, 'usr/bin/tool'), 'v1')
  writeFileSync(join(l1, 'etc/old/a'), 'a')
  symlinkSync('usr/bin', join(l1, 'bin'))
  mkdirSync(join(l2, 'usr/bin'), {recursive: true})
  writeFileSync(join(l2, 'usr/bin/tool'), 'v2')
  const view = new LayerView([l1, l2])
  assert.equal(view.lookup('usr/bin/tool')?.abs, join(l2, 'usr/bin/tool'))
  assert.equal(view.resolve('bin/tool'), 'usr/bin/tool')
  assert.equal(view.resolve('/bin/../etc'), 'usr/etc') // .. after a symlink is the target's parent, as the kernel resolves it
  assert.equal(view.resolve('/../../etc/old'), 'etc/old')
  assert.deepEqual([...view.readdir('usr/bin').keys()], ['tool'])
  assert.equal(view.lookup('etc/old/a')?.abs, join(l1, 'etc/old/a'))
  assert.equal(view.lookup('nothing'), undefined)
})

test('config instructions: ENTRYPOINT drops the base CMD unless the stage set one; EXPOSE ranges; bad port refused', () => {
  const ins = (text: string) => parseDockerfile(`FROM scratch\n${text}\n`).stages[0].instructions[0]
  const t: ConfigTarget = {config: {Cmd: ['base']}, cmdSet: false}
  const x = (s: string) => s
  assert.equal(applyConfigInstruction(t, ins('ENTRYPOINT ["/e"]'), x, 'w'), 'ENTRYPOINT ["/e"]')
  assert.equal(t.config.Cmd, null)
  applyConfigInstruction(t, ins('CMD run'), x, 'w')
  assert.deepEqual(t.config.Cmd, ['/bin/sh', '-c', 'run'])
  applyConfigInstruction(t, ins('ENTRYPOINT ["/f"]'), x, 'w')
  assert.deepEqual(t.config.Cmd, ['/bin/sh', '-c', 'run'])
  applyConfigInstruction(t, ins('EXPOSE 80 8000-8001/udp'), x, 'w')
  assert.deepEqual(Object.keys(t.config.ExposedPorts!), ['80/tcp', '8000/udp', '8001/udp'])
  assert.throws(() => applyConfigInstruction(t, ins('EXPOSE http'), x, 'w'), /invalid port 'http'/)
  applyConfigInstruction(t, ins('MAINTAINER me@example.com'), x, 'w')
  assert.equal(t.author, 'me@example.com')
  assert.equal(t.config.Labels?.maintainer, 'me@example.com')
})
