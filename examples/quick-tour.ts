// A quick tour of dictdb: tables, keys, queries, indexes, aggregations, schemas, transactions.
// Run: npm run demo  (or: node --import tsx examples/quick-tour.ts)
import { Database, DuplicateKeyError, avg, count, increment } from 'dictdb'

interface User {
  id?: number
  name: string
  age: number
  city: string
  visits?: number
}

function check(ok: boolean, what: string): void {
  if (!ok) {
    console.error(`✗ ${what}`)
    process.exit(1)
  }
  console.log(`✓ ${what}`)
}

const db = new Database()
const users = db.createTable<User>('users', {
  schema: { name: 'string', age: 'integer', city: 'string', visits: { type: 'integer', optional: true } },
  indexes: [{ field: 'city' }, { field: 'age', type: 'sorted' }],
})

const ada = users.insert({ name: 'Ada', age: 36, city: 'London' })
users.insert([
  { name: 'Grace', age: 45, city: 'New York' },
  { name: 'Alan', age: 41, city: 'London' },
  { name: 'Edsger', age: 29, city: 'Amsterdam' },
])
check(ada === 1 && users.count() === 4, 'keys are assigned 1, 2, 3… and four users are stored')

const age = users.field('age')
const londoners = users.select({ where: { city: 'London' }, orderBy: '-age', columns: ['name', 'age'] })
check(londoners.map((u) => u.name).join(',') === 'Alan,Ada', 'Londoners by age, oldest first: Alan, Ada')
check(users.explain(age.between(30, 42)).strategy === 'index', 'a range on `age` uses the sorted index')

users.update({ visits: increment(1) }, age.gte(40))
check(users.get(2)?.visits === 1, 'increment(1) applied atomically to users aged 40+')

const stats = users.aggregate({ n: count(), meanAge: avg('age') }, { groupBy: 'city' })
console.log('  per city:', JSON.stringify(stats))

try {
  db.transaction(() => {
    users.insert({ name: 'Barbara', age: 82, city: 'Boston' })
    users.insert({ id: 1, name: 'Ada again', age: 36, city: 'London' })
  })
} catch (error) {
  check(error instanceof DuplicateKeyError, 'a duplicate key aborts the transaction with DuplicateKeyError')
}
check(users.count() === 4, 'the rolled-back transaction left nothing behind')

const frozen = users.select({ copy: false, limit: 1 })[0]
check(Object.isFrozen(frozen), '`copy: false` hands out frozen records: zero-copy and still safe')
