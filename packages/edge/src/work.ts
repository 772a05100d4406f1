/**
 * The edge's running work (handlers, and reply batches until they are sent), for a graceful
 * stop: `draining` turns new requests away, `whenIdle` waits for the rest. Counted per
 * start, so work that outlived a timed-out stop no longer delays the next one.
 */
export class WorkCounter {
  /** Work running now, across all origins. */
  running = 0
  /** Set by `stop()`: new requests are answered E02 while running ones finish. */
  draining = false
  private generation = 0
  private onIdle: (() => void) | undefined

  /** Starts a new generation of work: called by `start()`. */
  reset(): void {
    this.generation++
    this.running = 0
    this.draining = false
  }

  /** Counts one unit of work; give the result to `end`. */
  begin(): number {
    this.running++
    return this.generation
  }

  end(generation: number): void {
    if (generation === this.generation && --this.running === 0 && this.onIdle) this.onIdle()
  }

  /** Resolves once no work runs, or after `timeout` ms; true when idle. */
  whenIdle(timeout: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = undefined
        resolve(false)
      }, timeout)
      this.onIdle = () => {
        clearTimeout(timer)
        this.onIdle = undefined
        resolve(true)
      }
    })
  }
}
