import { defineConfig } from 'tsup'

export default defineConfig({
  // cli: the `dictdb` command (package.json `bin`); esbuild keeps its #! line.
  // postgres: `dictdb/postgres`, the only entry that loads `pg` (an optional peer dependency).
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts', postgres: 'src/postgres/index.ts' },
  format: ['esm', 'cjs'],
  // Members tagged `@internal` (exportState, fromState, definition(), acquireSync…) are used
  // across modules but are not part of the public API: leave them out of the .d.ts.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // One copy of the core shared by the entries: `dictdb` and `dictdb/postgres` hand out the same classes.
  splitting: true,
  // A class with static members is emitted as `var X = class _X`: without this its `name` (and
  // an error's `name` and `code`, taken from the class) would read `_X`.
  keepNames: true,
})
