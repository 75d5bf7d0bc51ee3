// The development OpenID provider: oidc-provider (a certified OpenID Connect implementation) with one
// confidential client, a test account, single-use refresh tokens, and hooks that tests use to count
// grants, slow the token endpoint down and send back-channel logout tokens. Loopback only; for
// development and tests, never for production (anyone can sign in as anyone).
//
//   node provider.mjs [--port N] [--client-id ID] [--client-secret S] [--redirect-uri URI]...
//
// See README.md beside this file for every option and the /test/* endpoints.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const ALGORITHMS = ['RS256', 'PS256', 'ES256'];
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MAX_TEST_BODY = 64 * 1024;

// Options: each flag, else its DEV_PROVIDER_* variable, else the default (the demo's defaults).
function readOptions() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'backchannel-logout-uri': { type: 'string' },
      'client-auth-method': { type: 'string' },
      'id-token-alg': { type: 'string' },
      'access-token-ttl': { type: 'string' },
    },
  });
  const env = (name, fallback) => process.env[`DEV_PROVIDER_${name}`] || fallback;
  const list = (flag, name, fallback) => flag ?? env(name, fallback).split(/\s+/).filter(Boolean);
  const options = {
    port: Number(values.port ?? env('PORT', '0')),
    clientId: values['client-id'] ?? env('CLIENT_ID', 'websession-demo'),
    clientSecret: values['client-secret'] ?? env('CLIENT_SECRET', 'websession-demo-secret'),
    redirectUris: list(values['redirect-uri'], 'REDIRECT_URIS', 'http://127.0.0.1:8080/auth/callback'),
    postLogoutRedirectUris: list(values['post-logout-redirect-uri'], 'POST_LOGOUT_REDIRECT_URIS',
      'http://127.0.0.1:8080/'),
    backchannelLogoutUri: values['backchannel-logout-uri']
      ?? env('BACKCHANNEL_LOGOUT_URI', 'http://127.0.0.1:8080/auth/backchannel-logout'),
    clientAuthMethod: values['client-auth-method'] ?? env('CLIENT_AUTH_METHOD', 'client_secret_basic'),
    idTokenAlg: values['id-token-alg'] ?? env('ID_TOKEN_ALG', 'RS256'),
    accessTokenTtl: Number(values['access-token-ttl'] ?? env('ACCESS_TOKEN_TTL', '600')),
  };
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error('--port must be a TCP port (0: any free one)');
  }
  if (!['client_secret_basic', 'client_secret_post'].includes(options.clientAuthMethod)) {
    throw new Error('--client-auth-method must be client_secret_basic or client_secret_post');
  }
  if (!ALGORITHMS.includes(options.idTokenAlg)) {
    throw new Error(`--id-token-alg must be one of ${ALGORITHMS.join(', ')}`);
  }
  if (!Number.isInteger(options.accessTokenTtl) || options.accessTokenTtl < 1) {
    throw new Error('--access-token-ttl must be a whole number of seconds, at least 1');
  }
  return options;
}

// Fresh signing keys on every start: RSA for RS256 and PS256, EC P-256 for ES256.
function signingKeys() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: `rsa-${crypto.randomBytes(6).toString('hex')}`, use: 'sig' },
      { ...ec, kid: `ec-${crypto.randomBytes(6).toString('hex')}`, use: 'sig', alg: 'ES256' },
    ],
  };
}

// Every login is accepted (devInteractions take any login and password); the login is the subject.
function account(id) {
  const name = id.charAt(0).toUpperCase() + id.slice(1);
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        preferred_username: id,
        name: `${name} Example`,
        email: `${id}@example.com`,
        email_verified: true,
      };
    },
  };
}

function isLoopbackUrl(url) {
  try {
    const { protocol, hostname } = new URL(url);
    return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

// What the tests can observe and change while the provider runs.
const state = {
  tokenDelayMs: 0,
  accessTokenTtl: 600,
  refreshTokenTtl: 14 * 24 * 60 * 60,
  counts: {},
};

function count(name) {
  state.counts[name] = (state.counts[name] ?? 0) + 1;
}

function configuration(options) {
  return {
    clients: [{
      client_id: options.clientId,
      client_secret: options.clientSecret,
      redirect_uris: options.redirectUris,
      post_logout_redirect_uris: options.postLogoutRedirectUris,
      backchannel_logout_uri: options.backchannelLogoutUri,
      backchannel_logout_session_required: true,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: options.clientAuthMethod,
      id_token_signed_response_alg: options.idTokenAlg,
    }],
    jwks: signingKeys(),
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    findAccount: async (ctx, id) => account(id),
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      sid: null,
      auth_time: null,
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    responseTypes: ['code'],
    // ID tokens carry the profile and email claims, so a relying party knows the user's name at once.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
    },
    enabledJWA: { idTokenSigningAlgValues: ALGORITHMS },
    pkce: { required: () => true },
    // A refresh token for every code grant of this client, whether or not offline_access survived
    // (oidc-provider drops offline_access unless prompt=consent), and rotated on every use: a
    // redeemed refresh token presented again is invalid_grant and revokes the whole grant.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    expiresWithSession: async () => false,
    // The demo's client is first-party: no consent screen, only the login page.
    loadExistingGrant: async (ctx) => autoGrant(ctx, options.clientId),
    ttl: {
      AccessToken: () => state.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: () => state.refreshTokenTtl,
      Interaction: 3600,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
    // oidc-provider refuses to call loopback addresses (SSRF protection); this provider's only
    // outgoing calls are back-channel logouts to the relying party on this machine.
    fetch: (url, init) => {
      if (!isLoopbackUrl(url)) throw new Error('the development provider calls loopback URLs only');
      const { dispatcher, ...rest } = init;
      return globalThis.fetch(url, rest);
    },
  };
}

// The grant of the session's account for a first-party client, holding whatever scopes it asks for:
// the consent a real provider would ask the user for is taken as given.
async function autoGrant(ctx, firstPartyClientId) {
  const { client, session, params, result } = ctx.oidc;
  const existingId = result?.consent?.grantId || session.grantIdFor(client.clientId);
  let grant = existingId ? await ctx.oidc.provider.Grant.find(existingId) : undefined;
  if (client.clientId !== firstPartyClientId) return grant;
  grant ??= new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope(params.scope ?? 'openid');
  grant.addOIDCClaims(['sub', 'sid', 'auth_time', 'name', 'preferred_username', 'email', 'email_verified']);
  await grant.save();
  return grant;
}

function observe(provider) {
  provider.on('grant.success', (ctx) => count(ctx.oidc.params.grant_type));
  provider.on('grant.error', (ctx, error) => {
    count('token_error');
    if (error.error === 'invalid_grant') count('invalid_grant');
  });
  provider.on('authorization.success', () => count('authorization'));
  provider.on('end_session.success', () => count('end_session'));
  provider.on('backchannel.success', () => count('backchannel_logout'));
  provider.on('backchannel.error', () => count('backchannel_logout_error'));
  provider.on('server_error', (ctx, error) => {
    count('server_error');
    console.error('dev-provider: server error:', error);
  });
}

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_TEST_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const value = text ? JSON.parse(text) : {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
  return value;
}

// A logout token as oidc-provider makes one for its own back-channel logouts, for any sub and sid.
async function mintLogoutToken(provider, client, sub, sid) {
  const token = new provider.IdToken({ sub }, { client, ctx: undefined });
  token.mask = { sub: null };
  token.set('events', { [BACKCHANNEL_EVENT]: {} });
  token.set('jti', crypto.randomBytes(16).toString('base64url'));
  if (sid) token.set('sid', sid);
  return token.issue({ use: 'logout' });
}

// POST /test/backchannel-logout {"sub", "sid"?, "deliver"?: true, "uri"?}: signs a logout token and
// posts it to the client's back-channel logout URI (or `uri`, loopback only); answers with the token
// and the relying party's status, so a test can also replay it.
async function backchannelLogout(provider, clientId, body) {
  if (typeof body.sub !== 'string' && typeof body.sid !== 'string') throw new Error('give sub, sid or both');
  const client = await provider.Client.find(body.client_id ?? clientId);
  if (!client) throw new Error('unknown client');
  const logoutToken = await mintLogoutToken(provider, client, body.sub, body.sid);
  if (body.deliver === false) return { logout_token: logoutToken };
  const uri = body.uri ?? client.backchannelLogoutUri;
  if (!isLoopbackUrl(uri)) throw new Error('the back-channel logout URI must be a loopback http URL');
  const response = await globalThis.fetch(uri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: logoutToken }),
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  count(response.ok ? 'backchannel_logout' : 'backchannel_logout_error');
  return { logout_token: logoutToken, status: response.status };
}

async function applyConfig(body) {
  if (body.token_delay_ms !== undefined) {
    if (!Number.isInteger(body.token_delay_ms) || body.token_delay_ms < 0) throw new Error('token_delay_ms: a whole number >= 0');
    state.tokenDelayMs = body.token_delay_ms;
  }
  if (body.access_token_ttl !== undefined) {
    if (!Number.isInteger(body.access_token_ttl) || body.access_token_ttl < 1) throw new Error('access_token_ttl: a whole number >= 1');
    state.accessTokenTtl = body.access_token_ttl;
  }
  if (body.refresh_token_ttl !== undefined) {
    if (!Number.isInteger(body.refresh_token_ttl) || body.refresh_token_ttl < 1) throw new Error('refresh_token_ttl: a whole number >= 1');
    state.refreshTokenTtl = body.refresh_token_ttl;
  }
  return {
    token_delay_ms: state.tokenDelayMs,
    access_token_ttl: state.accessTokenTtl,
    refresh_token_ttl: state.refreshTokenTtl,
  };
}

// The /test/* endpoints, and the token endpoint's artificial delay.
function testHooks(provider, options) {
  return async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST' && state.tokenDelayMs > 0) {
      await new Promise((resolve) => { setTimeout(resolve, state.tokenDelayMs); });
    }
    if (!ctx.path.startsWith('/test/')) return next();
    const route = `${ctx.method} ${ctx.path}`;
    try {
      if (route === 'GET /test/events') {
        ctx.body = { counts: { ...state.counts }, ...pick(state.counts) };
      } else if (route === 'POST /test/reset') {
        state.counts = {};
        ctx.body = { counts: {} };
      } else if (route === 'POST /test/config') {
        ctx.body = await applyConfig(await readJson(ctx.req));
      } else if (route === 'POST /test/backchannel-logout') {
        ctx.body = await backchannelLogout(provider, options.clientId, await readJson(ctx.req));
      } else {
        ctx.status = 404;
        ctx.body = { error: 'not_found' };
      }
    } catch (error) {
      ctx.status = 400;
      ctx.body = { error: 'invalid_request', error_description: error.message };
    }
    return undefined;
  };
}

// The counters tests read most, always present (0 when nothing happened yet).
function pick(counts) {
  return {
    authorization_code: counts.authorization_code ?? 0,
    refresh_token: counts.refresh_token ?? 0,
    invalid_grant: counts.invalid_grant ?? 0,
  };
}

function main() {
  const options = readOptions();
  state.accessTokenTtl = options.accessTokenTtl;
  const server = http.createServer();
  server.listen(options.port, '127.0.0.1', () => {
    const { port } = server.address();
    const issuer = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, configuration(options));
    provider.use(testHooks(provider, options));
    observe(provider);
    server.on('request', provider.callback());
    console.log(`dev-provider ready: issuer=${issuer} port=${port} client_id=${options.clientId}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
