/**
 * `@rony/testing/storage`: the compliance suite of the `LogStorage` contract of
 * `@rony/interface`, the durable log, term and vote of a Raft node. `@rony/raft`'s
 * `memoryStorage()` and `fileStorage()` run it; so can a storage of yours (a database, a
 * cloud disk) before you hand it to `raft({ storage })`. Depends only on `@rony/interface`
 * and `vitest`.
 *
 * @example
 * ```ts
 * // test/storage.spec.ts
 * import { storageContract } from '@rony/testing/storage'
 * import { myStorage } from '../src/index.js'
 *
 * storageContract('myStorage', {
 *   segmented: false, // it writes no WAL segments
 *   async create() {
 *     const location = await freshLocation()
 *     return {
 *       storage: myStorage(location),
 *       restart: () => myStorage(location), // what a restarted process opens
 *     }
 *   },
 * })
 * ```
 *
 * @module
 */

export { entries, entry, plain, snapshot } from './builders.js'
export { type StorageTarget, type StorageUnderTest, storageContract } from './suite.js'
