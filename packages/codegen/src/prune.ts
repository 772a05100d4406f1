import protobuf from 'protobufjs'

/**
 * Leaves in `root` only what the module of `mainFile` must contain: its own types and the
 * imported types they use, transitively, each with its whole top-level message (so nested
 * types and enums come along). Services, extension fields and everything else imported
 * (the Rony options, descriptor.proto) go. pbjs's `--sparse` does not follow references
 * transitively (a message imported for a field loses its enums and nested types).
 */
export function prune(root: protobuf.Root, mainFile: string): void {
  const kept = new Set<protobuf.ReflectionObject>()
  const pending: protobuf.ReflectionObject[] = []
  const keep = (object: protobuf.ReflectionObject | null) => {
    const top = object && outermost(object)
    if (top && !kept.has(top)) {
      kept.add(top)
      pending.push(top)
    }
  }
  for (const object of declarations(root)) {
    if (object.filename !== mainFile) continue
    if (object instanceof protobuf.Service) {
      for (const method of object.methodsArray) {
        method.resolve()
        keep(method.resolvedRequestType)
        keep(method.resolvedResponseType)
      }
    } else keep(object)
  }
  for (let object = pending.pop(); object; object = pending.pop()) {
    for (const type of typesWithin(object)) {
      for (const field of type.fieldsArray) keep(field.resolve().resolvedType)
    }
  }
  removeUnkept(root, kept)
}

/** Messages, enums and services declared in namespaces (not nested in messages). */
function* declarations(namespace: protobuf.NamespaceBase): Generator<protobuf.ReflectionObject> {
  for (const object of namespace.nestedArray) {
    if (object instanceof protobuf.Type || object instanceof protobuf.Enum) yield object
    else if (object instanceof protobuf.Service) yield object
    else if (object instanceof protobuf.Namespace) yield* declarations(object)
  }
}

/** The declaration `object` sits in: itself, or the outermost message around it. */
function outermost(object: protobuf.ReflectionObject): protobuf.ReflectionObject {
  let top = object
  while (top.parent instanceof protobuf.Type) top = top.parent
  return top
}

function* typesWithin(object: protobuf.ReflectionObject): Generator<protobuf.Type> {
  if (!(object instanceof protobuf.Type)) return
  yield object
  for (const nested of object.nestedArray) yield* typesWithin(nested)
}

/** Removes what is not kept, then the namespaces left empty. Returns whether `namespace` is empty. */
function removeUnkept(
  namespace: protobuf.NamespaceBase,
  kept: ReadonlySet<protobuf.ReflectionObject>,
): boolean {
  for (const object of [...namespace.nestedArray]) {
    const isDeclaration =
      object instanceof protobuf.Type ||
      object instanceof protobuf.Enum ||
      object instanceof protobuf.Service
    if (isDeclaration ? !kept.has(object) : !(object instanceof protobuf.Namespace))
      namespace.remove(object)
    else if (!isDeclaration && removeUnkept(object as protobuf.Namespace, kept))
      namespace.remove(object)
  }
  return namespace.nestedArray.length === 0
}
