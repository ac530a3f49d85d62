// Adds lockfile entries for platform-specific optional packages (other OS/CPU builds of
// rollup, msgpackr-extract, ...) that this machine's npm mirror does not serve: without an
// entry `npm ci` refuses the lockfile as "out of sync", although it would skip those packages
// on this platform anyway. Each stub carries the os/cpu/libc that make npm skip it here.
// Run after `npm install` changes package-lock.json: node scripts/lock-platform-stubs.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const file = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(file, 'utf8'))
const packages = lock.packages
const OS = ['android', 'darwin', 'freebsd', 'linux', 'openbsd', 'openharmony', 'win32', 'sunos', 'aix', 'netbsd']
const CPU = ['arm64', 'arm', 'x64', 'ia32', 'loong64', 'ppc64', 's390x', 'riscv64', 'mips64el']

let added = 0
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const where = `${path === '' ? '' : `${path}/`}node_modules/${name}`
    if (packages[where] !== undefined || packages[`node_modules/${name}`] !== undefined) continue
    const parts = name.split(/[/-]/)
    const os = OS.find((o) => parts.includes(o) || (o === 'win32' && parts.includes('windows')))
    const cpu = CPU.find((c) => parts.includes(c) || (c === 'x64' && parts.includes('amd64')))
    if (os === undefined) continue // not a platform package: leave it for npm to resolve
    const stub = { version: String(version).replace(/^[~^]/, ''), optional: true, os: [os] }
    if (cpu !== undefined) stub.cpu = [cpu]
    if (parts.includes('musl') || parts.includes('musleabihf')) stub.libc = ['musl']
    if (entry.dev) stub.dev = true
    packages[`node_modules/${name}`] = stub
    added++
  }
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`lock-platform-stubs: ${added} entries added`)
