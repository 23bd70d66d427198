export type { Backends, BirdInstance, NatsInstance } from './daemons.js';
export { birdCommand, startBackends, startBird, startNats } from './daemons.js';
export type { HaproxyInstance, HaproxyOptions, ReloadOptions } from './haproxy.js';
export { startHaproxy, statsCommand } from './haproxy.js';
export type { BgpPair } from './bgp-pair.js';
export { startBgpPair } from './bgp-pair.js';
export { Daemon } from './process.js';
export { freePort, loopbackPair, waitFor } from './util.js';
