import type {Route} from '../router.js'

/** Containers: create, start, stop, restart, kill, wait, DELETE, pause, unpause, list, inspect, logs, attach, resize, top, stats, rename, prune. */
export const CONTAINER_ROUTES: Route[] = []
