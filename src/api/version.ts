/**
 * The Engine API version nsx serves: the one the docker 20.10 CLI negotiates (it caps at 1.41 from
 * `HEAD /_ping`), and the oldest it accepts. docker-py and docker-compose take `GET /version`'s
 * ApiVersion as given; dockerode and testcontainers call unversioned paths.
 */
export const API_VERSION = '1.41'
export const MIN_API_VERSION = '1.12'
/** The engine version nsx reports: the docker release whose API it serves. */
export const ENGINE_VERSION = '20.10.24'
