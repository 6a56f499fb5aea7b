/**
 * Freeze an object graph in place (objects and arrays, depth-first) and return it. The validated
 * config is shared by every actor; freezing makes "validated once" hold — nothing can change a
 * value after the checks ran (fastify does the same with its initial config).
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  return Object.freeze(value)
}
