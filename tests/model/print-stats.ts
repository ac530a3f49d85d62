// Prints what the generated op sequences exercise: npx tsx tests/model/print-stats.ts
import { generationStats } from './stats'

console.log(JSON.stringify({ plain: generationStats({ missing: 1, unique: false }), unique: generationStats({ missing: 3, unique: true }) }, null, 1))
