import type {Route} from '../router.js'

/** Networks: list, inspect, create, rm, connect (with aliases), disconnect, prune. Filled by the net helper; add routes here only. */
export const NETWORK_ROUTES: Route[] = []
