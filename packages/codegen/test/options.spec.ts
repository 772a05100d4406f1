import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CodegenError, render } from '../src/index.js'
import { GENERATE_TIMEOUT_MS } from './timeouts.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rony-gen-options-'))
}, GENERATE_TIMEOUT_MS)
afterAll(() => rm(dir, { recursive: true, force: true }))

/** Renders one .proto written from `body` (after the syntax line and the options import). */
async function renderProto(name: string, body: string) {
  const file = join(dir, name)
  await writeFile(file, `syntax = "proto3";\nimport "rony/options.proto";\n${body}\n`)
  return render([file])
}

async function failure(name: string, body: string): Promise<CodegenError> {
  const error = await renderProto(name, body).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(CodegenError)
  return error as CodegenError
}

const MESSAGES = 'message Req { string Name = 1; }\nmessage Res {}'

describe('method options', { timeout: GENERATE_TIMEOUT_MS }, () => {
  it('reads repeated bind params and the unqualified option spelling', async () => {
    const [file] = await renderProto(
      'repeated.proto',
      `package rony;\n${MESSAGES}\nservice S { rpc M (Req) returns (Res) {
        option (rony_rest) = { method: "post" path: "/m/:a/:b" bind_path_param: "a=A" bind_path_param: "b=B" };
      } }`,
    )
    expect(file?.js).toContain(
      'rest: Object.freeze({ method: "POST", path: "/m/:a/:b", bindPathParams: ["a=A","b=B"], bindQueryParams: [], jsonEncode: false })',
    )
  })

  it('rejects a mode it does not know, naming the method and the file', async () => {
    const error = await failure(
      'mode.proto',
      `package p;\n${MESSAGES}\nservice S { rpc M (Req) returns (Res) { option (rony.rony_mode) = { mode: FAST }; } }`,
    )
    expect(error.code).toBe('RONY_ERR_CODEGEN_OPTION')
    expect(error.message).toContain(
      'S.M: rony_mode.mode is "FAST"; expected one of LOCAL, REPLICATED, READ',
    )
    expect(error.file).toBe(join(dir, 'mode.proto'))
  })

  it('rejects a REST binding without a path', async () => {
    const error = await failure(
      'rest.proto',
      `package p;\n${MESSAGES}\nservice S { rpc M (Req) returns (Res) { option (rony.rony_rest) = { method: "GET" }; } }`,
    )
    expect(error.code).toBe('RONY_ERR_CODEGEN_OPTION')
    expect(error.message).toContain('rony_rest.path must be a non-empty string')
  })
})

describe('name conflicts', { timeout: GENERATE_TIMEOUT_MS }, () => {
  it('rejects a method id that collides with a message id', async () => {
    const error = await failure(
      'ids.proto',
      `package p;\n${MESSAGES}\nmessage SM {}\nservice S { rpc M (Req) returns (Res); }`,
    )
    expect(error.code).toBe('RONY_ERR_CODEGEN_CONFLICT')
    expect(error.message).toContain('C_SM is defined twice')
  })

  it("rejects a descriptor that would shadow the module's namespace export", async () => {
    const error = await failure(
      'shadow.proto',
      `package demo;\n${MESSAGES}\nservice demo { rpc M (Req) returns (Res); }`,
    )
    expect(error.code).toBe('RONY_ERR_CODEGEN_CONFLICT')
    expect(error.message).toContain('service demo')
  })
})
