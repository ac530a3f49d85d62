import type { CreateTableOptions, Database } from '../database'
import { DuplicateTableError } from '../errors'
import type { Table } from '../table'

/**
 * The helper's system table `name`, created on first use. Helpers keep their state in ordinary
 * tables (saved, loaded and shared like any other), reached only through the public API.
 * Two callers creating it at once (two workers) both end up with the one table.
 */
export function systemTable<T extends object>(db: Database, name: string, options?: CreateTableOptions<'id'>): Table<T> {
  if (db.hasTable(name)) return db.getTable<T>(name)
  try {
    return db.createTable<T>(name, options)
  } catch (error) {
    if (error instanceof DuplicateTableError) return db.getTable<T>(name)
    throw error
  }
}
