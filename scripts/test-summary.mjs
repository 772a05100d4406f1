// Sums the vitest JSON reports that each package's `test` task and the root's `test:readmes`
// write (turbo restores them on a cache hit) and prints one closing line:
// "Tests: N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const REPORT = '.test-results.json'
const root = new URL('..', import.meta.url).pathname
const totals = { passed: 0, failed: 0, skipped: 0 }
let reports = 0
// Each package's and app's report, the root's README-examples report (scripts/) and bench/'s.
const files = [join(root, 'scripts', REPORT), join(root, 'bench', REPORT)]
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) files.push(join(root, group, name, REPORT))
}
for (const file of files) {
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, 'utf8'))
  totals.passed += report.numPassedTests
  totals.failed += report.numFailedTests
  totals.skipped += report.numPendingTests + (report.numTodoTests ?? 0)
  reports++
}
if (reports === 0) {
  console.error(`no ${REPORT} found: run the test task first`)
  process.exit(1)
}
console.log(`Tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`)
process.exit(totals.failed > 0 ? 1 : 0)
