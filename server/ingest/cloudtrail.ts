/** CloudTrail containers: a delivered log file ({"Records": [...]}) and `aws cloudtrail lookup-events` output ({"Events": [...]}), opened into their events. */
import { Limits } from '../authz/parse.js'
import type { InputItem } from '../authz/types.js'
import { DEPTH_REASON, reject, TOO_LARGE_REASON } from './errors.js'
import { nestingExceeds, valueNestingExceeds } from './nesting.js'

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The events of a CloudTrail container, or null when `value` is not one. Each event is a record of its own. */
export function containerRecords (value: unknown, textBytes: number, deep: boolean, source: string, line: number): InputItem[] | null {
  if (!isObj(value)) return null
  if (Array.isArray(value.Records) && (value.Records.length === 0 || (isObj(value.Records[0]) && 'eventVersion' in value.Records[0]))) {
    const bytes = Math.ceil(textBytes / Math.max(value.Records.length, 1))
    return value.Records.map((e): InputItem => deep && valueNestingExceeds(e, Limits.maxDepth)
      ? reject(source, line, DEPTH_REASON)
      : { kind: 'record', record: { source, line, index: 0, value: e, bytes } })
  }
  if (Array.isArray(value.Events) && value.Events.some(e => isObj(e) && 'CloudTrailEvent' in e)) {
    return value.Events.map((e): InputItem => lookupEvent(e, source, line))
  }
  // A digest file (CloudTrail-Digest/) proves the logs' integrity and holds no events.
  if (typeof value.digestStartTime === 'string' && 'logFiles' in value) return []
  return null
}

/** One element of lookup-events' Events: the event is the JSON text in CloudTrailEvent. */
function lookupEvent (e: unknown, source: string, line: number): InputItem {
  if (!isObj(e) || typeof e.CloudTrailEvent !== 'string') return reject(source, line, 'a lookup-events entry without a "CloudTrailEvent" string (field CloudTrailEvent)')
  const text = e.CloudTrailEvent
  if (text.length > Limits.maxRecordBytes) return reject(source, line, TOO_LARGE_REASON)
  if (nestingExceeds(Buffer.from(text), Limits.maxDepth)) return reject(source, line, DEPTH_REASON)
  try {
    return { kind: 'record', record: { source, line, index: 0, value: JSON.parse(text), bytes: text.length } }
  } catch (err) {
    return reject(source, line, `CloudTrailEvent is not valid JSON: ${(err as Error).message} (field CloudTrailEvent)`)
  }
}
