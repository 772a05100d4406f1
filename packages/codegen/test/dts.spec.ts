import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../src/index.js'
import { GENERATE_TIMEOUT_MS, TYPECHECK_TIMEOUT_MS } from './timeouts.js'

const fixtures = fileURLToPath(new URL('fixtures/greeter', import.meta.url))
const envelopeSource = fileURLToPath(new URL('../../envelope/src/index.ts', import.meta.url))
let out: string

// A consumer of the generated declarations: what must compile, and (@ts-expect-error) what must not.
const CONSUMER = `
import type { InputOf, MethodDescriptor, OutputOf, ServiceDescriptor } from '@rony/envelope'
import { C_GreeterSayHello, C_HelloRequest, Greeter, demo } from './greeter.js'
import { chat, Room } from './room.js'


const literal: ${'6'}n = 6n
void literal
const id: bigint = C_GreeterSayHello
const ctor: typeof C_GreeterSayHello = Greeter.methods.sayHello.ctor
const service: ServiceDescriptor = Greeter
const method: MethodDescriptor<demo.HelloRequest, demo.HelloReply> = Greeter.methods.sayHello
type SayHello = typeof Greeter.methods.sayHello
const request: InputOf<SayHello> = demo.HelloRequest.create({ Name: 'ada' })
const reply: OutputOf<SayHello> = Greeter.methods.sayHello.output.decode(new Uint8Array())
const bytes: Uint8Array = Greeter.methods.sayHello.input.encode(request).finish()
const mode: 'local' | 'replicated' | 'read' = Greeter.methods.setGreeting.options.mode
const path: string | undefined = Greeter.methods.sayHello.options.rest?.path
const join: chat.JoinRequest = Room.methods.join.input.decode(bytes)
const name: 'Greeter' = Greeter.name
void [id, ctor, service, method, reply, mode, path, join, name, C_HelloRequest]

// @ts-expect-error: a reply is not a request
const wrong: demo.HelloRequest = Greeter.methods.sayHello.output.decode(bytes)
// @ts-expect-error: ids are bigints, not numbers
const asNumber: number = C_GreeterSayHello
// @ts-expect-error: no such method
Greeter.methods.sayGoodbye
// @ts-expect-error: one method's id is not another's
const other: typeof C_GreeterSayHello = Greeter.methods.setGreeting.ctor
void [wrong, asNumber, other]
`

beforeAll(async () => {
  out = await mkdtemp(join(import.meta.dirname, '.out-'))
  await generate({ inputs: [fixtures], out })
  await writeFile(join(out, 'consumer.ts'), CONSUMER)
}, GENERATE_TIMEOUT_MS)
afterAll(() => rm(out, { recursive: true, force: true }))

describe('the generated declarations', () => {
  it('compile under tsc --strict with a consumer, and reject its misuses', {
    timeout: TYPECHECK_TIMEOUT_MS,
  }, () => {
    const program = ts.createProgram([join(out, 'consumer.ts')], {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      verbatimModuleSyntax: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: [],
      noEmit: true,
      skipLibCheck: false,
      paths: { '@rony/envelope': [envelopeSource] },
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const where = diagnostic.file
        ? `${diagnostic.file.fileName.slice(out.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1} `
        : ''
      return where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    })
    expect(diagnostics).toEqual([])
  })
})
