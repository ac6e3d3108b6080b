/** Benchmark helper: CPU seconds per thread of this process (Linux /proc), which a shared machine's load barely changes. */
import { readdirSync, readFileSync } from 'node:fs'

/** CPU milliseconds (user + system) of each of this process's threads, by thread name; {} where /proc is absent. */
export function threadCpuMs (): Record<string, number> {
  const out: Record<string, number> = {}
  let tasks: string[]
  try { tasks = readdirSync('/proc/self/task') } catch { return out }
  const tick = 1000 / 100 // USER_HZ is 100 on Linux
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      // The name is in parentheses and may hold spaces: fields are counted after the last ')'.
      const close = stat.lastIndexOf(')')
      const name = stat.slice(stat.indexOf('(') + 1, close)
      const f = stat.slice(close + 2).split(' ')
      const ms = (Number(f[11]) + Number(f[12])) * tick
      const key = tid === String(process.pid) ? 'main' : name
      out[key] = (out[key] ?? 0) + ms
    } catch {
      // The thread ended in between.
    }
  }
  return out
}
