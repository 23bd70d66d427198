// A rule-set worker that fails on demand, for the tests of the agent's handling of a failed worker: a
// rules file whose first line is `#crash`, `#exit`, `#hang` or `#oom` (or a command of that id) makes it
// throw, exit, loop forever or grow its heap until it is ended; anything else is examined by the agent's
// own worker code (tsc's build, dist/app/rule-set-worker.js).
import process from 'node:process';
import { parentPort } from 'node:worker_threads';
import { decodeText, examineRequest, serveRuleSetWorker } from '../../dist/app/rule-set-worker.js';

const faults = {
  '#crash': () => {
    throw new Error('the worker broke');
  },
  '#exit': () => process.exit(3),
  '#hang': () => {
    for (;;);
  },
  '#oom': () => {
    const kept = [];
    for (;;) kept.push(new Array(100_000).fill(kept.length));
  },
};

serveRuleSetWorker(parentPort, (request) => {
  const key =
    request.kind === 'file'
      ? decodeText(request.text).split('\n', 1)[0]
      : request.kind === 'command'
        ? JSON.parse(decodeText(request.bytes)).id
        : undefined;
  const fault = key === undefined ? undefined : faults[key];
  fault?.();
  return examineRequest(request);
});
