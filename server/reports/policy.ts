/**
 * One policy per team: the suggested Allow statements merged where merging adds no permission.
 * Two statements with the same resources and conditions become one with both actions; two with the
 * same actions and conditions become one with both resources. Either way the merged statement allows
 * exactly the union of the two (a product of equal sets), so the policy stays least-privilege:
 * no wildcard is ever introduced and no action is granted on a resource it was not suggested for.
 */
import { canonicalJson } from '../authz/parse.js'
import type { PolicyStatement } from '../authz/policy-match.js'

const list = (v: string | string[] | undefined): string[] => v === undefined ? [] : Array.isArray(v) ? v : [v]
const one = (xs: string[]): string | string[] => xs.length === 1 ? xs[0]! : xs

interface Norm { actions: string[], resources: string[], condition: string, raw: PolicyStatement['Condition'] }

function normalise (s: PolicyStatement): Norm {
  // Actions compare case-insensitively (IAM does); keep the first spelling seen.
  const seen = new Map<string, string>()
  for (const a of list(s.Action)) if (!seen.has(a.toLowerCase())) seen.set(a.toLowerCase(), a)
  return {
    actions: [...seen.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    resources: [...new Set(list(s.Resource))].sort(),
    condition: s.Condition ? canonicalJson(s.Condition) : '',
    raw: s.Condition
  }
}

function mergeBy (items: Norm[], key: (n: Norm) => string, merge: (a: Norm, b: Norm) => Norm): Norm[] {
  const out = new Map<string, Norm>()
  for (const n of items) {
    const k = key(n)
    const prev = out.get(k)
    out.set(k, prev ? merge(prev, n) : n)
  }
  return [...out.values()]
}

const union = (a: string[], b: string[], ci = false): string[] => {
  const m = new Map<string, string>()
  for (const x of [...a, ...b]) { const k = ci ? x.toLowerCase() : x; if (!m.has(k)) m.set(k, x) }
  return [...m.values()].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase()))
}

/** Merge Allow statements (Effect Allow only; others are returned unchanged after them). */
export function mergeStatements (statements: PolicyStatement[]): PolicyStatement[] {
  let items = statements.filter(s => s.Effect === 'Allow' && s.Action !== undefined && s.Resource !== undefined).map(normalise)
  // Repeat until nothing merges: merging resources can make two action sets equal, and back.
  for (let round = 0; round < 10; round++) {
    const before = items.length
    items = mergeBy(items, n => `${n.resources.join('\u0000')}\u0001${n.condition}`, (a, b) => ({ ...a, actions: union(a.actions, b.actions, true) }))
    items = mergeBy(items, n => `${n.actions.map(x => x.toLowerCase()).join('\u0000')}\u0001${n.condition}`, (a, b) => ({ ...a, resources: union(a.resources, b.resources) }))
    if (items.length === before) break
  }
  const sidCount = new Map<string, number>()
  const merged = items
    .sort((a, b) => a.actions[0]!.toLowerCase().localeCompare(b.actions[0]!.toLowerCase()) || a.resources[0]!.localeCompare(b.resources[0]!))
    .map((n): PolicyStatement => {
      const base = n.actions.length === 1 ? `Allow${n.actions[0]!.split(/[^A-Za-z0-9]+/).filter(Boolean).map(w => w[0]!.toUpperCase() + w.slice(1)).join('')}` : 'AllowGroup'
      const c = (sidCount.get(base) ?? 0) + 1
      sidCount.set(base, c)
      const st: PolicyStatement = { Sid: `${base.slice(0, 90)}${c > 1 || n.actions.length > 1 ? c : ''}`, Effect: 'Allow', Action: one(n.actions), Resource: one(n.resources) }
      if (n.raw) st.Condition = n.raw
      return st
    })
  return [...merged, ...statements.filter(s => !(s.Effect === 'Allow' && s.Action !== undefined && s.Resource !== undefined))]
}
