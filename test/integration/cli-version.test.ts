import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {REPO, nsx} from '../helpers/env.js'

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {version: string}).version
/** Every command, as oclif finds them (one file per command under commands/). */
const COMMANDS = readdirSync(join(REPO, 'commands'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3).replace(/\//g, ':'))

test('-V and --version on every command print "nsx COMMAND VERSION" and exit 0, as util-linux tools do, even where an argument is required', () => {
  assert.ok(COMMANDS.length >= 10, COMMANDS.join(' '))
  for (const cmd of COMMANDS) {
    for (const flag of ['-V', '--version']) {
      const r = nsx([cmd, flag], {env: {...process.env, NSX_ROOT: '/nonexistent/nsx-version-test'}})
      assert.deepEqual({status: r.status, stdout: r.stdout, stderr: r.stderr}, {status: 0, stdout: `nsx ${cmd} ${VERSION}\n`, stderr: ''}, `nsx ${cmd} ${flag}`)
    }
  }
})

test('-V among the other options of ls, pstree and top; after -- or in the command enter runs it is not nsx\'s', () => {
  assert.equal(nsx(['ls', '-l', '-t', 'net', '-V']).stdout, `nsx ls ${VERSION}\n`)
  assert.equal(nsx(['pstree', '-V', '1']).stdout, `nsx pstree ${VERSION}\n`)
  assert.equal(nsx(['top', '-b', '-V']).stdout, `nsx top ${VERSION}\n`)
  // unshare's command gets its own -V: here `sh -c 'echo $0' -V` prints -V.
  const r = nsx(['unshare', 'sh', '-c', 'echo "$0"', '-V'])
  if (r.status === 0) assert.equal(r.stdout, '-V\n')
})
