/* global TextDecoder, process */
// The floor: a bare core-NATS subscriber to every status and heartbeat that only JSON.parses each message.
// Its CPU is what any ingest of these messages costs at least; the controller's is compared with it.
import { connect } from '@nats-io/transport-node';

const [url, user, pass] = process.argv.slice(2);
const nc = await connect({ servers: url, user, pass, name: 'bench-floor' });
const decoder = new TextDecoder();
let messages = 0;
let bytes = 0;
const callback = (_err, m) => {
  const message = JSON.parse(decoder.decode(m.data));
  if (message.seq >= 0) messages++;
  bytes += m.data.length;
};
nc.subscribe('rhi.v1.status.*', { callback });
nc.subscribe('rhi.v1.heartbeat.*', { callback });
await nc.flush();
process.on('message', (msg) => {
  if (msg === 'count') process.send({ messages, bytes });
  if (msg === 'stop') void nc.close().then(() => process.exit(0));
});
process.send('ready');
