/** Inline SVG charts for reports: presentation attributes only (no style attribute, no script, no URL). */

/** Escape text for HTML and SVG content and attribute values. */
export function esc (s: unknown): string {
  return String(s ?? '').replace(/[&<>"'`=]/g, c => `&#${c.charCodeAt(0)};`)
}

const round = (n: number): string => (Math.round(n * 10) / 10).toString()

/**
 * A trend sparkline: one bar per day, the reported period in the accent colour and the previous
 * one in grey, split by a dashed line where the reported period starts.
 */
export function sparkline (counts: number[], periodStart: number, label: string, width = 160, height = 28): string {
  const max = Math.max(1, ...counts)
  const n = Math.max(1, counts.length)
  const bw = width / n
  const bars = counts.map((c, i) => {
    if (c === 0) return ''
    const h = Math.max(1, (c / max) * (height - 2))
    return `<rect x="${round(i * bw)}" y="${round(height - h)}" width="${round(Math.max(bw - 0.5, 0.5))}" height="${round(h)}" fill="${i >= periodStart ? '#c2410c' : '#9ca3af'}"/>`
  }).join('')
  const split = periodStart > 0 && periodStart < n ? `<line x1="${round(periodStart * bw)}" y1="0" x2="${round(periodStart * bw)}" y2="${height}" stroke="#6b7280" stroke-width="0.6" stroke-dasharray="2 2"/>` : ''
  return `<svg class="wr-spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>` +
    `<line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" stroke="#d1d5db" stroke-width="1"/>${split}${bars}</svg>`
}

/** A labelled bar chart of occurrences per day (first and last day, and the maximum, written out). */
export function dayChart (days: string[], counts: number[], periodStart: number, label: string, width = 640, height = 140): string {
  const left = 36
  const bottom = 18
  const plotW = width - left - 4
  const plotH = height - bottom - 8
  const max = Math.max(1, ...counts)
  const n = Math.max(1, counts.length)
  const bw = plotW / n
  const bars = counts.map((c, i) => {
    if (c === 0) return ''
    const h = Math.max(1, (c / max) * plotH)
    return `<rect x="${round(left + i * bw)}" y="${round(8 + plotH - h)}" width="${round(Math.max(bw - 1, 0.8))}" height="${round(h)}" fill="${i >= periodStart ? '#c2410c' : '#9ca3af'}"><title>${esc(days[i])}: ${c}</title></rect>`
  }).join('')
  const split = periodStart > 0 && periodStart < n
    ? `<line x1="${round(left + periodStart * bw)}" y1="4" x2="${round(left + periodStart * bw)}" y2="${8 + plotH}" stroke="#374151" stroke-width="0.8" stroke-dasharray="3 3"/>`
    : ''
  const text = (x: number, y: number, s: string, anchor: string): string => `<text x="${round(x)}" y="${round(y)}" font-size="10" fill="#374151" text-anchor="${anchor}">${esc(s)}</text>`
  return `<svg class="wr-chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}"><title>${esc(label)}</title>` +
    `<line x1="${left}" y1="${8 + plotH}" x2="${width - 4}" y2="${8 + plotH}" stroke="#6b7280" stroke-width="1"/>` +
    text(left - 4, 14, String(max), 'end') + text(left - 4, 8 + plotH, '0', 'end') +
    split + bars +
    (days.length > 0 ? text(left, height - 4, days[0]!, 'start') + text(width - 4, height - 4, days[days.length - 1]!, 'end') : '') +
    '</svg>'
}
