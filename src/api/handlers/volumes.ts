import type {Route} from '../router.js'

/** Named volumes: create, list, inspect, rm, prune. Filled by the apiimg helper (issue 18); add routes here only. */
export const VOLUME_ROUTES: Route[] = []
