import {ApiError} from '../http.js'
import type {ApiContext, Route} from '../router.js'
import {registryAuth} from './images.js'

/**
 * GET /distribution/{name}/json: what the registry (through its mirrors) holds under a name,
 * docker's DistributionInspect: {Descriptor: {mediaType, digest, size}, Platforms: [...]}.
 */
async function inspect(ctx: ApiContext): Promise<unknown> {
  const {inspectDistribution} = await import('../../registry/distribution.js')
  const {PullError} = await import('../../registry/pull-error.js')
  try {
    const r = await inspectDistribution({reference: ctx.params.name, credentials: registryAuth(ctx)})
    return {Descriptor: r.descriptor, Platforms: r.platforms}
  } catch (err) {
    if (err instanceof PullError) throw new ApiError(err.status, err.message)
    throw err
  }
}

export const DISTRIBUTION_ROUTES: Route[] = [{method: 'GET', path: '/distribution/{name*}/json', handler: inspect}]
