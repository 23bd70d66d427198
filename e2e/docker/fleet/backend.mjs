// A node's HTTP backend: answers 200 with the node's name, or 503 while /run/e2e/backend-down exists (the
// test's way to make a backend fail its health checks). Listens on 127.0.0.1:8081.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import process from 'node:process';

const name = process.env.NODE_NAME ?? hostname();
createServer((req, res) => {
  const down = existsSync('/run/e2e/backend-down');
  res.writeHead(down ? 503 : 200, { 'content-type': 'text/plain', 'x-backend': name });
  res.end(down ? 'down\n' : `${name}\n`);
}).listen(8081, '127.0.0.1');
