import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {assertOneLineError, needCommand} from '../helpers/env.js'
import {containerToolsPresent, Fixture, makeFixture, needContainerTools} from '../helpers/container.js'
import {buildBusyboxOci, toDockerArchive} from '../helpers/images.js'

// One fixture and one OCI image (umoci, from busybox-static and the probe) for the file.
const fx: Fixture | undefined = containerToolsPresent() ? makeFixture(after, 'nsx-run-img-') : undefined
let oci: string | undefined
function image(t: Parameters<typeof needCommand>[0]): string | undefined {
  if (!needContainerTools(t) || !needCommand(t, 'umoci', 'umoci')) return undefined
  oci ??= buildBusyboxOci(join(fx!.dir, 'img'), {extraFiles: {'bin/probe': fx!.probe}})
  return oci
}

test("--image: the config's Cmd, Env, WorkingDir and User are the defaults; its whiteouts hide lower files", (t) => {
  const img = image(t)
  if (!img) return
  const f = fx!
  // Cmd is /bin/sh: with -i it reads the script from stdin.
  const r = f.nsx(['run', '-i', '--name', 'imgh', '--image', `${img}:latest`], {input: 'echo "FOO=$FOO"; pwd; id -u; cat /etc/motd 2>&1; ls /etc/old; cat /etc/hostname; exit 3\n'})
  assert.equal(r.status, 3, r.stderr)
  // The image's /etc/hostname ('probe') is covered by the container's own, as docker does.
  assert.deepEqual(r.stdout.trim().split('\n'), ['FOO=bar', '/etc', '0', "cat: can't open '/etc/motd': No such file or directory", 'c', 'imgh'])
})

test('without -i stdin is /dev/null, so the default shell exits at once', (t) => {
  const img = image(t)
  if (!img) return
  const r = fx!.nsx(['run', '--image', `${img}:latest`], {input: 'exit 3\n'})
  assert.equal(r.status, 0, r.stderr)
})

test('the image is stored once; a second run by name reuses it; a docker archive works the same', (t) => {
  const img = image(t)
  if (!img || !needCommand(t, 'skopeo', 'skopeo')) return
  const f = fx!
  assert.equal(f.nsx(['run', '--image', `${img}:latest`, '--', 'probe', 'exit', '0']).status, 0)
  const stored = JSON.parse(f.nsx(['images', '--json']).stdout) as {images: unknown[]}
  assert.equal(stored.images.length, 1)
  const archive = toDockerArchive(img, 'latest', join(f.dir, 'bb.tar'), 'bb:1')
  const r = f.nsx(['run', '--image', archive, '--', 'sh', '-c', 'echo $FOO; pwd'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'bar\n/etc\n')
  const byName = f.nsx(['run', '--image', 'docker.io/library/bb:1', '--', 'probe', 'exit', '4'])
  assert.equal(byName.status, 4, byName.stderr)
  assertOneLineError(f.nsx(['run', '--image', 'nosuch:tag', '--', 'probe']), 125, /no such image: nosuch:tag \(stored: .*docker.io\/library\/bb:1/)
})

test('-e, --env-file, -w, -u, --entrypoint, and a --layer stacked above the image', (t) => {
  const img = image(t)
  if (!img) return
  const f = fx!
  const envFile = join(f.dir, 'env.list')
  writeFileSync(envFile, '# comment\nFROM_FILE=1\nFOO=from-file\n\nHOST_ONLY\n')
  const extra = join(f.dir, 'extra-layer')
  mkdirSync(join(extra, 'etc'), {recursive: true})
  writeFileSync(join(extra, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n')
  writeFileSync(join(extra, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n')
  const r = f.nsx(
    ['run', '--image', `${img}:latest`, '--layer', extra, '--env-file', envFile, '-e', 'FOO=from-flag', '-e', 'HOST_ONLY', '-e', 'UNSET_ON_HOST', '-w', '/work/dir', '-u', 'app', '--', 'sh', '-c', 'echo $FOO $FROM_FILE $HOST_ONLY ${UNSET_ON_HOST-unset} $HOME; pwd; id'],
    {env: {HOST_ONLY: 'h'}},
  )
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n'), ['from-flag 1 h unset /home/app', '/work/dir', 'uid=1000(app) gid=1000(app) groups=2000(extra)'])
  const e = f.nsx(['run', '--image', `${img}:latest`, '--entrypoint', 'probe', '--', 'exit', '9'])
  assert.equal(e.status, 9, e.stderr)
  const numeric = f.nsx(['run', '--image', `${img}:latest`, '-u', '4321:77', '--', 'sh', '-c', 'id'])
  assert.equal(numeric.stdout.trim(), 'uid=4321 gid=77', numeric.stderr)
  assertOneLineError(f.nsx(['run', '--image', `${img}:latest`, '-u', 'nobody-here', '--', 'id']), 125, /unable to find user nobody-here/)
})

test('-v binds a host directory, read-write or :ro; writes through it reach the host', (t) => {
  if (!needContainerTools(t)) return
  const f = fx!
  const vol = join(f.dir, 'vol')
  mkdirSync(vol)
  writeFileSync(join(vol, 'in'), 'host\n')
  const file = join(f.dir, 'single-file')
  writeFileSync(file, 'one file\n')
  const r = f.nsx(['run', '--layer', f.base, '-v', `${vol}:/data`, '-v', `${vol}:/ro:ro`, '-v', `${file}:/etc/one`, '--', 'sh', '-c', 'cat /data/in; echo out > /data/out; touch /ro/x 2>&1; cat /etc/one'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^host\n.*Read-only file system\none file\n$/s)
  assert.equal(readFileSync(join(vol, 'out'), 'utf8'), 'out\n')
})
