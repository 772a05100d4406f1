/**
 * The playground page's script as the nodes serve it (`GET /page.js`): src/page/main.ts
 * bundled for browsers, with the client from the workspace's sources like the one-node
 * page. Bundled once by the supervisor; public/ holds the page's static files.
 */
import { bundleForBrowser } from '../bundle.ts'
import { demoPath } from '../paths.ts'

export interface PageBundle {
  /** The page's script, one ES module. */
  readonly js: string
}

export async function bundlePage(): Promise<PageBundle> {
  // From the package root, not this module: a bundled supervisor runs from .bundle/.
  return { js: await bundleForBrowser(demoPath('src/page/main.ts')) }
}
