// tap reporter for `npm test` (.taprc): a failure as soon as it happens, with its diff and place; at
// the end, what was skipped or left to do with the reason, and the totals. Nothing per passing test.
//
// Why not tap's own terse reporter: it is an ink (React) app that redraws its counts on every
// assertion. Over the suite's ~13,000 that cost more CPU than some test files (one unit batch:
// 15.5 s of CPU with it, 11.8 s with raw TAP output, measured 2026-11-30). This reads the same TAP
// stream with tap's own parser (tap-parser) and writes a few lines.
import { Minipass } from 'minipass'
import { Parser } from 'tap-parser'

const indent = (text, by = '    ') => String(text).trimEnd().split('\n').map(l => by + l).join('\n')

/** What to show of a failed test point: its diff (or found and wanted), its place and source line. */
function describe (r) {
  const d = r.diag ?? {}
  const lines = [`not ok ${r.fullname || r.name}`]
  if (d.diff) lines.push(indent(d.diff))
  else if ('found' in d || 'wanted' in d) lines.push(indent(`found:  ${JSON.stringify(d.found)}\nwanted: ${JSON.stringify(d.wanted)}`))
  if (d.message && d.message !== r.name) lines.push(indent(d.message))
  if (d.at) lines.push(indent(`at ${d.at.fileName ?? ''}:${d.at.lineNumber ?? ''}:${d.at.columnNumber ?? ''}`))
  if (d.source) lines.push(indent(d.source))
  if (d.stack && !d.at) lines.push(indent(d.stack))
  // A test process that died or timed out says how (exitCode, signal, timeout, command, …).
  const shown = new Set(['diff', 'found', 'wanted', 'message', 'at', 'source', 'stack', 'compare', 'pattern', 'type'])
  for (const [k, v] of Object.entries(d)) {
    if (!shown.has(k) && v !== null && typeof v !== 'object') lines.push(indent(`${k}: ${v}`))
  }
  return lines.join('\n') + '\n'
}

/**
 * Counts and failures over the whole tree of subtests. A subtest's own test point only sums up its
 * children, so it is shown only when it failed with no failing child to show for it (a throw, a
 * timeout, a process that died).
 */
class Tally {
  pass = 0
  fail = 0
  skips = []
  todos = []

  constructor (print) { this.print = print }

  /** Follow one parser (the root, or a subtest's); its `shown` counts the failures shown for it so far. */
  attach (parser) {
    const state = { shown: 0 }
    let closesSubtest = false
    let failuresBelow = 0
    parser.on('child', child => {
      closesSubtest = true
      const below = this.attach(child)
      // The child ends (synchronously) when its parent's closing test point arrives, before it is read.
      child.on('complete', () => { failuresBelow += below.shown })
    })
    parser.on('assert', r => {
      const subtest = closesSubtest
      const below = failuresBelow
      closesSubtest = false
      failuresBelow = 0
      if (r.skip) { this.skips.push(r); return }
      if (r.todo) { this.todos.push(r); return }
      if (subtest && (r.ok || below > 0)) { state.shown += below; return }
      if (r.ok) { this.pass++; return }
      this.fail++
      state.shown++
      this.print(describe(r))
    })
    return state
  }
}

export default class TerseReporter extends Minipass {
  constructor () {
    super({ encoding: 'utf8' })
    const started = performance.now()
    this.parser = new Parser()
    const tally = new Tally(text => super.write(text))
    tally.attach(this.parser)
    this.parser.on('complete', () => {
      for (const s of tally.skips) super.write(`skipped: ${s.fullname || s.name}${typeof s.skip === 'string' ? ` (${s.skip})` : ''}\n`)
      for (const s of tally.todos) super.write(`todo: ${s.fullname || s.name}${typeof s.todo === 'string' ? ` (${s.todo})` : ''}\n`)
      const parts = [`${tally.pass} passed`, `${tally.fail} failed`]
      if (tally.skips.length > 0) parts.push(`${tally.skips.length} skipped`)
      if (tally.todos.length > 0) parts.push(`${tally.todos.length} todo`)
      super.write(`\n# ${tally.fail === 0 ? 'ok' : 'FAILED'}: ${parts.join(', ')} in ${Math.round((performance.now() - started) / 1000)} s\n`)
      super.end()
    })
    this.parser.on('bailout', reason => { super.write(`Bail out! ${reason}\n`) })
  }

  write (chunk, encoding, cb) {
    this.parser.write(typeof chunk === 'string' ? chunk : chunk.toString())
    if (typeof encoding === 'function') encoding()
    else cb?.()
    return true
  }

  end (chunk, encoding, cb) {
    if (chunk !== undefined && typeof chunk !== 'function') this.write(chunk)
    this.parser.end()
    const done = [chunk, encoding, cb].find(f => typeof f === 'function')
    if (done) this.once('end', done)
    return this
  }
}
