/** Bidirectional-text controls made visible, so a stored value cannot reorder what people read. */

// The Unicode Bidi_Control property is exactly U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069:
// the characters that embed, override or isolate text direction (e.g. U+202E turns "gpj.exe" around).
const BIDI_CONTROL = /\p{Bidi_Control}/gu

/**
 * Replace every bidi control with its `\uXXXX` escape. For output read by people (HTML pages and
 * reports, Markdown, CSV), never for JSON, which keeps the data exact. Inside JSON text shown in those
 * outputs (a suggested policy), `\uXXXX` is JSON's own escape, so copying it still gives the same value.
 */
export function showBidiControls (text: string): string {
  return text.replace(BIDI_CONTROL, c => `\\u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`)
}
