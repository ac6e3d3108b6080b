/** `npm test`: share 2 of 2 of the CLI's integration files (test/cli/), in one process (test/helpers/kinds.ts BatchKind says why). */
import { runShare } from '../helpers/unit-batch.js'

await runShare('cli', 2, 2)
