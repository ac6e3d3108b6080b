/** A long import's young generation stays within its bound, whatever size the runtime would let it grow to (Node 24: 128 MiB). */
import t from 'tap'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { boundYoungGeneration, YOUNG_GENERATION_BYTES, YOUNG_GENERATION_CEILING, youngGenerationBytes } from '../../server/services/memory.js'

/** Allocate as an import does: many strings, the last tens of MB of them kept alive (an open batch). */
function churn (mb: number, step: () => void): number {
  let kept: string[] = []
  let largest = 0
  for (let i = 0; i < mb * 1024; i++) {
    kept.push('x'.repeat(1000) + i)
    if (kept.length > 40_000) kept = []
    if ((i & 1023) === 0) {
      step()
      largest = Math.max(largest, youngGenerationBytes())
    }
  }
  return largest
}

t.test('the new space stops growing at the bound', async t => {
  // Start small, as an import in a fresh process does: loading this test may have grown it already.
  v8.setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (o: object) => void
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
  t.ok(youngGenerationBytes() > 0, 'the runtime reports its new space')
  const largest = churn(400, boundYoungGeneration)
  t.ok(largest >= YOUNG_GENERATION_BYTES / 4, `it grew as far as needed (${largest / 1048576} MiB)`)
  // Unbounded, Node 24 reaches 128 MiB here; what a stopped new space reports: YOUNG_GENERATION_CEILING says why.
  t.ok(largest <= YOUNG_GENERATION_CEILING, `and no further: ${largest / 1048576} MiB, ceiling ${YOUNG_GENERATION_CEILING / 1048576} MiB`)
})
