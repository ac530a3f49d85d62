/*
 * One dictdb per process, even when the ESM and the CommonJS builds are both loaded (a CommonJS
 * dependency requires dictdb, the app imports it: two copies of every module). Classes whose
 * instances cross from one copy to the other (conditions, `increment()`, errors) recognise each
 * other by a brand found through `Symbol.for`, not by identity; module state that must be
 * unique (the lock context, the worker reaper) lives on `globalThis` under a `Symbol.for` key.
 */

import { ownsKey } from './values/own-field'

const BRAND = Symbol.for('dictdb.brand')

/** Marks `cls` so that `instanceof` recognises its instances from either build; names it `name`. */
export function brand(cls: abstract new (...args: never[]) => unknown, name: string): void {
  Object.defineProperty(cls.prototype, BRAND, { value: name })
  named(cls, name)
}

/**
 * Gives an exported class its own name whatever the bundler called it: the build renames a class
 * that refers to itself (`var Database = class _Database`), and keeps no names (see
 * tsup.config.ts). Its `name` is observable: an error's `name` and `code` are its class's.
 */
export function named(cls: abstract new (...args: never[]) => unknown, name: string): void {
  Object.defineProperty(cls, 'name', { value: name, configurable: true })
}

/**
 * The `Symbol.hasInstance` of a branded class: the ordinary prototype check, or an instance of
 * the same-named branded class of the other build. Never throws (a proxy's trap may).
 */
export function isInstance(cls: abstract new (...args: never[]) => unknown, value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  try {
    if (Function.prototype[Symbol.hasInstance].call(cls, value)) return true
    // A subclass declared outside dictdb has no brand of its own: only the ordinary check.
    if (!ownsKey(cls.prototype, BRAND)) return false
    const want = (cls.prototype as Record<symbol, unknown>)[BRAND]
    for (let p = Object.getPrototypeOf(value); p !== null; p = Object.getPrototypeOf(p)) {
      if (ownsKey(p, BRAND) && p[BRAND] === want) return true
    }
  } catch {
    // A revoked proxy, or a getPrototypeOf trap that throws: not one of ours.
  }
  return false
}

/** The one value of `key` in this process, made by `init` on first use by either build. */
export function processWide<T>(key: string, init: () => T): T {
  const symbol = Symbol.for(`dictdb.${key}`)
  const global = globalThis as unknown as Record<symbol, T>
  if (!ownsKey(global, symbol)) Object.defineProperty(global, symbol, { value: init() })
  return global[symbol] as T
}
