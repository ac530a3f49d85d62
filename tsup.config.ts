import { defineConfig } from 'tsup'

export default defineConfig({
  // cli: the `dictdb` command (package.json `bin`); esbuild keeps its #! line.
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: false,
})
