/** `npm test`: share 2 of 6 of the unit test files, in one process (test/helpers/unit-batch.ts says why). */
import { runShare } from '../helpers/unit-batch.js'

await runShare('unit', 2, 6)
