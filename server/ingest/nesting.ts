/** Nesting depth of JSON, measured without recursion (on the text before parsing, or on a parsed value). */
/**
 * True when brackets outside strings nest deeper than `limit`: a linear byte scan, run before
 * JSON.parse so that nothing recursive (structured clone to the parse worker, JSON.stringify)
 * ever sees a hostile record. The exact check (checkTree) runs later, iteratively.
 */
export function nestingExceeds (bytes: Uint8Array, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) { if (++depth > limit) return true } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

/** The same bound over an already-parsed value, iteratively (for the elements of one big array). */
export function valueNestingExceeds (root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > limit) return true
    for (const x of Array.isArray(v) ? v : Object.values(v)) stack.push([x, depth + 1])
  }
  return false
}
