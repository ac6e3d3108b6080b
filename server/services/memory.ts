/** Keeping a long import's memory flat. */
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | null | undefined

/**
 * A full garbage collection, where the runtime allows it. Between import batches this keeps RSS
 * flat: V8 otherwise lets the garbage of parsed batches pile up to hundreds of MB before it collects
 * (measured: 470 MB peak for 1M messages without, about 340 MB with, for under 1% of the time).
 * `--expose-gc` is set at run time so that neither users nor npm's bin shim need a node flag.
 */
export function collectGarbage (): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    } catch {
      gc = null
    }
  }
  gc?.()
}

/**
 * The young generation (V8's new space: two semi-spaces) a long import lets grow: 32 MiB, Node 20's
 * default maximum. Node 24's V8 sizes it from the heap limit, and so from the machine's memory: on a
 * 24 GB machine it grew to 128 MiB during an import (an import keeps each batch alive until it is
 * stored, and V8 grows the new space while that much survives), and the 3,000 x 100 KB import peaked
 * at 405 MB instead of 285 MB on Node 20.
 */
export const YOUNG_GENERATION_BYTES = 32 * 1024 * 1024
/**
 * Growth is stopped once the new space reaches a quarter of the bound: what V8 reports is both
 * semi-spaces as committed (between one and two of them), and one more doubling may come before the
 * next check.
 */
const STOP_GROWTH_AT = YOUNG_GENERATION_BYTES / 4
/**
 * What the runtime reports for the new space stays under this once growth is stopped. Node 20
 * reports whole semi-spaces: at most 8 MiB here, 32 MiB unbounded. Node 24's V8 commits its
 * semi-spaces page by page as they fill and reports the pages in use on both sides, so between two
 * scavenges the figure creeps past the capacity: measured 19-35 MiB with growth stopped (the 35 in a
 * CI run's unit batch, after other tests had run in the process), against 128 MiB unbounded. The
 * margin is half of the next doubling that stopping prevents.
 */
export const YOUNG_GENERATION_CEILING = 48 * 1024 * 1024

let youngBounded = false

/** The new space's current size in bytes (both semi-spaces), or 0 where the runtime does not say. */
export function youngGenerationBytes (): number {
  return v8.getHeapSpaceStatistics().find(s => s.space_name === 'new_space')?.space_size ?? 0
}

/**
 * Keep the young generation within YOUNG_GENERATION_BYTES, for a long import in its own process (the
 * CLI); called between batches and whenever the import gives the event loop a turn (every 20 ms or
 * so).
 *
 * The size V8 allows is fixed when the process starts (`--max-semi-space-size`), and a flag on the
 * command line is what neither users nor npm's bin shim should need. What V8 reads at each growth is
 * its growth factor: once the new space has reached a quarter of the bound, a factor of 1 stops it
 * (measured on Node 24.22 with the CLI: 200,000 messages peaked at 482-492 MB without, 343-349 MB
 * with, in the same time; the 3,000 x 100 KB import at 405-410 MB without, 305-333 MB with). Node 20's
 * V8 reads the flag the same way, and its new space stops within its own 32 MiB anyway.
 */
export function boundYoungGeneration (): void {
  if (youngBounded || youngGenerationBytes() < STOP_GROWTH_AT) return
  youngBounded = true
  v8.setFlagsFromString('--semi-space-growth-factor=1')
}
