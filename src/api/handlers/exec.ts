import type {Route} from '../router.js'

/** Exec instances: create, start (hijacked), inspect, resize. */
export const EXEC_ROUTES: Route[] = []
