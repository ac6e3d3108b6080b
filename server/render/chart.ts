/**
 * The one chart module: bar charts of counts per day (or per week or month) as SVG geometry, drawn by
 * the `chart-svg` partial for the dashboard, the denial page and the reports (the page and the
 * standalone file). No script, no inline style (the CSP forbids both): each shape carries a class,
 * styled by app.css in the app and by the report stylesheet in reports.
 */
import { formatNumber, plural } from './helpers.js'

export interface ChartBar { x: number, y: number, width: number, height: number, title: string, className: string }
export interface ChartLabel { x: number, y: number, text: string, anchor: 'start' | 'middle' | 'end' }
export interface ChartLine { x1: number, y1: number, x2: number, y2: number, className: string }

/** Where a chart is drawn: its size and the plot inside it. */
export interface ChartFrame {
  /** Class of the <svg>: chart-svg (scaled to its container), wr-chart or wr-spark (report charts). */
  className: string
  width: number
  height: number
  /** Write width and height on the <svg> (sparklines keep their size on screen and paper). */
  fixedSize: boolean
  /**
   * Stretch to the container (preserveAspectRatio="none"): the plot fills the width at any screen size,
   * and the axis labels are drawn in HTML around it (`axis`), since SVG text would be stretched too.
   */
  stretch: boolean
  plotTop: number
  plotBottom: number
  plotLeft: number
  plotRight: number
}

export interface ChartModel extends ChartFrame {
  lines: ChartLine[]
  bars: ChartBar[]
  labels: ChartLabel[]
  /** What a screen reader announces instead of the bars (also the chart's tooltip). */
  description: string
  empty: boolean
  /** A stretched chart's axis labels, drawn in HTML: the largest count (null when there is none) and the first and last day. */
  axis: { max: string | null, first: string, last: string } | null
}

interface Frame extends ChartFrame {
  /** Space between bars, from the width of one bar's slot. */
  gap: (slot: number) => number
}

interface Column { count: number, title: string, before?: boolean }

/** Bars for columns spread evenly over the plot, scaled so the largest fills it; empty columns get none. */
function layoutBars (columns: Column[], f: Frame): ChartBar[] {
  const max = Math.max(0, ...columns.map(c => c.count))
  const slot = (f.plotRight - f.plotLeft) / Math.max(1, columns.length)
  const gap = f.gap(slot)
  const scale = max > 0 ? (f.plotBottom - f.plotTop) / max : 0
  return columns.map((c, i) => {
    const h = c.count > 0 ? Math.max(1, c.count * scale) : 0
    return {
      x: round(f.plotLeft + i * slot + gap / 2),
      y: round(f.plotBottom - h),
      width: round(Math.max(1, slot - gap)),
      height: round(h),
      title: c.title,
      className: c.before === true ? 'chart-bar chart-bar-before' : 'chart-bar'
    }
  }).filter(b => b.height > 0)
}

/** The dashed line where the reported period starts (none when it starts at the first or after the last column). */
function splitLine (columns: number, periodStart: number, f: Frame, top: number): ChartLine[] {
  if (periodStart <= 0 || periodStart >= columns) return []
  const x = round(f.plotLeft + periodStart * (f.plotRight - f.plotLeft) / columns)
  return [{ x1: x, y1: top, x2: x, y2: f.plotBottom, className: 'chart-split' }]
}

/** The labels of a stretched chart: no "0" at the top of an empty chart (its maximum is no count). */
function htmlAxis (first: string, last: string, max: number): ChartModel['axis'] {
  return { max: max > 0 ? formatNumber(max) : null, first, last }
}

/** The model of a chart drawn in `f` (its gap rule is layout only). */
function chartOf (f: Frame, parts: Omit<ChartModel, keyof ChartFrame>): ChartModel {
  const { gap: _, ...frame } = f
  return { ...frame, ...parts }
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
 * UTC days), for the app's pages. `what` names the counted thing in the description ("occurrences").
 */
export function barChart (perDay: Array<{ day: string, count: number }>, from: string, to: string, what = 'occurrence', minDays = 14): ChartModel {
  // Stretched to the page's width; the labels are HTML (axis), so the plot fills the whole box.
  const frame: Frame = {
    className: 'chart-svg',
    width: 1000,
    height: 200,
    fixedSize: false,
    stretch: true,
    plotLeft: 0,
    plotRight: 1000,
    plotTop: 4,
    plotBottom: 200,
    gap: slot => slot > 6 ? Math.max(Math.min(2, slot * 0.2), slot - 36) : 0
  }
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
  const label = (b: Bucket): string => unit === 'day' ? iso(b.start) : unit === 'week' ? `week of ${iso(b.start)}` : iso(b.start).slice(0, 7)
  const peak = buckets.reduce<Bucket | null>((p, b) => (p === null || b.count > p.count ? b : p), null)
  return chartOf(frame, {
    lines: [
      ...(max > 0 ? [{ x1: frame.plotLeft, y1: frame.plotTop, x2: frame.plotRight, y2: frame.plotTop, className: 'chart-grid' }] : []),
      { x1: frame.plotLeft, y1: frame.plotBottom - 0.5, x2: frame.plotRight, y2: frame.plotBottom - 0.5, className: 'chart-axis' }
    ],
    bars: layoutBars(buckets.map(b => ({ count: b.count, title: `${label(b)}: ${plural(b.count, what)}` })), frame),
    labels: [],
    axis: htmlAxis(iso(start), iso(end), max),
    description: total === 0
      ? `No ${what}s from ${iso(start)} to ${iso(end)}.`
      : `${plural(total, what)} from ${iso(start)} to ${iso(end)}, shown per ${unit}; the busiest ${unit} was ${peak ? label(peak) : ''} with ${formatNumber(max)}.`,
    empty: total === 0
  })
}

/**
 * A report's chart of occurrences per day (`days[i]` has `counts[i]`), with the days before
 * `periodStart` (the previous period) drawn apart and a dashed line where the period starts.
 */
export function periodChart (days: string[], counts: number[], periodStart: number, label: string): ChartModel {
  // The report's width, on screen and on paper: stretched, with its labels in HTML (axis).
  const frame: Frame = { className: 'wr-chart', width: 1000, height: 140, fixedSize: false, stretch: true, plotLeft: 0, plotRight: 1000, plotTop: 4, plotBottom: 140, gap: slot => Math.min(2, slot * 0.2) }
  const max = Math.max(0, ...counts)
  return chartOf(frame, {
    lines: [
      { x1: frame.plotLeft, y1: frame.plotBottom - 0.5, x2: frame.plotRight, y2: frame.plotBottom - 0.5, className: 'chart-axis' },
      ...splitLine(counts.length, periodStart, frame, 0)
    ],
    bars: layoutBars(counts.map((c, i) => ({ count: c, title: `${days[i] ?? ''}: ${formatNumber(c)}`, before: i < periodStart })), frame),
    labels: [],
    axis: days.length > 0 ? htmlAxis(days[0]!, days[days.length - 1]!, max) : null,
    description: label,
    empty: max === 0
  })
}

/** A report's trend sparkline: one bar per day, no labels, the previous period drawn apart. */
export function sparkline (days: string[], counts: number[], periodStart: number, label: string): ChartModel {
  const frame: Frame = { className: 'wr-spark', width: 160, height: 28, fixedSize: true, stretch: false, plotLeft: 0, plotRight: 160, plotTop: 2, plotBottom: 28, gap: slot => Math.min(1, slot * 0.2) }
  return chartOf(frame, {
    lines: [
      { x1: 0, y1: frame.height - 0.5, x2: frame.width, y2: frame.height - 0.5, className: 'chart-axis' },
      ...splitLine(counts.length, periodStart, frame, 0)
    ],
    bars: layoutBars(counts.map((c, i) => ({ count: c, title: `${days[i] ?? ''}: ${formatNumber(c)}`, before: i < periodStart })), frame),
    labels: [],
    axis: null,
    description: label,
    empty: counts.every(c => c === 0)
  })
}

function round (n: number): number {
  return Math.round(n * 10) / 10
}
