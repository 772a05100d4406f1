/**
 * @packageDocumentation
 *
 * `rony gen`: from .proto files to one ES module + `.d.ts` each, holding protobufjs's
 * static messages, `C_<Message>` and `C_<Service><Method>` constructor ids (CRC-64/GO-ISO,
 * identical to the Go framework's) and a typed `ServiceDescriptor` per service, built on
 * protobufjs's own parser: no `protoc` needed.
 *
 * @example
 * ```ts
 * import { generate } from '@rony/codegen'
 *
 * await generate({ inputs: ['proto'], out: 'src/gen' })  // as `rony gen proto --out src/gen`
 * ```
 */

export { CodegenError, type CodegenErrorCode, type CodegenErrorOptions } from './errors.js'
export { type GeneratedFile, type GenerateInit, generate, render } from './generate.js'
