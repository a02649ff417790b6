import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {NSX_BIN, needCommand, needRoot, run} from '../helpers/env.js'

test('oclif commands run by a user whose HOME is unreadable print nothing on stderr (oclif looked there for user plugins)', (t) => {
  if (!needRoot(t) || !needCommand(t, 'setpriv', 'util-linux')) return
  const work = mkdtempSync(join(tmpdir(), 'nsx-home-'))
  t.after(() => rmSync(work, {recursive: true, force: true}))
  chmodSync(work, 0o755)
  // A HOME only root may enter, as /root is to nobody; the store is elsewhere (NSX_ROOT), empty.
  const home = join(work, 'home')
  mkdirSync(join(home, '.local', 'share', 'nsx'), {recursive: true, mode: 0o700})
  chmodSync(home, 0o700)
  const env: NodeJS.ProcessEnv = {PATH: process.env.PATH, HOME: home, NO_COLOR: '1', NSX_ROOT: join(work, 'store')}
  for (const args of [['images'], ['images', '--json'], ['--version'], ['uidmap', '--help']]) {
    const r = run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, NSX_BIN, ...args], {env})
    assert.equal(r.stderr, '', `nsx ${args.join(' ')}`)
    assert.equal(r.status, 0, `nsx ${args.join(' ')}`)
    assert.notEqual(r.stdout, '', `nsx ${args.join(' ')}`)
  }
})
