/**
 * How the compliance suites wait: one `Driver` per kind of clock, so that the same test body
 * runs on the memory network under a virtual clock (time advanced on demand) and on real
 * sockets (real time, polled). Neither ever asserts on elapsed time.
 */
export interface Driver {
  /** Awaits `p`, moving time along as long as it is pending. */
  run<T>(p: Promise<T>): Promise<T>
  /** Waits until `cond()` holds; fails the test after a generous bound. */
  until(cond: () => boolean, what?: string): Promise<void>
  /** Lets in-flight deliveries land (a little simulated or real time). */
  settle(): Promise<void>
}

/** A clock whose time moves only when told, such as `virtualClock()` of `@rony/transport`. */
export interface AdvanceableClock {
  /** Moves time forward by `ms`, running the timers that fall due and the promise jobs they queue. */
  advanceAsync(ms: number): Promise<void>
}

/** Drives a virtual clock: advances it in `step` ms slices while waiting. */
export function virtualDriver(clock: AdvanceableClock, step = 5, maxSteps = 5_000): Driver {
  return {
    async run<T>(p: Promise<T>): Promise<T> {
      let settled = false
      p.then(
        () => {
          settled = true
        },
        () => {
          settled = true
        },
      )
      for (let i = 0; !settled && i < maxSteps; i++) await clock.advanceAsync(step)
      if (!settled) throw new Error(`still pending after ${step * maxSteps} ms of simulated time`)
      return p
    },
    async until(cond, what = 'condition') {
      for (let i = 0; !cond() && i < maxSteps; i++) await clock.advanceAsync(step)
      if (!cond()) throw new Error(`${what} not reached after ${step * maxSteps} simulated ms`)
    },
    async settle() {
      await clock.advanceAsync(step * 20)
    },
  }
}

/** Real time: polls every few ms, up to `limitMs`. */
export function realDriver(limitMs = 10_000): Driver {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
  return {
    async run<T>(p: Promise<T>): Promise<T> {
      let timer: ReturnType<typeof setTimeout> | undefined
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still pending after ${limitMs} ms`)), limitMs)
      })
      try {
        return await Promise.race([p, limit])
      } finally {
        clearTimeout(timer)
      }
    },
    async until(cond, what = 'condition') {
      const deadline = Date.now() + limitMs
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`${what} not reached after ${limitMs} ms`)
        await sleep(5)
      }
    },
    async settle() {
      await sleep(50)
    },
  }
}

/** Reads `n` messages (or to the end, when `n` is undefined) from a stream. */
export async function collect(
  stream: AsyncIterable<Uint8Array>,
  n?: number,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  if (n === 0) return out
  for await (const msg of stream) {
    out.push(msg)
    if (n !== undefined && out.length >= n) break
  }
  return out
}

/** A payload whose bytes encode its index, so reordering or splitting shows. */
export function payload(i: number, size = 16): Uint8Array {
  const out = new Uint8Array(size)
  for (let j = 0; j < size; j++) out[j] = (i * 31 + j) & 0xff
  if (size >= 4) new DataView(out.buffer).setUint32(0, i)
  return out
}

/** Captures the rejection of a promise (or fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}
