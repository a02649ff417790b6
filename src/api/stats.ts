import type {Container} from '../container/state.js'
import type {ApiContext} from './router.js'
import {writeOut} from './streams.js'

/** GET /containers/{id}/stats: one document (stream=0: two samples apart, so precpu is filled) or one a second until the client goes. */
export async function containerStats(ctx: ApiContext, c0: Container, stream: boolean): Promise<void> {
  const [{sampleStats}, {readContainer}, {sleep}] = await Promise.all([import('../container/stats.js'), import('../container/state.js'), import('../container/state.js')])
  const {res, signal} = ctx
  res.writeHead(200, {'Content-Type': 'application/json'})
  let prev = sampleStats(c0)
  if (!stream) {
    res.end(`${JSON.stringify(prev)}\n`)
    return
  }
  res.flushHeaders()
  for (;;) {
    await sleep(1000)
    if (signal.aborted) break
    const c = readContainer(c0.dir)
    if (!c) break
    const doc = sampleStats(c, prev)
    await writeOut(res, Buffer.from(`${JSON.stringify(doc)}\n`), signal)
    prev = doc
    if (c.status !== 'running') break
  }
  res.end()
}
