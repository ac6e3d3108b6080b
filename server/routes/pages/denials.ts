/**
 * GET /denials : the denial list: a filter form with every filter of GET /api/denials, facet counts
 * (click a value to add it as a filter, click again to remove it), drill-down into condition keys,
 * keyset pagination, sort by last seen or occurrences. The whole state is in the query string.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '../../util/typebox.js'
import { DenialQuerySchema } from '../../schemas/denials.js'
import type { FacetValue, SearchResult } from '../../db/repositories/search.js'
import { toFilters } from '../../services/filters.js'
import { decisionLabel, formatNumber, plural, shortArn, truncate } from '../../render/helpers.js'
import { layoutModel } from '../../render/layout.js'
import { Decisions } from '../../authz/types.js'
import {
  conditionKeyOf, listHref, SCALAR_FILTERS, stateFromQuery, toggleConditionKey, toggleConditionValue, toggleScalar,
  withCursor, withoutCondition, withoutScalar, withSort, type ListState, type ScalarFilter
} from './list-state.js'
import { denialRow, FormatParam } from './view-models.js'
import { DenialsTwinSchema, twinSchema, twinSerializer } from '../../schemas/pages.js'

const ListQuery = Type.Object({ ...DenialQuerySchema.properties, format: FormatParam })

type FacetValueModel = { label: string, title: string, count: string, href: string, active: boolean }

interface FacetModel {
  id: string
  title: string
  values: Array<FacetValueModel & { children?: { id: string, title: string, values: FacetValueModel[] } }>
}

/** Where a condition key's link lands: its facet, where the key's values then appear under it (not the top of the page). */
const CONDITION_FACET_ANCHOR = '#facet-conditionKey'

const FACETS: Array<{ facet: keyof NonNullable<SearchResult['facets']>, title: string, param: ScalarFilter | 'condition' }> = [
  { facet: 'decision', title: 'Decision', param: 'decision' },
  { facet: 'service', title: 'Service', param: 'service' },
  { facet: 'action', title: 'Action', param: 'action' },
  { facet: 'principal', title: 'Principal', param: 'principal' },
  { facet: 'account', title: 'Account', param: 'account' },
  { facet: 'conditionKey', title: 'Condition key', param: 'condition' },
  { facet: 'kind', title: 'Read from', param: 'kind' },
  { facet: 'policyType', title: 'Policy type (text denials)', param: 'policyType' }
]

/** Facet values of `kind`, as people say them. */
const kindLabel = (v: string): string => v === 'text' ? 'access-denied text' : v === 'decoded' ? 'decoded message' : v

const FILTER_LABELS: Record<ScalarFilter, string> = {
  q: 'Text',
  action: 'Action',
  service: 'Service',
  principal: 'Principal',
  account: 'Account',
  resource: 'Resource',
  decision: 'Decision',
  kind: 'Read from',
  policyType: 'Policy type',
  policyArn: 'Policy ARN',
  since: 'Since',
  until: 'Until'
}

function facetValues (values: FacetValue[], toggle: (v: string) => { href: string, active: boolean }, label = (v: string) => v): FacetModel['values'] {
  return values.map(v => {
    const t = toggle(v.value)
    return { label: truncate(label(v.value), 60), title: v.value, count: formatNumber(v.count), href: t.href, active: t.active }
  })
}

function facetModels (state: ListState, result: SearchResult, drill: Array<{ key: string, values: FacetValue[] }>): FacetModel[] {
  const out: FacetModel[] = []
  const f = result.facets
  const placed = new Set<number>()
  const drillModel = (i: number): { id: string, title: string, values: FacetValueModel[] } => {
    const d = drill[i]!
    return { id: `facet-values-${i}`, title: `Values of ${d.key}`, values: facetValues(d.values, v => toggleConditionValue(state, d.key, v)) }
  }
  if (f) {
    for (const def of FACETS) {
      let values: FacetModel['values']
      if (def.param === 'condition') {
        values = facetValues(f.conditionKey, v => {
          const t = toggleConditionKey(state, v)
          return { ...t, href: t.href + CONDITION_FACET_ANCHOR }
        }).map(v => {
          // The values of a key filtered on go right under it, where the user clicked.
          const i = drill.findIndex(d => d.key.toLowerCase() === v.title.toLowerCase())
          if (i < 0 || placed.has(i)) return v
          placed.add(i)
          return { ...v, children: drillModel(i) }
        })
      } else {
        values = facetValues(f[def.facet], v => toggleScalar(state, def.param as ScalarFilter, v), def.param === 'decision' ? decisionLabel : def.param === 'principal' ? shortArn : def.param === 'kind' ? kindLabel : undefined)
      }
      if (values.length > 0) out.push({ id: `facet-${def.facet}`, title: def.title, values })
    }
  }
  // A key filtered on but not among the facet's top keys: its values in a facet of their own.
  drill.forEach((_, i) => {
    if (!placed.has(i)) {
      const m = drillModel(i)
      out.push({ id: m.id, title: m.title, values: m.values })
    }
  })
  return out
}

const denialList: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/denials', {
    schema: twinSchema('The denial list: matching denials, facets, and the values of the condition keys filtered on', DenialsTwinSchema, { querystring: ListQuery }),
    serializerCompiler: twinSerializer,
    // The filter form submits every field; an empty one means "no filter", not an invalid value.
    preValidation: async (req) => { dropEmpty(req.query as Record<string, unknown>) }
  }, async (req, reply) => {
    const { search } = app.repos
    const state = stateFromQuery(req.query)
    let result: SearchResult = { total: 0, items: [], nextCursor: null }
    let drill: Array<{ key: string, values: FacetValue[] }> = []
    let error: string | null = null
    try {
      const filters = toFilters(req.query)
      result = search.search(filters, { limit: req.query.limit, cursor: req.query.cursor, sort: state.sort, facets: true })
      // Drill-down: for each condition key filtered on, the values it takes under the other filters.
      const seen = new Set<string>()
      drill = state.condition.flatMap(c => {
        const k = conditionKeyOf(c)
        if (seen.has(k) || k === '') return []
        seen.add(k)
        const key = c.includes('=') ? c.slice(0, c.indexOf('=')).trim() : c.trim()
        const others = { ...filters, condition: state.condition.filter(o => conditionKeyOf(o) !== k) }
        return [{ key, values: search.conditionValues(others, key, 15) }]
      })
    } catch (err) {
      const e = err as { statusCode?: number, message: string }
      if (e.statusCode !== 400 || req.query.format === 'json') throw err
      error = e.message
      reply.code(400)
    }

    if (req.query.format === 'json') {
      return { ...result, conditionValues: Object.fromEntries(drill.map(d => [d.key, d.values])) }
    }

    const chips = [
      ...SCALAR_FILTERS
        .filter(k => state[k])
        .map(k => ({ label: `${FILTER_LABELS[k]}: ${k === 'decision' ? decisionLabel(state[k]!) : k === 'kind' ? kindLabel(state[k]!) : state[k]!}`, removeHref: withoutScalar(state, k) })),
      ...state.condition.map((c, i) => ({ label: `Condition: ${c}`, removeHref: withoutCondition(state, i) }))
    ]
    const shown = result.items.length
    const filtered = chips.length > 0
    return reply.viewAsync('pages/denials.hbs', {
      ...layoutModel(req, reply, 'Denials', 'denials'),
      error,
      // Nothing stored at all (not "nothing matches"): say so, and where to import.
      noData: !filtered && error === null && result.total === 0 && !state.cursor,
      form: {
        // Open when a filter is refused, so its field is in view; the chips show the others.
        open: error !== null,
        q: state.q ?? '',
        action: state.action ?? '',
        service: state.service ?? '',
        principal: state.principal ?? '',
        account: state.account ?? '',
        resource: state.resource ?? '',
        since: state.since ?? '',
        until: state.until ?? '',
        decisions: [{ value: '', label: 'Any decision', selected: !state.decision }, ...Decisions.map(d => ({ value: d, label: decisionLabel(d), selected: state.decision === d }))],
        sorts: [
          { value: 'lastSeen', label: 'Last seen', selected: state.sort === 'lastSeen' },
          { value: 'occurrences', label: 'Occurrences', selected: state.sort === 'occurrences' }
        ],
        // The existing condition filters, and one empty field to add another.
        conditions: [...state.condition, ''].map((value, i) => ({ value, id: `f-condition-${i}`, label: i === 0 ? 'Condition' : `Condition ${i + 1}` })),
        limit: state.limit !== undefined ? String(state.limit) : ''
      },
      chips,
      clearHref: state.sort === 'occurrences' ? '/denials?sort=occurrences' : '/denials',
      facets: facetModels(state, result, drill),
      totalText: plural(result.total, 'denial'),
      rangeText: shown === 0 ? '' : state.cursor ? `showing ${formatNumber(shown)} more` : `showing the first ${formatNumber(shown)}`,
      sortLinks: [
        { label: 'Last seen', href: withSort(state, 'lastSeen'), current: state.sort === 'lastSeen' },
        { label: 'Occurrences', href: withSort(state, 'occurrences'), current: state.sort === 'occurrences' }
      ],
      rows: result.items.map(denialRow),
      nextHref: result.nextCursor ? withCursor(state, result.nextCursor) : null,
      firstHref: state.cursor ? listHref({ ...state, cursor: undefined }) : null,
      jsonHref: appendFormat(listHref(state))
    })
  })
}

export function dropEmpty (query: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(query)) {
    if (typeof v === 'string' && v.trim() === '') delete query[k]
  }
}

function appendFormat (href: string): string {
  return href + (href.includes('?') ? '&' : '?') + 'format=json'
}

export default denialList
