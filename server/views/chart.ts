/**
 * A small bar chart as inline SVG geometry (no script, no inline style: the CSP forbids both).
 * Days without occurrences are filled in; long ranges are bucketed by week, then by month.
 */
import { formatNumber, plural } from './helpers.js'

export interface ChartBar { x: number, y: number, width: number, height: number, title: string }
export interface ChartLabel { x: number, y: number, text: string, anchor: 'start' | 'middle' | 'end' }

export interface ChartModel {
  width: number
  height: number
  plotTop: number
  plotBottom: number
  plotLeft: number
  plotRight: number
  bars: ChartBar[]
  labels: ChartLabel[]
  /** What a screen reader announces instead of the bars. */
  description: string
  empty: boolean
}

const DAY = 86_400_000
const MAX_BARS = 120

function dayStart (t: number): number {
  return Math.floor(t / DAY) * DAY
}

function iso (t: number): string {
  return new Date(t).toISOString().slice(0, 10)
}

interface Bucket { start: number, end: number, count: number }

function bucketize (counts: Map<string, number>, from: number, to: number): { buckets: Bucket[], unit: string } {
  const days = Math.round((to - from) / DAY) + 1
  const buckets: Bucket[] = []
  if (days <= MAX_BARS) {
    for (let t = from; t <= to; t += DAY) buckets.push({ start: t, end: t, count: counts.get(iso(t)) ?? 0 })
    return { buckets, unit: 'day' }
  }
  if (days <= MAX_BARS * 7) {
    for (let t = from; t <= to; t += 7 * DAY) {
      const end = Math.min(t + 6 * DAY, to)
      let n = 0
      for (let d = t; d <= end; d += DAY) n += counts.get(iso(d)) ?? 0
      buckets.push({ start: t, end, count: n })
    }
    return { buckets, unit: 'week' }
  }
  const byMonth = new Map<string, Bucket>()
  for (let t = from; t <= to; t += DAY) {
    const key = iso(t).slice(0, 7)
    const b = byMonth.get(key) ?? { start: t, end: t, count: 0 }
    b.end = t
    b.count += counts.get(iso(t)) ?? 0
    byMonth.set(key, b)
  }
  return { buckets: [...byMonth.values()], unit: 'month' }
}

/**
 * Chart of per-day counts from `from` to `to` (ISO instants or days; the range is widened to whole
 * UTC days). `what` names the counted thing in the description ("occurrences").
 */
export function barChart (perDay: Array<{ day: string, count: number }>, from: string, to: string, what = 'occurrence', minDays = 14): ChartModel {
  const width = 1000
  const height = 190
  const plotLeft = 44
  const plotRight = width - 8
  const plotTop = 12
  const plotBottom = height - 28
  const counts = new Map(perDay.map(d => [d.day, d.count]))
  let start = dayStart(Date.parse(from))
  let end = dayStart(Date.parse(to))
  if (Number.isNaN(start) || Number.isNaN(end)) start = end = dayStart(Date.now())
  if (end < start) [start, end] = [end, start]
  // A short history still gets a readable time axis rather than one wall-to-wall bar.
  if (end - start < (minDays - 1) * DAY) start = end - (minDays - 1) * DAY
  const { buckets, unit } = bucketize(counts, start, end)
  const max = Math.max(0, ...buckets.map(b => b.count))
  const total = buckets.reduce((n, b) => n + b.count, 0)
  const slot = (plotRight - plotLeft) / buckets.length
  const gap = slot > 6 ? Math.max(Math.min(2, slot * 0.2), slot - 36) : 0
  const scale = max > 0 ? (plotBottom - plotTop) / max : 0
  const label = (b: Bucket): string => unit === 'day' ? iso(b.start) : unit === 'week' ? `week of ${iso(b.start)}` : iso(b.start).slice(0, 7)
  const bars: ChartBar[] = buckets.map((b, i) => {
    const h = b.count > 0 ? Math.max(1, b.count * scale) : 0
    return {
      x: round(plotLeft + i * slot + gap / 2),
      y: round(plotBottom - h),
      width: round(Math.max(1, slot - gap)),
      height: round(h),
      title: `${label(b)}: ${plural(b.count, what)}`
    }
  }).filter(b => b.height > 0)
  const peak = buckets.reduce<Bucket | null>((p, b) => (p === null || b.count > p.count ? b : p), null)
  const labels: ChartLabel[] = [
    { x: plotLeft, y: height - 8, text: iso(start), anchor: 'start' },
    { x: plotRight, y: height - 8, text: iso(end), anchor: 'end' },
    { x: plotLeft - 6, y: plotTop + 4, text: formatNumber(max), anchor: 'end' },
    { x: plotLeft - 6, y: plotBottom, text: '0', anchor: 'end' }
  ]
  return {
    width,
    height,
    plotTop,
    plotBottom,
    plotLeft,
    plotRight,
    bars,
    labels,
    description: total === 0
      ? `No ${what}s from ${iso(start)} to ${iso(end)}.`
      : `${plural(total, what)} from ${iso(start)} to ${iso(end)}, shown per ${unit}; the busiest ${unit} was ${peak ? label(peak) : ''} with ${formatNumber(max)}.`,
    empty: total === 0
  }
}

function round (n: number): number {
  return Math.round(n * 10) / 10
}
