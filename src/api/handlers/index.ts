import type {Route} from '../router.js'
import {ARCHIVE_ROUTES} from './archive.js'
import {CONTAINER_ROUTES} from './containers.js'
import {CONTAINER_UPDATE_ROUTES} from './container-update.js'
import {DISK_ROUTES} from './disk.js'
import {DISTRIBUTION_ROUTES} from './distribution.js'
import {EXEC_ROUTES} from './exec.js'
import {IMAGE_ROUTES} from './images.js'
import {NETWORK_ROUTES} from './networks.js'
import {SYSTEM_ROUTES, UNSUPPORTED_ROUTES} from './system.js'
import {VOLUME_ROUTES} from './volumes.js'

/**
 * Every route the service answers, one list per area (one file each in this folder). A request
 * takes the first route whose method and path match, so the catch-alls for what nsx does not serve
 * come last.
 */
export const ROUTES: readonly Route[] = [
  ...SYSTEM_ROUTES,
  ...CONTAINER_ROUTES,
  ...CONTAINER_UPDATE_ROUTES,
  ...DISK_ROUTES,
  ...ARCHIVE_ROUTES,
  ...EXEC_ROUTES,
  ...IMAGE_ROUTES,
  ...DISTRIBUTION_ROUTES,
  ...VOLUME_ROUTES,
  ...NETWORK_ROUTES,
  ...UNSUPPORTED_ROUTES,
]
