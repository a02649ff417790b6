import {test} from 'node:test'
import assert from 'node:assert/strict'
import {applyChange, ContainerConfig} from '../../src/image/config-changes.js'
import {checkReference} from '../../src/store/import-rootfs.js'
import {NsxError} from '../../src/cli/errors.js'

test("nsx import -c: docker import's instructions, exec and shell forms", () => {
  const c: ContainerConfig = {}
  for (const ch of ['CMD ["/bin/bash", "-l"]', 'ENTRYPOINT tini --', 'ENV A=1 B="two words"', 'ENV A 3', 'LABEL org.x=y', 'EXPOSE 80 53/udp', 'USER app:app', 'WORKDIR /srv', 'VOLUME /data', 'ONBUILD RUN true'])
    applyChange(c, ch)
  assert.deepEqual(c, {
    Cmd: ['/bin/bash', '-l'],
    Entrypoint: ['/bin/sh', '-c', 'tini --'],
    Env: ['A=3', 'B=two words'],
    Labels: {'org.x': 'y'},
    ExposedPorts: {'80/tcp': {}, '53/udp': {}},
    User: 'app:app',
    WorkingDir: '/srv',
    Volumes: {'/data': {}},
    OnBuild: ['RUN true'],
  })
  for (const bad of ['FROM scratch', 'CMD', 'CMD [1, 2]', 'WORKDIR srv', 'EXPOSE http', 'ENV =x']) assert.throws(() => applyChange({}, bad), NsxError, bad)
})

test("image references as docker reads them: lower-case components, an optional registry and tag", () => {
  assert.equal(checkReference('debian'), 'debian:latest')
  assert.equal(checkReference('debian:bookworm'), 'debian:bookworm')
  assert.equal(checkReference('localhost:5000/my/app:1.0'), 'localhost:5000/my/app:1.0')
  for (const bad of ['Debian', 'a b', 'x:', 'x:-y', '/x', 'x//y']) assert.throws(() => checkReference(bad), NsxError, bad)
})
