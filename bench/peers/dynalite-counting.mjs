// Runs dynalite (from the repo root's node_modules) in this process and counts the DynamoDB calls it
// serves, by operation (X-Amz-Target), so the load benchmark measures calls per request the same way
// for every target. Env: DYNALITE_PORT (DynamoDB endpoint), COUNTS_PORT (GET /__counts: plain text,
// one "<Operation> <calls> <errors>" line per operation; errors = responses with status >= 400).
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

const dynamoPort = Number.parseInt(process.env.DYNALITE_PORT ?? '', 10);
const countsPort = Number.parseInt(process.env.COUNTS_PORT ?? '', 10);
if (!dynamoPort || !countsPort) {
  console.error('DYNALITE_PORT and COUNTS_PORT are required');
  process.exit(2);
}

const calls = new Map();
const errors = new Map();
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.prependListener('request', (req, res) => {
  const target = String(req.headers['x-amz-target'] ?? '');
  const op = target.includes('.') ? target.slice(target.indexOf('.') + 1) : target || '(none)';
  calls.set(op, (calls.get(op) ?? 0) + 1);
  res.once('finish', () => {
    if (res.statusCode >= 400) errors.set(op, (errors.get(op) ?? 0) + 1);
  });
});

const countsServer = http.createServer((req, res) => {
  if (req.url !== '/__counts') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  for (const [op, n] of [...calls].sort()) body += `${op} ${n} ${errors.get(op) ?? 0}\n`;
  res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
});

server.listen(dynamoPort, '127.0.0.1', () => {
  countsServer.listen(countsPort, '127.0.0.1', () => {
    console.log(`dynalite on 127.0.0.1:${dynamoPort}, counts on 127.0.0.1:${countsPort}/__counts`);
  });
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(0));
}
