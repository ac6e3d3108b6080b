/** Reading import inputs into records: the entry points of ingest/. */
export { expandPath, IMPORT_EXTENSIONS, readFileRecords } from './files.js'
export { readStreamRecords, readTextRecords, transcodeUtf16 } from './detect.js'
export { MAX_DOCUMENT_BYTES, nestingExceeds } from './scan.js'
