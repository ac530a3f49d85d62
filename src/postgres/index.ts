export { connect } from './connect'
export type { ConnectOptions } from './connect'
export { ConnectedDatabase } from './database'
