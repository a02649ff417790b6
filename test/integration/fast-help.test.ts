import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {nsx, REPO, run} from '../helpers/env.js'

/**
 * `nsx CMD --help` prints the same through bin/nsx (whose fast path hands --help over to
 * oclif) as through oclif alone, for every fast-path command (docs/architecture.md, "The
 * fast path"). Needs the build (dist/, oclif.manifest.json), not root.
 */

const fastCommands = [...readFileSync(join(REPO, 'bin', 'nsx'), 'utf8').matchAll(/^\s*([\w-]+): \['[^']+\.cjs'/gm)].map((m) => m[1])

/** oclif alone, as a plain oclif CLI would run: no fast path in between. */
function oclifOnly(args: string[]) {
  const script = `import('@oclif/core').then(async ({run, flush}) => { await run(${JSON.stringify(args)}, {root: ${JSON.stringify(join(REPO, 'package.json'))}, userPlugins: false}); await flush() })`
  return run(process.execPath, ['-e', script], {cwd: REPO, env: {...process.env, NO_COLOR: '1', COLUMNS: '100'}})
}

test('bin/nsx has fast-path commands', () => {
  assert.ok(fastCommands.length >= 8, `found ${fastCommands.join(', ')}`)
})

for (const command of fastCommands) {
  test(`nsx ${command} --help: the same on the fast path and through oclif`, () => {
    const fast = nsx([command, '--help'], {env: {...process.env, COLUMNS: '100'}})
    const oclif = oclifOnly([command, '--help'])
    assert.equal(fast.status, 0, fast.stderr)
    assert.equal(oclif.status, 0, oclif.stderr)
    assert.match(fast.stdout, new RegExp(`\\$ nsx ${command}\\b`), 'the help names its command in USAGE')
    assert.equal(fast.stdout, oclif.stdout)
    assert.equal(fast.stderr, '')
  })
}
