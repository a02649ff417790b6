import type {ApiContext} from './router.js'
import {ApiError} from './http.js'
import {Store} from '../store/store.js'

/**
 * Run `fn` with a store of its own holding the store lock (shared for imports, exclusive for
 * removals), as the CLI verbs take it. The lock is waited for without blocking the service's
 * event loop (an `nsx load` of another process may hold it); each request has its own lock, so
 * one request's end never releases another's.
 */
export async function withStoreLock<T>(ctx: ApiContext, mode: 'shared' | 'exclusive', fn: (store: Store) => Promise<T> | T): Promise<T> {
  const store = Store.open(ctx.store().root)
  while (!store.tryLock(mode)) {
    if (ctx.signal.aborted) throw new ApiError(500, 'the client went away while waiting for the image store')
    await new Promise((r) => setTimeout(r, 50))
  }
  try {
    return await fn(store)
  } finally {
    store.unlock()
  }
}
