import { isCodedError, type Startable } from '@rony/interface'
import { afterEach, describe, expect, it } from 'vitest'

/** One component under test, with the probes the suite observes it through. */
export interface StartableSubject {
  /** A new component, not started. */
  readonly component: Startable
  /**
   * Whether the component holds its resources right now, observed from outside: for a
   * server, whether its port is bound ({@link portInUse}); for an in-memory component,
   * whether a peer reaches it. Called before start, while running and after stop.
   */
  isRunning(): boolean | Promise<boolean>
  /**
   * Starts a call that stays pending while the component runs (a dial to a silent peer, a
   * read of a stream nobody writes to, a proposal that cannot commit) and resolves, once
   * that call is under way, to `{ call }`: its promise. The suite calls it on the started
   * component, then `stop()`, and expects `call` to reject with code `RONY_ERR_STOPPED`.
   * Declare `undefined` when the component has no such call: the test is then skipped
   * with that note.
   */
  readonly pendingCall: (() => Promise<{ readonly call: Promise<unknown> }>) | undefined
  /** Releases what the setup made besides the component (peers, temporary files). */
  teardown?(): void | Promise<void>
}

/** What a component hands {@link startableSuite}. */
export interface StartableSuiteSetup {
  /** A fresh subject for each test. */
  create(): StartableSubject | Promise<StartableSubject>
  /**
   * What `start()` after `stop()` does, as the component documents it: `'restarts'` (it
   * runs again) or `'rejects'` (it rejects with code `RONY_ERR_STOPPED`, as does a
   * `start()` made while the stop is running).
   */
  readonly restart: 'restarts' | 'rejects'
}

/**
 * Calls `start()` or `stop()` as the contract allows them to be: synchronous (returning, or
 * throwing) or asynchronous; always a promise.
 */
async function call(component: Startable, method: 'start' | 'stop'): Promise<void> {
  await component[method]()
}

/** Settles `p` into a value to assert on, without an unhandled rejection in between. */
function outcome(p: Promise<unknown>): Promise<{ ok: true } | { ok: false; error: unknown }> {
  return p.then(
    () => ({ ok: true }) as const,
    (error: unknown) => ({ ok: false, error }) as const,
  )
}

/**
 * Registers the {@link Startable} compliance tests: every component (gateways, transports,
 * gossip, raft, the edge, yours) runs them from one spec file. The tests use only
 * `start()`, `stop()` and the subject's probes; a component that declares no pending call
 * has that test skipped by name.
 *
 * @param name - Shown in the test names: `Startable compliance: <name>`.
 * @param setup - Builds a fresh subject per test and declares the restart behaviour.
 */
export function startableSuite(name: string, setup: StartableSuiteSetup): void {
  describe(`Startable compliance: ${name}`, () => {
    let subject: StartableSubject | undefined
    const running = (): Promise<boolean> => Promise.resolve(subject!.isRunning())

    async function fresh(): Promise<Startable> {
      subject = await setup.create()
      return subject.component
    }

    afterEach(async () => {
      const s = subject
      subject = undefined
      if (s === undefined) return
      try {
        await call(s.component, 'stop')
      } finally {
        await s.teardown?.()
      }
    })

    it('is not running before start()', async () => {
      await fresh()
      expect(await running()).toBe(false)
    })

    it('concurrent start() calls each resolve only once the component runs', async () => {
      const c = await fresh()
      let firstDone = false
      const first = call(c, 'start').then(() => {
        firstDone = true
      })
      await call(c, 'start')
      // A probe may be slower than the start it races, so check the order as well: the
      // second call shares the first one's outcome, it cannot come before it.
      expect(firstDone, 'the first start() had resolved when the second did').toBe(true)
      expect(await running(), 'running when the second start() resolves').toBe(true)
      await first
    })

    it('a second start() while running is a no-op: one stop() releases everything', async () => {
      const c = await fresh()
      await call(c, 'start')
      await call(c, 'start')
      expect(await running()).toBe(true)
      await call(c, 'stop')
      expect(await running()).toBe(false)
    })

    it('stop() before start() is a no-op, and start() then works', async () => {
      const c = await fresh()
      await call(c, 'stop')
      expect(await running()).toBe(false)
      await call(c, 'start')
      expect(await running()).toBe(true)
    })

    it('stop() twice, concurrently and again, resolves with everything released', async () => {
      const c = await fresh()
      await call(c, 'start')
      await Promise.all([call(c, 'stop'), call(c, 'stop')])
      expect(await running()).toBe(false)
      await call(c, 'stop')
      expect(await running()).toBe(false)
    })

    it('stop() during start() resolves once everything is released', async () => {
      const c = await fresh()
      const starting = outcome(call(c, 'start'))
      await call(c, 'stop')
      expect(await running(), 'running after stop() resolved').toBe(false)
      // The start either completed before the stop or was cut short by it.
      const started = await starting
      if (!started.ok)
        expect(isCodedError(started.error, 'RONY_ERR_STOPPED'), String(started.error)).toBe(true)
      expect(await running(), 'running once start() settled').toBe(false)
    })

    if (setup.restart === 'restarts') {
      it('start() after stop() runs again (declared: restarts)', async () => {
        const c = await fresh()
        await call(c, 'start')
        await call(c, 'stop')
        await call(c, 'start')
        expect(await running()).toBe(true)
        await call(c, 'stop')
        expect(await running()).toBe(false)
      })
    } else {
      it('start() after or during stop() rejects with RONY_ERR_STOPPED (declared: rejects)', async () => {
        const c = await fresh()
        await call(c, 'start')
        const stopping = call(c, 'stop')
        const during = await outcome(call(c, 'start'))
        await stopping
        const after = await outcome(call(c, 'start'))
        for (const result of [during, after]) {
          expect(result.ok).toBe(false)
          if (!result.ok)
            expect(isCodedError(result.error, 'RONY_ERR_STOPPED'), String(result.error)).toBe(true)
        }
        expect(await running()).toBe(false)
      })
    }

    it('stop() rejects a pending call with RONY_ERR_STOPPED', async (context) => {
      const c = await fresh()
      const pendingCall = subject!.pendingCall
      if (pendingCall === undefined) return context.skip('declared: no pending call')
      await call(c, 'start')
      const { call: inFlight } = await pendingCall()
      let result: Awaited<ReturnType<typeof outcome>> | undefined
      const settled = outcome(inFlight).then((r) => {
        result = r
      })
      await call(c, 'stop')
      await new Promise((resolve) => setTimeout(resolve, 0)) // one turn for its callbacks
      expect(result, 'the pending call had settled when stop() resolved').toBeDefined()
      await settled
      if (result === undefined) return
      expect(result.ok, 'the pending call rejected').toBe(false)
      if (!result.ok)
        expect(isCodedError(result.error, 'RONY_ERR_STOPPED'), String(result.error)).toBe(true)
    })
  })
}
