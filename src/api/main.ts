import {reportError} from '../cli/errors.js'
import {passedOptions, runService} from './service.js'

/** The service's own entry, exec'd by `nsx system service` (src/api/service.ts execService) with Node's flags for a resident process. */
runService(passedOptions()).catch((err: unknown) => {
  process.exitCode = reportError(err, 'nsx system service', 125)
})
