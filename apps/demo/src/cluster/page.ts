/**
 * The page, as every node serves it on its HTTP port: `GET /` is `public/index.html`,
 * `GET /page.js` the script the supervisor bundled once at start, and `GET /<name>` any
 * other file at the top of `public/` (style.css, icons). Everything else goes to the node's
 * HTTP and WebSocket gateways.
 */
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join } from 'node:path'

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
}

/** A top-level file name: no directories, no dot files (nothing outside `public/`). */
const FILE_NAME = /^\/([\w-][\w.-]*)$/

/**
 * Serves the request when it is a GET or HEAD for the page or one of its files; returns
 * false (untouched) otherwise.
 */
export function pageHandler(
  publicDir: string,
  pageScript: string,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const path = (req.url ?? '/').split('?')[0]!
    let file: string
    if (path === '/') file = join(publicDir, 'index.html')
    else if (path === '/page.js') file = pageScript
    else {
      const name = FILE_NAME.exec(path)?.[1]
      if (name === undefined || TYPES[extname(name)] === undefined) return false
      file = join(publicDir, name)
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          'cache-control': 'no-cache',
        })
        res.end(req.method === 'HEAD' ? undefined : body)
      },
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n'),
    )
    return true
  }
}
