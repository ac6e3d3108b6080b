/** Loading an in-memory copy of a table in the background, a chunk per turn of the event loop. */

/**
 * Run `start`, then `chunk` until it says nothing more follows, yielding to the event loop between
 * chunks so that requests are served meanwhile. Resolves false, quietly, if the database is closed
 * meanwhile (the server stopping during the load); true once loaded.
 */
export async function loadInTurns (start: () => void, chunk: () => boolean): Promise<boolean> {
  try {
    start()
    while (chunk()) await new Promise(resolve => setImmediate(resolve))
    return true
  } catch (err) {
    if (!(err instanceof TypeError) || !/not open/.test(err.message)) throw err
    return false
  }
}
