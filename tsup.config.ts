import { defineConfig } from 'tsup'

export default defineConfig({
  // cli: the `dictdb` command (package.json `bin`); esbuild keeps its #! line.
  // postgres: `dictdb/postgres`, the only entry that loads `pg` (an optional peer dependency).
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts', postgres: 'src/postgres/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // One copy of the core shared by the entries: `dictdb` and `dictdb/postgres` hand out the same classes.
  splitting: true,
})
