import type { HandlerMode, MethodOptions, ReadConsistency, RestBinding } from '@rony/envelope'
import type { Method, Service } from 'protobufjs'
import { CodegenError } from './errors.js'

/** Reads `rony/options.proto`'s options of a method, as the parser stored them. */
export function methodOptionsOf(method: Method, file: string): MethodOptions {
  const mode = option(method.parsedOptions, 'rony_mode') as Record<string, unknown> | undefined
  const rest = option(method.parsedOptions, 'rony_rest') as Record<string, unknown> | undefined
  const where = `${method.parent?.name}.${method.name}`
  const options: {
    mode: HandlerMode
    consistency: ReadConsistency
    internal: boolean
    rest?: RestBinding
  } = {
    mode: enumValue(mode?.mode, MODES, 'local', `${where}: rony_mode.mode`, file),
    consistency: enumValue(
      mode?.consistency,
      CONSISTENCIES,
      'linearizable',
      `${where}: rony_mode.consistency`,
      file,
    ),
    internal: option(method.parsedOptions, 'rony_internal') === true,
  }
  if (rest) options.rest = restBinding(rest, `${where}: rony_rest`, file)
  return options
}

/** `rony_no_client` of a service. */
export function noClientOf(service: Service): boolean {
  return option(service.parsedOptions, 'rony_no_client') === true
}

const MODES: Readonly<Record<string, HandlerMode>> = {
  LOCAL: 'local',
  REPLICATED: 'replicated',
  READ: 'read',
}
const CONSISTENCIES: Readonly<Record<string, ReadConsistency>> = {
  LINEARIZABLE: 'linearizable',
  LOCAL: 'local',
}

/** An option's value whether written `(rony_rest)` (inside package rony) or `(rony.rony_rest)`. */
function option(parsed: ReadonlyArray<Record<string, unknown>> | undefined, name: string): unknown {
  let value: unknown
  for (const entry of parsed ?? []) {
    for (const key of [`(${name})`, `(rony.${name})`]) {
      if (Object.hasOwn(entry, key)) value = entry[key]
    }
  }
  return value
}

function enumValue<T extends string>(
  raw: unknown,
  values: Readonly<Record<string, T>>,
  fallback: T,
  what: string,
  file: string,
): T {
  if (raw === undefined) return fallback
  const value = typeof raw === 'string' ? values[raw] : undefined
  if (value === undefined) {
    throw new CodegenError(
      'RONY_ERR_CODEGEN_OPTION',
      `${what} is ${JSON.stringify(raw)}; expected one of ${Object.keys(values).join(', ')}`,
      { file },
    )
  }
  return value
}

function restBinding(rest: Record<string, unknown>, what: string, file: string): RestBinding {
  const text = (key: string): string => {
    const value = rest[key]
    if (typeof value !== 'string' || value.length === 0) {
      throw new CodegenError(
        'RONY_ERR_CODEGEN_OPTION',
        `${what}.${key} must be a non-empty string`,
        {
          file,
        },
      )
    }
    return value
  }
  return {
    method: text('method').toUpperCase(),
    path: text('path'),
    bindPathParams: strings(rest.bind_path_param),
    bindQueryParams: strings(rest.bind_query_param),
    jsonEncode: rest.json_encode === true,
  }
}

/** A repeated string option: one value parses as a string, several as an array. */
function strings(value: unknown): string[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).map(String)
}
