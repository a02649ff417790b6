import type {Route} from '../router.js'

/**
 * Images: create (pull), push, tag, json, {name}/json, history, DELETE, build, commit, get, load,
 * prune. Filled by the apiimg helper (issue 18); add routes here only.
 */
export const IMAGE_ROUTES: Route[] = []
