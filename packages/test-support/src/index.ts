export type { Backends, BirdInstance, HaproxyInstance, NatsInstance } from './daemons.js';
export { birdCommand, socketCommand, startBackends, startBird, startHaproxy, startNats } from './daemons.js';
export type { BgpPair } from './bgp-pair.js';
export { startBgpPair } from './bgp-pair.js';
export { Daemon } from './process.js';
export { freePort, loopbackPair, waitFor } from './util.js';
