// A real OpenID provider for the desk's single sign-on tests: panva's oidc-provider (a certified
// implementation), started by tests/sso/conftest.py on a loopback port.
//
//   PORT     the port to listen on (127.0.0.1)
//   CLIENTS  JSON list of {client_id, client_secret}: the desk's registrations
//
// Accounts: the login name is "email" or "email;group1,group2" (any password), so a test chooses
// the e-mail and the groups claim the provider sends.
//
// Test-only control (never in a real provider): POST /__test__/next-token with {"mode": ...}
// makes the next token response carry a broken ID token:
//   tamper          the payload altered after signing (the signature no longer matches)
//   wrong-audience  aud set to another client, re-signed with the provider's real key
//   expired         exp an hour ago, re-signed with the provider's real key
import { createServer } from 'node:http';

import { CompactSign, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || '[]').map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: ['http://testserver/sso/callback/'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
}));

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(signingJwk, 'RS256');

function account(id) {
  const [email, groupList = ''] = String(id).split(';');
  const groups = groupList.split(',').map((g) => g.trim()).filter(Boolean);
  return {
    accountId: id,
    async claims() {
      return {
        sub: email.toLowerCase(),
        email,
        email_verified: true,
        name: email.split('@')[0],
        groups,
      };
    },
  };
}

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  findAccount: async (ctx, id) => account(id),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  // The claims of the granted scopes go into the ID token itself.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 600 },
  // First-party test clients: no consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

// The desk's test server (Django's test client) and the browser tests' live server both call
// back on loopback or "testserver": any port of theirs is the registered one.
const allowed = provider.Client.prototype.redirectUriAllowed;
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(uri) {
  const url = new URL(uri);
  if (url.pathname === '/sso/callback/' && ['127.0.0.1', 'localhost'].includes(url.hostname)) {
    return true;
  }
  return allowed.call(this, uri);
};

let nextMode = null;

async function resign(idToken, change) {
  const header = decodeProtectedHeader(idToken);
  const payload = { ...decodeJwt(idToken), ...change(decodeJwt(idToken)) };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(signingKey);
}

async function broken(idToken, mode) {
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'tamper') {
    const [head, body, signature] = idToken.split('.');
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
    payload.email = 'mallory@acme.test';
    return [head, Buffer.from(JSON.stringify(payload)).toString('base64url'), signature].join('.');
  }
  if (mode === 'wrong-audience') {
    return resign(idToken, () => ({ aud: 'another-application' }));
  }
  if (mode === 'expired') {
    return resign(idToken, () => ({ iat: now - 7200, exp: now - 3600 }));
  }
  throw new Error(`unknown mode ${mode}`);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test__/next-token' && ctx.method === 'POST') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    nextMode = JSON.parse(Buffer.concat(chunks).toString() || '{}').mode || null;
    ctx.body = { mode: nextMode };
    return;
  }
  await next();
  if (ctx.path === '/token' && nextMode && ctx.status === 200 && ctx.body?.id_token) {
    const mode = nextMode;
    nextMode = null;
    ctx.body = { ...ctx.body, id_token: await broken(ctx.body.id_token, mode) };
  }
});

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
