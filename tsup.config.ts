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
  // No keepNames: it wraps every function the code makes in `__name(fn, "fn")` (a defineProperty
  // per closure made at run time, on hot paths such as an async lock's acquisition or a query's
  // planning). A class's `name` is observable only for the exported ones (an error's `name` and
  // `code` are its class name): the bundler may rename a class (`var X = class _X` when it refers
  // to itself, `X2` for two of one name), so those give themselves their name (`named()` in
  // src/brand.ts), and tests/package.test.ts checks every exported class of both builds.
  keepNames: false,
})
