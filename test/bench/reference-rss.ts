/** Benchmark child: run the reference pipeline (an ES module that runs on import) in this process, then print its peak RSS. */
import { pathToFileURL } from 'node:url'

const [script, ...rest] = process.argv.slice(2)
if (!script) throw new Error('usage: reference-rss SCRIPT ARGS…')
// The reference reads its arguments from process.argv.slice(2), as if it were run directly.
process.argv = [process.argv[0]!, script, ...rest]
process.on('exit', () => { process.stdout.write(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n') })
await import(pathToFileURL(script).href)
