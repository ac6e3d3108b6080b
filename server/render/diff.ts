/**
 * A line diff of two texts (the policy document before and after a fix). Hand-written rather than a
 * dependency: the texts are pretty-printed policy documents of at most a few hundred lines, and a
 * longest-common-subsequence table over lines is a dozen lines of code. Bounded: past MAX_CELLS the
 * whole text is shown as replaced.
 */
export interface DiffLine { op: ' ' | '-' | '+', text: string }

const MAX_CELLS = 4_000_000

export function lineDiff (before: string, after: string): DiffLine[] {
  const a = before === '' ? [] : before.split('\n')
  const b = after === '' ? [] : after.split('\n')
  if (a.length * b.length > MAX_CELLS) return [...a.map(text => ({ op: '-' as const, text })), ...b.map(text => ({ op: '+' as const, text }))]
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..], in one flat array.
  const w = b.length + 1
  const lcs = new Uint32Array((a.length + 1) * w)
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!)
    }
  }
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { out.push({ op: ' ', text: a[i]! }); i++; j++ } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) { out.push({ op: '-', text: a[i]! }); i++ } else { out.push({ op: '+', text: b[j]! }); j++ }
  }
  while (i < a.length) out.push({ op: '-', text: a[i++]! })
  while (j < b.length) out.push({ op: '+', text: b[j++]! })
  return out
}
