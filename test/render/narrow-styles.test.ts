/**
 * The narrow-screen rules of the stylesheets change no text's color: test/browser/pages.test.ts runs
 * axe's color-contrast rule at 1400 px only (NARROW_SKIP), which is sound only while this holds. A
 * rule inside a width media query may color ::before and ::after content (axe does not check it);
 * anything else that sets a color, a background, an opacity, a filter or a blend mode fails here:
 * then run color contrast at 390 px too.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { viewsDir } from '../../server/paths.js'

/** The body of each `@media` block whose condition names a width, with its condition. */
function widthMediaBlocks (css: string): Array<{ condition: string, body: string }> {
  const out: Array<{ condition: string, body: string }> = []
  const re = /@media([^{]*)\{/g
  for (let m = re.exec(css); m !== null; m = re.exec(css)) {
    let depth = 1
    let i = re.lastIndex
    for (; i < css.length && depth > 0; i++) depth += css[i] === '{' ? 1 : css[i] === '}' ? -1 : 0
    if (/width/.test(m[1]!)) out.push({ condition: m[1]!.trim(), body: css.slice(re.lastIndex, i - 1) })
  }
  return out
}

/** `selector { declarations }` rules of a block, comments removed. */
function rules (body: string): Array<{ selector: string, declarations: string }> {
  const text = body.replace(/\/\*[\s\S]*?\*\//g, '')
  return [...text.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map(m => ({ selector: m[1]!.trim(), declarations: m[2]! }))
}

const COLORING = /(^|;)\s*(color|background(-color|-image)?|opacity|filter|mix-blend-mode)\s*:/

/** Rules in width media queries that could change a text's contrast, as "file: condition: selector". */
function narrowColoring (file: string, css: string): string[] {
  const found: string[] = []
  for (const { condition, body } of widthMediaBlocks(css)) {
    for (const r of rules(body)) {
      if (!COLORING.test(r.declarations)) continue
      const selectors = r.selector.split(',').map(s => s.trim())
      if (selectors.every(s => /::?(before|after)$/.test(s))) continue
      found.push(`${file}: ${condition}: ${r.selector}`)
    }
  }
  return found
}

t.test('no narrow-screen rule of the stylesheets colors text (axe checks contrast at 1400 px only)', async t => {
  const sheets = ['static/app.css', 'reports/report.css']
  for (const sheet of sheets) {
    const css = readFileSync(path.join(viewsDir(), sheet), 'utf8')
    t.ok(widthMediaBlocks(css).length > 0, `${sheet} has narrow-screen rules to check`)
    t.same(narrowColoring(sheet, css), [], `${sheet}: only ::before and ::after content is colored in width media queries`)
  }
})

t.test('the check sees a color, a background or an opacity set in a width media query', async t => {
  const css = `a { color: red }
@media (max-width: 640px) {
  td[data-label]::before { color: #4b5563; }
  /* a comment { color: red } */
  .x, .y::before { font-weight: 600; background: #000; }
  .z { opacity: .5 }
}
@media print { .p { color: black } }
@media screen and (max-width: 900px) { .w { border-color: red; } .v { color: gray } }`
  t.same(narrowColoring('t.css', css), ['t.css: (max-width: 640px): .x, .y::before', 't.css: (max-width: 640px): .z', 't.css: screen and (max-width: 900px): .v'])
})
