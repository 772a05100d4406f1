import { defineConfig } from 'tsup'
import base from '../../tsup.base.ts'

// The CLI is a second entry, run by bin/rony.js; it runs on Node only.
export default defineConfig({ ...base, entry: ['src/index.ts', 'src/cli.ts'], platform: 'node' })
