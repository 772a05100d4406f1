#!/usr/bin/env node
// The `rony` command: `rony gen <proto dir or files...> --out <dir>` (see @rony/codegen's README).
import { main } from '../dist/cli.js'

process.exitCode = await main(process.argv.slice(2))
