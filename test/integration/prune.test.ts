import {test, after, before} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {api, dockerCliFixture, swaggerCall} from '../helpers/api.js'

/**
 * docker's prune filters (until, label, label!, dangling) on every area, through both doors: nsx's
 * prune verbs and the Engine API's prune endpoints (the docker CLI, and calls checked against moby's
 * swagger 1.41), with docker's errors for a bad filter; and the build cache's last use and usage
 * count, shown by nsx system df -v and GET /system/df and used by nsx builder prune.
 */

const {h, skip, dk} = dockerCliFixture({after, before}, 'nsx-prune-')
let caller: ReturnType<typeof swaggerCall> | undefined
const call = async (...a: Parameters<Awaited<ReturnType<typeof swaggerCall>>>) => (await (caller ??= swaggerCall(h.svc!.socket)))(...a)

const q = (filters: object) => `filters=${encodeURIComponent(JSON.stringify(filters))}`
const nsxOk = (args: string[]) => {
  const r = h.fx!.nsx(args, {timeout: 120000})
  assert.equal(r.status, 0, `nsx ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}
const ids = (names: string[]) => names.map((n) => JSON.parse(nsxOk(['container', 'inspect', n]))[0].Id as string)
const names = () => (JSON.parse(nsxOk(['ps', '-a', '--json'])) as {name: string}[]).map((c) => c.name).sort()

/** A context dir with this Dockerfile. */
function context(name: string, dockerfile: string): string {
  const dir = join(h.fx!.dir, 'ctx', name)
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'Dockerfile'), dockerfile)
  return dir
}

test('container prune: until and label filters through nsx, the docker CLI and the API; docker\'s errors for a bad filter, nothing removed', async (t) => {
  if (skip(t)) return
  t.after(() => h.fx!.nsx(['rm', '-f', 'p-ci', 'p-keep', 'p-bare', 'p-api']))
  for (const [n, l] of [['p-ci', 'stage=ci'], ['p-keep', 'stage=keep'], ['p-bare', '']] as const) nsxOk(['create', '--name', n, '--network', 'none', ...(l ? ['--label', l] : []), 'busybox', 'true'])
  // A bad filter: docker's message and exit code (1: the daemon's answer; 125: the CLI's own flag parse), from both CLIs, and nothing goes.
  const bad = h.fx!.nsx(['container', 'prune', '-f', '--filter', 'dangling=true'])
  assert.deepEqual([bad.status, bad.stderr], [1, "nsx container prune: Invalid filter 'dangling'\n"])
  const dbad = dk(['container', 'prune', '-f', '--filter', 'dangling=true'])
  assert.deepEqual([dbad.status, dbad.stderr], [1, "Error response from daemon: Invalid filter 'dangling'\n"])
  const noEq = h.fx!.nsx(['container', 'prune', '-f', '--filter', 'until'])
  assert.equal(noEq.status, 125, noEq.stderr)
  assert.match(noEq.stderr, /bad format of filter \(expected name=value\)/)
  assert.equal(dk(['container', 'prune', '-f', '--filter', 'until']).status, 125)
  const badTime = h.fx!.nsx(['container', 'prune', '-f', '--filter', 'until=yesterday'])
  assert.deepEqual([badTime.status, badTime.stderr], [1, 'nsx container prune: failed to parse value as time or duration: "yesterday"\n'])
  const r400 = await api(h.svc!.socket, 'POST', `/v1.41/containers/prune?${q({until: ['1h', '2h']})}`)
  assert.deepEqual([r400.status, JSON.parse(r400.body)], [400, {message: 'more than one until filter specified'}])
  assert.deepEqual(names(), ['p-bare', 'p-ci', 'p-keep'])
  // until: created at or before the time. An hour ago: none of them; a minute ahead: all but the labels' choice below.
  assert.equal(nsxOk(['container', 'prune', '-f', '--filter', 'until=1h']), 'Total reclaimed space: 0B\n')
  const [ci, keep] = ids(['p-ci', 'p-keep'])
  // label= on nsx's door; label!= through the docker CLI; both with until in the future (RFC 3339, Unix seconds).
  const ahead = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z')
  assert.equal(nsxOk(['container', 'prune', '-f', '--filter', 'label=stage=ci', '--filter', `until=${ahead}`]), `Deleted Containers:\n${ci}\n\nTotal reclaimed space: 0B\n`)
  const d = dk(['container', 'prune', '-f', '--filter', 'label!=stage', '--filter', `until=${Math.ceil(Date.now() / 1000) + 60}`])
  assert.equal(d.status, 0, d.stderr)
  assert.match(d.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: /)
  assert.deepEqual(names(), ['p-keep'])
  // The API: label=KEY=VALUE, the answer as the swagger defines it.
  nsxOk(['create', '--name', 'p-api', '--network', 'none', '--label', 'stage=keep', 'busybox', 'true'])
  const [apiId] = ids(['p-api'])
  // until a minute ahead, not 0s (now): a time of whole seconds can fall before a container made within that second.
  const r = await call('POST', `/containers/prune?${q({label: ['stage=keep'], until: [ahead]})}`, '/containers/prune') as {ContainersDeleted: string[]}
  assert.deepEqual(r.ContainersDeleted.sort(), [keep, apiId].sort())
})

test('image prune: dangling, until and label through nsx image prune, the docker CLI and the API: one domain function, docker\'s answer', async (t) => {
  if (skip(t)) return
  t.after(() => {
    h.fx!.nsx(['rmi', '-f', 'pi-ci:1', 'pi-keep:1'])
    h.fx!.nsx(['rm', '-f', 'pi-user'])
  })
  nsxOk(['build', '-t', 'pi-ci:1', context('pi-ci', 'FROM busybox\nLABEL stage=ci\nRUN echo ci > /ci\n')])
  nsxOk(['build', '-t', 'pi-keep:1', context('pi-keep', 'FROM busybox\nLABEL stage=keep\nRUN echo keep > /keep\n')])
  // A dangling image: built without a name.
  nsxOk(['build', context('pi-dangling', 'FROM busybox\nRUN echo dangling > /d\n')])
  const images = () => JSON.parse(nsxOk(['images', '--json'])) as {images: {id: string; names: string[]}[]}
  const dangling = images().images.filter((i) => i.names.length === 0).map((i) => i.id)
  assert.equal(dangling.length, 1, JSON.stringify(images()))
  // Bad filters: docker's words, 400 through the API, exit 1 from both CLIs; nothing goes.
  const bad = await api(h.svc!.socket, 'POST', `/v1.41/images/prune?${q({dangling: ['maybe']})}`)
  assert.deepEqual([bad.status, JSON.parse(bad.body)], [400, {message: "Invalid filter 'dangling=[maybe]'"}])
  const badKey = await api(h.svc!.socket, 'POST', `/v1.41/images/prune?${q({reference: ['x']})}`)
  assert.deepEqual([badKey.status, JSON.parse(badKey.body)], [400, {message: "Invalid filter 'reference'"}])
  const dbad = dk(['image', 'prune', '-f', '--filter', 'until=soon'])
  assert.deepEqual([dbad.status, dbad.stderr], [1, 'Error response from daemon: failed to parse value as time or duration: "soon"\n'])
  assert.equal(images().images.length, 4)
  // nsx image prune: the dangling one, with docker's lines; until an hour ago keeps it.
  assert.equal(nsxOk(['image', 'prune', '-f', '--filter', 'until=1h']), 'Total reclaimed space: 0B\n')
  const p = nsxOk(['image', 'prune', '-f'])
  assert.match(p, new RegExp(`^Deleted Images:\ndeleted: ${dangling[0]}\n(deleted: sha256:[0-9a-f]{64}\n)+\nTotal reclaimed space: \\d`))
  // -a with label!=: every unused image but those labelled stage=ci (busybox, pi-keep; a container's image stays).
  nsxOk(['create', '--name', 'pi-user', '--network', 'none', 'pi-keep:1', 'true'])
  const all = await call('POST', `/images/prune?${q({dangling: ['false'], 'label!': ['stage=ci'], label: ['stage']})}`, '/images/prune') as {ImagesDeleted: {Untagged?: string; Deleted?: string}[]}
  assert.deepEqual(all.ImagesDeleted, [], 'pi-keep is used by a container, busybox has no stage label, pi-ci is excluded')
  // The docker CLI's -a (dangling=false) with label=: pi-ci goes, untagged then deleted.
  const d = dk(['image', 'prune', '-a', '-f', '--filter', 'label=stage=ci'])
  assert.equal(d.status, 0, d.stderr)
  assert.match(d.stdout, /^Deleted Images:\nuntagged: pi-ci:1\ndeleted: sha256:[0-9a-f]{64}\n/)
  assert.deepEqual(images().images.flatMap((i) => i.names).sort(), ['docker.io/library/busybox:latest', 'pi-keep:1'])
})

test('network and volume prune: until and label through nsx and the API; volumes take no until, as docker 20.10', async (t) => {
  if (skip(t)) return
  t.after(() => {
    for (const n of ['pn-ci', 'pn-keep']) h.fx!.nsx(['network', 'rm', n])
    for (const v of ['pv-ci', 'pv-keep']) h.fx!.nsx(['volume', 'rm', v])
  })
  nsxOk(['network', 'create', '--label', 'stage=ci', 'pn-ci'])
  nsxOk(['network', 'create', '--label', 'stage=keep', 'pn-keep'])
  nsxOk(['volume', 'create', '--label', 'stage=ci', 'pv-ci'])
  nsxOk(['volume', 'create', '--label', 'stage=keep', 'pv-keep'])
  assert.equal(nsxOk(['network', 'prune', '-f', '--filter', 'until=1h']), '')
  assert.equal(nsxOk(['network', 'prune', '-f', '--filter', 'label=stage=ci']), 'Deleted Networks:\npn-ci\n\n')
  const n = await call('POST', `/networks/prune?${q({label: ['stage=keep'], until: [String(Math.ceil(Date.now() / 1000) + 60)]})}`, '/networks/prune') as {NetworksDeleted: string[]}
  assert.deepEqual(n.NetworksDeleted, ['pn-keep'])
  const vu = h.fx!.nsx(['volume', 'prune', '-f', '--filter', 'until=1h'])
  assert.deepEqual([vu.status, vu.stderr], [1, "nsx volume prune: Invalid filter 'until'\n"])
  const vapi = await api(h.svc!.socket, 'POST', `/v1.41/volumes/prune?${q({until: ['1h']})}`)
  assert.deepEqual([vapi.status, JSON.parse(vapi.body)], [400, {message: "Invalid filter 'until'"}])
  const v = await call('POST', `/volumes/prune?${q({'label!': ['stage=keep']})}`, '/volumes/prune') as {VolumesDeleted: string[]}
  assert.deepEqual(v.VolumesDeleted, ['pv-ci'])
  assert.match(nsxOk(['volume', 'prune', '-f', '--filter', 'label=stage']), /^Deleted Volumes:\npv-keep\n\nTotal reclaimed space: /)
})

test('system prune --filter: each area filtered as the docker CLI filters it; until with --volumes refused before anything goes', async (t) => {
  if (skip(t)) return
  t.after(() => {
    h.fx!.nsx(['rm', '-f', 'ps-ci', 'ps-keep'])
    h.fx!.nsx(['network', 'rm', 'ps-net'])
  })
  nsxOk(['create', '--name', 'ps-ci', '--network', 'none', '--label', 'stage=ci', 'busybox', 'true'])
  nsxOk(['create', '--name', 'ps-keep', '--network', 'none', 'busybox', 'true'])
  nsxOk(['network', 'create', '--label', 'stage=ci', 'ps-net'])
  const refused = h.fx!.nsx(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h'])
  assert.deepEqual([refused.status, refused.stderr], [1, 'nsx system prune: ERROR: The "until" filter is not supported with "--volumes"\n'])
  assert.deepEqual([dk(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']).status], [1])
  // The question lists the filters, as docker's does; no answer removes nothing.
  const asked = h.fx!.nsx(['system', 'prune', '--filter', 'label=stage=ci', '--filter', 'until=1s'], {input: 'n\n'})
  assert.match(asked.stdout, /all dangling build cache\n\n {2}Items to be pruned will be filtered with:\n {2}- label=stage=ci\n {2}- until=1s\n\nAre you sure you want to continue\? \[y\/N\] $/)
  const [ci] = ids(['ps-ci'])
  const r = JSON.parse(nsxOk(['system', 'prune', '-f', '--json', '--filter', 'label=stage=ci'])) as {ContainersDeleted: string[]; NetworksDeleted: string[]}
  assert.deepEqual([r.ContainersDeleted, r.NetworksDeleted], [[ci], ['ps-net']])
  assert.deepEqual(names(), ['ps-keep'])
})

test('build cache: each use recorded (last used, usage count), shown by nsx system df -v, GET /system/df and docker system df -v; builder prune by all, until and keep-storage', async (t) => {
  if (skip(t)) return
  t.after(() => h.fx!.nsx(['rmi', '-f', 'pb:1']))
  // What earlier builds of this file left in the cache goes first.
  nsxOk(['builder', 'prune', '-a', '-f'])
  // Two steps in the final image (shared), one in a stage no image holds (its layer is the cache's own).
  const ctx = context('pb', 'FROM busybox AS scratchpad\nRUN head -c 300000 /dev/urandom > /r\nFROM busybox\nRUN echo one > /one\nRUN echo two > /two\n')
  nsxOk(['build', '-t', 'pb:1', ctx])
  type Cache = {ID: string; Shared: boolean; Size: number; UsageCount: number; CreatedAt: string; LastUsedAt: string; Description: string; Type: string; InUse: boolean}
  const df = async () => ((await call('GET', '/system/df', '/system/df')) as {BuildCache: Cache[]}).BuildCache
  const first = await df()
  assert.equal(first.length, 3, JSON.stringify(first))
  assert.ok(first.every((c) => c.UsageCount === 1 && c.LastUsedAt === c.CreatedAt && c.Type === 'regular' && !c.InUse), JSON.stringify(first))
  assert.deepEqual(first.map((c) => c.Description).sort(), ['RUN /bin/sh -c echo one > /one', 'RUN /bin/sh -c echo two > /two', 'RUN /bin/sh -c head -c 300000 /dev/urandom > /r'])
  const own = first.find((c) => !c.Shared)!
  assert.ok(own.Description.includes('urandom') && own.Size >= 300000, JSON.stringify(own))
  // Built again: every step from the cache, each used twice, last used later than made.
  assert.equal((nsxOk(['build', '-t', 'pb:1', ctx]).match(/Using cache/g) ?? []).length, 3)
  const second = await df()
  assert.ok(second.every((c) => c.UsageCount === 2 && Date.parse(c.LastUsedAt) > Date.parse(c.CreatedAt)), JSON.stringify(second))
  // nsx system df -v prints what docker system df -v prints of them (the ages aside: they tick between the two).
  const cacheRows = (out: string) => out.split('Build cache usage: ')[1].split('\n').slice(3).filter((l) => l).map((l) => l.split(/ {2,}/)).map((c) => [c[0], c[1], c[2], c[5], c[6]])
  const nsxDf = nsxOk(['system', 'df', '-v'])
  const dockerDf = dk(['system', 'df', '-v'])
  assert.equal(dockerDf.status, 0, dockerDf.stderr)
  assert.deepEqual(cacheRows(nsxDf), cacheRows(dockerDf.stdout))
  assert.equal(nsxDf.split('Build cache usage: ')[1].split('\n')[0], dockerDf.stdout.split('Build cache usage: ')[1].split('\n')[0])
  assert.deepEqual(cacheRows(nsxDf).map((r) => r.slice(3)).sort(), [['2', 'false'], ['2', 'true'], ['2', 'true']])
  // Bad filters: docker's daemon words under "failed to prune build cache", 400 / exit 1; nothing goes.
  const bad = await api(h.svc!.socket, 'POST', `/v1.41/build/prune?${q({until: ['yesterday']})}`)
  assert.deepEqual([bad.status, JSON.parse(bad.body)], [400, {message: 'failed to prune build cache: "until" filter expects a duration (e.g., \'24h\'): time: invalid duration "yesterday"'}])
  const dbad = dk(['builder', 'prune', '-f', '--filter', 'size=1'])
  assert.deepEqual([dbad.status, dbad.stderr], [1, "Error response from daemon: failed to prune build cache: Invalid filter 'size'\n"])
  // Used within the hour: until=1h keeps everything; so does a keep-storage above the cache's own size.
  assert.equal(nsxOk(['builder', 'prune', '-f', '--filter', 'until=1h']), 'Total reclaimed space: 0B\n')
  assert.equal(nsxOk(['builder', 'prune', '-f', '--keep-storage', '10m']), 'Total reclaimed space: 0B\n')
  // Without -a only the step no image shares goes; its layer with it (the extracted tree and the tar kept for push: 300 kB each).
  const d = dk(['builder', 'prune', '-f', '--keep-storage', '1'])
  assert.equal(d.status, 0, d.stderr)
  assert.match(d.stdout, new RegExp(`^Deleted build cache objects:\n${own.ID}\n\nTotal reclaimed space: [6-9]\\d\\d(\\.\\d+)?kB\n$`))
  assert.equal((await df()).length, 2)
  // -a: the shared ones too (their layers stay: pb:1 holds them).
  const all = await call('POST', '/build/prune?all=1', '/build/prune') as {CachesDeleted: string[]; SpaceReclaimed: number}
  assert.deepEqual([all.CachesDeleted.length, all.SpaceReclaimed], [2, 0])
  assert.deepEqual(await df(), [])
  assert.match(nsxOk(['run', '--rm', '--network', 'none', 'pb:1', 'cat', '/one', '/two']), /^one\ntwo\n$/)
})
