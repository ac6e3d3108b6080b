/** 0009: a message's raw JSON stored deflated (messages.packed), which most of a database of distinct denials was. */
import type { Migration } from './migration.js'

// Why: at 1,350 bytes a decoded message was a third of the file (167 of 482 MB for 100,000 distinct
// denials), and each row spilled into an overflow page, written by every new denial. New rows keep
// raw = '' and the text in `packed` (server/util/packed-text.ts: deflated against a preset
// dictionary, about a fifth of the size); rows stored before keep their text in raw and packed NULL.
// ADD COLUMN rewrites nothing: a large database migrates at once, and nothing is lost if a newer
// packing format comes (the format is the first byte of each value).
export const packedMessages: Migration = {
  version: 9,
  name: 'packed-messages',
  up: `
ALTER TABLE messages ADD COLUMN packed BLOB;
`
}
