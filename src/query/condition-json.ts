import { InvalidArgumentError, describe, readingInput } from '../errors'
import { freezeCopy } from '../values/freeze'
import type { CompareOp, ConditionNode, StringOp } from './ast'
import { shortName } from '../values/describe'

/*
 * The JSON form of a condition, read back (`Condition.from`). It may come from a file, a queue or
 * another process, so every node is checked: a known `op`, exactly its fields, a non-empty field
 * name, storable values. A function leaf has no JSON form; neither does the internal match-all.
 */

const COMPARE: readonly CompareOp[] = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte']
const STRING: readonly StringOp[] = ['like', 'ilike', 'startsWith', 'endsWith', 'contains', 'iequals', 'icontains', 'istartsWith', 'iendsWith']
const MAX_DEPTH = 256

/** Checks `json` (JSON text, or the value it parses to) and returns the condition it describes. */
export function nodeFromJSON(json: unknown): ConditionNode {
  return readingInput('the argument of Condition.from()', () => {
    let value = json
    if (typeof json === 'string') {
      try {
        value = JSON.parse(json)
      } catch (error) {
        throw new InvalidArgumentError(`Condition.from() was given text that is not JSON: ${(error as Error).message}`, { cause: error })
      }
    }
    return readNode(value, 'condition', 0)
  })
}

function readNode(value: unknown, path: string, depth: number): ConditionNode {
  if (depth > MAX_DEPTH) throw bad(path, `nests deeper than ${MAX_DEPTH} levels`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(path, `should be an object with an \`op\`, got ${describe(value)}`)
  const node = value as Record<string, unknown>
  const op = node.op
  if (typeof op !== 'string') throw bad(path, `has no \`op\` string, got ${describe(value)}`)
  switch (op) {
    case 'and':
    case 'or': {
      const items = node.items
      if (!Array.isArray(items) || items.length === 0) throw bad(`${path}.items`, `should be a non-empty array, got ${describe(items)}`)
      exactKeys(node, path, ['op', 'items'])
      return { op, items: Array.from(items as unknown[], (item, i) => readNode(item, `${path}.items[${i}]`, depth + 1)) }
    }
    case 'not':
      exactKeys(node, path, ['op', 'item'])
      return { op, item: readNode(node.item, `${path}.item`, depth + 1) }
    default:
      return readLeaf(node, op, path)
  }
}

/** A condition on one field: every `op` but `and`, `or` and `not`. */
function readLeaf(node: Record<string, unknown>, op: string, path: string): ConditionNode {
  if ((COMPARE as readonly string[]).includes(op)) return leaf(node, path, ['value'], { op: op as CompareOp, field: field(node, path), value: operand(node.value, `${path}.value`) })
  if ((STRING as readonly string[]).includes(op)) {
    const v = operand(node.value, `${path}.value`)
    if (op !== 'contains' && typeof v !== 'string') throw bad(`${path}.value`, `should be a string for \`${op}\`, got ${describe(v)}`)
    return leaf(node, path, ['value'], { op: op as StringOp, field: field(node, path), value: v })
  }
  switch (op) {
    case 'in': {
      if (!Array.isArray(node.values)) throw bad(`${path}.values`, `should be an array, got ${describe(node.values)}`)
      const values = Array.from(node.values as unknown[], (v, i) => operand(v, `${path}.values[${i}]`))
      return leaf(node, path, ['values'], { op, field: field(node, path), values })
    }
    case 'between':
      return leaf(node, path, ['lo', 'hi'], { op, field: field(node, path), lo: operand(node.lo, `${path}.lo`), hi: operand(node.hi, `${path}.hi`) })
    case 'isNull':
    case 'isNotNull':
      return leaf(node, path, [], { op, field: field(node, path) })
    default:
      throw bad(path, `has an unknown \`op\` ${describe(op)}${op === 'fn' ? ' (a function condition has no JSON form)' : ''}`)
  }
}

function leaf<N extends ConditionNode>(node: Record<string, unknown>, path: string, keys: string[], out: N): N {
  exactKeys(node, path, ['op', 'field', ...keys])
  return out
}

function exactKeys(node: Record<string, unknown>, path: string, keys: string[]): void {
  for (const key of Object.keys(node)) {
    if (!keys.includes(key)) throw bad(path, `has an unexpected key \`${shortName(key)}\` for \`${String(node.op)}\` (expected ${keys.join(', ')})`)
  }
}

function field(node: Record<string, unknown>, path: string): string {
  const name = node.field
  if (typeof name !== 'string' || name.length === 0) throw bad(`${path}.field`, `should be a non-empty string, got ${describe(name)}`)
  return name
}

/** A value of the JSON form: tags undone (`$date`, `$bigint`, `$number`, `$object`), then checked as storable. */
function operand(value: unknown, path: string): unknown {
  if (value === undefined) throw bad(path, 'is missing')
  return freezeCopy(untagged(value, path, 0), path)
}

function untagged(value: unknown, path: string, depth: number): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Date) return value
  if (depth > MAX_DEPTH) throw bad(path, `nests deeper than ${MAX_DEPTH} levels`)
  if (Array.isArray(value)) return value.map((v) => untagged(v, path, depth + 1))
  const keys = Object.keys(value)
  const only = keys.length === 1 ? (keys[0] as string) : ''
  const inner = (value as Record<string, unknown>)[only]
  if (only === '$date' && typeof inner === 'string' && !Number.isNaN(Date.parse(inner))) return new Date(inner)
  if (only === '$bigint' && typeof inner === 'string' && /^-?\d+$/.test(inner)) return BigInt(inner)
  if (only === '$number' && inner === '-0') return -0
  if (only === '$object' && typeof inner === 'object' && inner !== null && !Array.isArray(inner)) return untaggedFields(inner, path, depth)
  if (only.startsWith('$')) throw bad(path, `has an unknown or malformed tag ${describe(value)}`)
  return untaggedFields(value, path, depth)
}

function untaggedFields(value: object, path: string, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') throw bad(path, 'holds the key `__proto__`')
    out[k] = untagged(v, path, depth + 1)
  }
  return out
}

function bad(path: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`Condition.from(): \`${path}\` ${why}`)
}
