/** Which files an import reads: a file, or the import files under a directory (links followed, special files refused). */
import { createReadStream, type Dirent, type Stats } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import type { InputItem, RejectedRecord } from '../authz/types.js'
import { readStreamRecords } from './detect.js'

/**
 * Read in a directory: JSON, NDJSON and their gzip (CloudTrail delivers .json.gz). Text files (.txt,
 * .log) are read when named, not picked up from a directory, where they are mostly notes and READMEs.
 */
export const IMPORT_EXTENSIONS = ['.json', '.jsonl', '.ndjson', '.json.gz', '.jsonl.gz', '.ndjson.gz'] as const

/**
 * Every file to read for `PATH`: the file itself, or the import files under a directory, sorted.
 * Only regular files are read: a FIFO or a device (`/dev/zero`) would block or never end. Given
 * as PATH it throws; met in a directory it is refused through `onRefused` (by default, thrown).
 * Symbolic links are followed, to files and to directories; a link back to a directory being
 * read (a loop) is refused, and a file or directory reached twice is read once.
 */
export async function expandPath (p: string, onRefused?: (r: RejectedRecord) => void): Promise<string[]> {
  const st = await stat(p)
  if (st.isFile()) return [p]
  // The message is the reason alone: callers report it beside the path (as for ENOENT).
  if (!st.isDirectory()) throw new Error(`${fileKind(st)}, not a regular file or directory: not read`)
  const refuse = onRefused ?? ((r: RejectedRecord) => { throw new Error(`${r.source}: ${r.reason}`) })
  const isImport = (name: string): boolean => IMPORT_EXTENSIONS.some(ext => name.toLowerCase().endsWith(ext))
  // Real path → the paths it was found under (in walk order), and whether through a link: a file is
  // read once, under its own name when the tree has it too (`latest.json -> 2026-11.json`).
  const files = new Map<string, Array<{ path: string, linked: boolean }>>()
  const seenDirs = new Set<string>()
  const walk = async (dir: string, realDir: string, ancestors: ReadonlySet<string>, viaLink: boolean): Promise<void> => {
    seenDirs.add(realDir)
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    for (const e of entries) {
      const full = path.join(dir, e.name)
      let kind: Dirent | Stats = e
      let real = path.join(realDir, e.name)
      if (e.isSymbolicLink()) {
        try {
          kind = await stat(full)
          real = await realpath(full)
        } catch {
          if (isImport(e.name)) refuse({ source: full, line: 0, reason: 'a broken symbolic link: not read' })
          continue
        }
      }
      if (kind.isDirectory()) {
        if (ancestors.has(real)) refuse({ source: full, line: 0, reason: `a symbolic link loop (it leads back to ${real}): not followed` })
        else if (!seenDirs.has(real)) await walk(full, real, new Set([...ancestors, real]), viaLink || e.isSymbolicLink())
      } else if (!isImport(e.name)) {
        continue
      } else if (kind.isFile()) {
        const list = files.get(real) ?? []
        list.push({ path: full, linked: viaLink || e.isSymbolicLink() })
        files.set(real, list)
      } else {
        refuse({ source: full, line: 0, reason: `${fileKind(kind)}, not a regular file: not read` })
      }
    }
  }
  const real = await realpath(p)
  await walk(p, real, new Set([real]), false)
  return [...files.values()].map(list => (list.find(f => !f.linked) ?? list[0]!).path).sort()
}

/** What a non-regular file is, for a refusal a person understands. */
function fileKind (st: Dirent | Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isSocket()) return 'a socket'
  return 'a file of an unknown kind'
}

/** Records from a file on disk. */
export function readFileRecords (file: string, source = file): AsyncGenerator<InputItem> {
  return readStreamRecords(createReadStream(file, { highWaterMark: 1024 * 1024 }), source)
}
