import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {needCommand, nsx, run} from '../helpers/env.js'

/**
 * nsx completion bash|zsh|fish: the scripts are generated from the command definitions, and
 * each shell loads its own; bash's is driven as bash-completion drives it (COMP_WORDS,
 * COMP_CWORD, then the function), zsh's and fish's are checked by the shells' parsers and,
 * for fish, by asking its completion engine.
 */

function script(shell: string): string {
  const r = nsx(['completion', shell])
  assert.equal(r.status, 0, r.stderr)
  return r.stdout
}

/** What the bash function offers for the words typed so far (the last one being completed). */
function bashComplete(file: string, words: string[]): string[] {
  const assign = `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}`
  const r = run('bash', ['-c', `source '${file}'; ${assign}; _nsx; printf '%s\\n' "\${COMPREPLY[@]}"`])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  return r.stdout.split('\n').filter((l) => l !== '')
}

test('bash: completes command names, flags, and the values of a flag with a fixed list', (t) => {
  if (!needCommand(t, 'bash', 'bash')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-completion-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const file = join(dir, 'nsx.bash')
  writeFileSync(file, script('bash'))
  assert.deepEqual(bashComplete(file, ['nsx', 'pst']), ['pstree'])
  assert.deepEqual(bashComplete(file, ['nsx', 'un']).sort(), ['unpause', 'unshare'])
  assert.ok(bashComplete(file, ['nsx', '']).includes('completion'), 'every command, completion itself included')
  assert.deepEqual(bashComplete(file, ['nsx', 'enter', '--mount-p']), ['--mount-proc'])
  assert.deepEqual(bashComplete(file, ['nsx', 'top', '--s']), ['--sort'])
  assert.ok(bashComplete(file, ['nsx', 'ls', '-']).includes('--help'))
  assert.deepEqual(bashComplete(file, ['nsx', 'top', '--sort', 'm']), ['memory'])
  assert.deepEqual(bashComplete(file, ['nsx', 'completion', '--v']), ['--version'])
})

test('zsh: the script parses', (t) => {
  if (!needCommand(t, 'zsh', 'zsh')) return
  const r = run('zsh', ['-n', '-c', script('zsh')])
  assert.equal(r.status, 0, r.stderr)
})

test('fish: the script loads, and fish completes a command and a flag from it', (t) => {
  if (!needCommand(t, 'fish', 'fish')) return
  const dir = mkdtempSync(join(tmpdir(), 'nsx-completion-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  const file = join(dir, 'nsx.fish')
  writeFileSync(file, script('fish'))
  const env = {...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir}
  const r = run('fish', ['--no-config', '-c', `source '${file}'; complete -C 'nsx pst'; complete -C 'nsx top --so'`], {env})
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^pstree\t/m)
  assert.match(r.stdout, /^--sort\t/m)
})

test('an unknown shell is one line and exit 1', () => {
  const r = nsx(['completion', 'tcsh'])
  assert.equal(r.status, 1)
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.match(r.stderr, /tcsh/)
})
