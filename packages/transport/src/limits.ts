import { integerOption } from '@rony/interface'

/**
 * Resolves a component's options against its frozen defaults: an unknown key is a
 * `TypeError` listing the known ones (a misspelt option would otherwise do nothing), and
 * each numeric option given is checked with `integerOption` from `min(key)` up.
 *
 * @param component - the factory's name, for the messages (`peerLinks`, `tunnel`)
 * @param others - the option keys that are not numeric limits
 */
export function resolveIntegerLimits<D extends Readonly<Record<string, number>>>(
  component: string,
  init: object,
  defaults: D,
  others: readonly string[],
  min: (key: keyof D & string) => number = () => 1,
): { readonly [K in keyof D]: number } {
  const known = new Set([...others, ...Object.keys(defaults)])
  for (const key of Object.keys(init)) {
    if (!known.has(key)) {
      throw new TypeError(`${component}: unknown option ${key}; known: ${[...known].join(', ')}`)
    }
  }
  const given = init as Readonly<Record<string, unknown>>
  const limits: Record<string, number> = { ...defaults }
  for (const key of Object.keys(defaults) as (keyof D & string)[]) {
    const value = given[key]
    if (value !== undefined) limits[key] = integerOption(key, value as number, min(key))
  }
  return limits as { readonly [K in keyof D]: number }
}
