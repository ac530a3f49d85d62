import { describe } from 'vitest'
import { portableSuite } from '../support/portable-code'
import { portableCoreSuite } from '../support/portable-core'
import { portableHelpersSuite } from '../support/portable-helpers'
import { connectedClosedAfterEach, freshName } from './support'

describe('transactionAsync and sync on a connected database', () => {
  const open = connectedClosedAfterEach()
  // Two connections in this process stand for two processes: each keeps its own replica.
  const openPair = async () => {
    const name = freshName()
    return { db: await open({ name }), other: await open({ name }) }
  }
  portableSuite(openPair)
  portableCoreSuite(openPair)
  portableHelpersSuite(openPair)
})
