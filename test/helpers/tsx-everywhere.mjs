/** Loaded with --import by `npm run test:unit`: tsx's TypeScript hooks in the main thread and in every worker thread. */
// tsx's own `--import tsx` registers its hooks in the main thread only and counts on worker threads
// inheriting them, which Node 24 does and Node 20 does not: there the importer's parse worker could
// not load its .ts source (ERR_UNKNOWN_FILE_EXTENSION) and every import fell back to one thread, so
// the worker path went untested. Workers run this file again (they inherit execArgv) and register
// the hooks themselves; where they were inherited as well (Node 24), tsx's hooks simply run twice.
import { isMainThread } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

if (isMainThread) await import('tsx')
else register()
