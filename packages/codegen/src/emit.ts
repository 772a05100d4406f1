import { constructorOf, type MethodOptions } from '@rony/envelope'
import protobuf from 'protobufjs'
import { CodegenError } from './errors.js'
import { compare } from './load.js'
import { methodOptionsOf, noClientOf } from './options.js'

/** What a .proto adds on top of its messages: constants and service descriptors. */
export interface Extras {
  /** `C_<Message>` of each top-level message and `C_<Service><Method>` of each method, by name. */
  readonly constants: ReadonlyMap<string, bigint>
  readonly services: readonly ServiceModel[]
}

export interface ServiceModel {
  readonly name: string
  readonly fullName: string
  readonly noClient: boolean
  readonly methods: readonly MethodModel[]
}

export interface MethodModel {
  /** Lower camel case: the key in `methods`. */
  readonly key: string
  readonly name: string
  readonly constant: string
  /** The generated module's expressions for the input and output types: `demo.HelloRequest`. */
  readonly input: string
  readonly output: string
  readonly options: MethodOptions
}

/**
 * Reads the constants and services `file` defines. Top-level messages only get a
 * `C_` constant, as in the Go framework's codegen: a nested message's unqualified name
 * (`Stats` of `HelloReply.Stats`) is too likely to collide to be a routing id.
 */
export function readExtras(root: protobuf.Root, file: string): Extras {
  const constants = new Map<string, bigint>()
  const services: ServiceModel[] = []
  const add = (name: string, hashed: string) => {
    if (constants.has(name)) {
      throw new CodegenError('RONY_ERR_CODEGEN_CONFLICT', `${name} is defined twice`, { file })
    }
    constants.set(name, constructorOf(hashed))
  }
  for (const object of topLevel(root)) {
    if (object.filename !== file) continue
    if (object instanceof protobuf.Type) add(`C_${object.name}`, object.name)
    else if (object instanceof protobuf.Service) {
      const service = object
      const methods = [...service.methodsArray]
        .sort((a, b) => compare(a.name, b.name))
        .map((method): MethodModel => {
          method.resolve()
          const constant = `C_${service.name}${method.name}`
          add(constant, `${service.name}${method.name}`)
          return {
            key: method.name.charAt(0).toLowerCase() + method.name.slice(1),
            name: method.name,
            constant,
            input: expressionOf(method.resolvedRequestType, file),
            output: expressionOf(method.resolvedResponseType, file),
            options: methodOptionsOf(method, file),
          }
        })
      services.push({
        name: service.name,
        fullName: service.fullName.slice(1),
        noClient: noClientOf(service),
        methods,
      })
    }
  }
  services.sort((a, b) => compare(a.name, b.name))
  const exported = new Set(topLevelExports(root, file))
  for (const service of services) {
    if (exported.has(service.name)) {
      throw new CodegenError(
        'RONY_ERR_CODEGEN_CONFLICT',
        `service ${service.name}'s descriptor would shadow the generated ${service.name}: rename one`,
        { file },
      )
    }
  }
  return { constants: new Map([...constants].sort(([a], [b]) => compare(a, b))), services }
}

/** Every message and service of the root, nested in namespaces but not in messages. */
function* topLevel(namespace: protobuf.NamespaceBase): Generator<protobuf.ReflectionObject> {
  for (const object of namespace.nestedArray) {
    yield object
    if (!(object instanceof protobuf.Type) && 'nestedArray' in object) {
      yield* topLevel(object as protobuf.NamespaceBase)
    }
  }
}

/** The names pbjs exports from the module: its root's top-level namespaces and types. */
function topLevelExports(root: protobuf.Root, file: string): string[] {
  return root.nestedArray
    .filter((object) => object.filename === file || 'nestedArray' in object)
    .map((object) => object.name)
}

function expressionOf(type: protobuf.Type | null, file: string): string {
  if (!type) throw new CodegenError('RONY_ERR_CODEGEN_PARSE', 'unresolved method type', { file })
  return type.fullName.slice(1)
}
