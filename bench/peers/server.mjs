// Peer server for the load benchmark (bench/load.sh): the demo server's HTTP contract (DESIGN.md,
// "The demo server"), the subset the benchmark uses, on Express 5 + express-session.
//   STORE=memory    express-session's MemoryStore
//   STORE=dynamodb  @pwrdrvr/dynamodb-session-store 1.1.0; the table (hash key `id`, S) must exist.
// Env: PORT (8080), STORE (memory), SESSION_TABLE (sessions), SESSION_SECRET (random per start),
// SESSION_MAX_AGE (1200 s), AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, AWS credentials.
import crypto from 'node:crypto';
import express from 'express';
import session from 'express-session';

const port = Number.parseInt(process.env.PORT ?? '8080', 10);
const storeKind = process.env.STORE ?? 'memory';
const tableName = process.env.SESSION_TABLE ?? 'sessions';
const maxAgeSeconds = Number.parseInt(process.env.SESSION_MAX_AGE ?? '1200', 10);
const secret = process.env.SESSION_SECRET || crypto.randomBytes(32).toString('hex');

async function makeStore() {
  if (storeKind === 'memory') return new session.MemoryStore();
  if (storeKind !== 'dynamodb') throw new Error(`STORE must be memory or dynamodb, not ${storeKind}`);
  await import('./ts-helpers.cjs'); // before the store module is evaluated
  const { DynamoDBStore } = await import('@pwrdrvr/dynamodb-session-store');
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL;
  const dynamoDBClient = new DynamoDBClient(endpoint ? { endpoint } : {});
  return new DynamoDBStore({
    tableName,
    dynamoDBClient,
    hashKey: 'id',
    // The README's cost-optimized setting: touch (rewrite the TTL) only when this many seconds
    // passed since the last write. The store caps it at 10% of the cookie's maxAge (120 s here).
    touchAfter: 60 * 60,
    useStronglyConsistentReads: false,
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const token = () => crypto.randomBytes(32).toString('base64url');

function sessionView(req) {
  const s = req.session;
  const user = typeof s?.user === 'string' ? s.user : null;
  return {
    authenticated: user !== null,
    user,
    views: Number.isInteger(s?.views) ? s.views : 0,
    refresh_count: Number.isInteger(s?.refresh_count) ? s.refresh_count : 0,
    access_valid: typeof s?.access_expires_at === 'number' && s.access_expires_at > nowSeconds(),
  };
}

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: '16kb' }));
app.use(
  session({
    name: 'sessionId',
    secret,
    store: await makeStore(),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: false, maxAge: maxAgeSeconds * 1000 },
  }),
);

app.get('/api/session', (req, res) => {
  res.json(sessionView(req));
});

app.post('/api/login', (req, res, next) => {
  const user = req.body?.user;
  if (typeof user !== 'string' || user.length === 0 || user.length > 256) {
    res.status(400).json({ error: 'body must be {"user": "<name>"}' });
    return;
  }
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = user;
    req.session.refresh_token = token();
    req.session.access_token = token();
    req.session.access_expires_at = nowSeconds() - 1; // already expired
    req.session.views = 0;
    req.session.refresh_count = 0;
    res.json({ authenticated: true, user });
  });
});

app.post('/api/views', (req, res) => {
  // express-session has no atomic increment: read-modify-write of the whole session.
  req.session.views = (Number.isInteger(req.session.views) ? req.session.views : 0) + 1;
  res.json({ views: req.session.views });
});

app.get('/healthz', (req, res) => {
  res.json({ ok: true });
});

// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  console.error(`error: ${err?.name ?? 'Error'}: ${err?.message ?? err}`);
  res.status(503).json({ error: 'session store unavailable' });
});

const server = app.listen(port, '127.0.0.1', (err) => {
  if (err) {
    console.error(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`peer listening on http://127.0.0.1:${port} (STORE=${storeKind})`);
});
server.keepAliveTimeout = 65_000;

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
