/**
 * `@rony/testing/startable`: the {@link Startable} compliance suite. Every component runs it
 * from one spec file, handing it a fresh, unstarted component and a probe of whether the
 * component holds its resources; the suite checks the contract of `@rony/interface`:
 * concurrent starts resolve only once running, a second start and an early or second stop
 * are no-ops, a stop during start releases everything, start after stop restarts or
 * rejects with `RONY_ERR_STOPPED` as declared, and stop rejects pending calls with
 * `RONY_ERR_STOPPED`. Depends only on `@rony/interface`, `vitest` and `node:net`/`node:dgram`.
 *
 * @example
 * ```ts
 * // test/startable.spec.ts of a TCP server component
 * import { freePort, portInUse, startableSuite } from '@rony/testing/startable'
 * import { myServer } from '../src/index.js'
 *
 * startableSuite('my server', {
 *   restart: 'restarts',
 *   async create() {
 *     const port = await freePort()
 *     return {
 *       component: myServer({ host: '127.0.0.1', port }),
 *       isRunning: () => portInUse(port),
 *       pendingCall: undefined, // it has no call that waits
 *     }
 *   },
 * })
 * ```
 *
 * @module
 */

export { freePort, type PortProtocol, portInUse } from './ports.js'
export { type StartableSubject, type StartableSuiteSetup, startableSuite } from './suite.js'
