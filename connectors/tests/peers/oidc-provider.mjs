// An independent OpenID Provider for Tessera's sign-in tests: panva's oidc-provider (a
// certified implementation) on a loopback port, with one confidential client and two people.
// Sign-in interactions finish at once for the account named in `?account=` (default alice),
// so a test drives the whole authorization-code + PKCE flow over HTTP.
//
// Usage: node oidc-provider.mjs <client_id> <client_secret> <redirect_uri> <post_logout_uri>
// Prints one JSON line {"issuer": "..."} once listening; runs until killed.
import http from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret, redirectUri, postLogoutUri] = process.argv.slice(2);
if (!postLogoutUri) {
  console.error('usage: node oidc-provider.mjs <client_id> <client_secret> <redirect_uri> <post_logout_uri>');
  process.exit(2);
}

const accounts = {
  alice: {
    name: 'Alice Admin',
    preferred_username: 'alice@peer.example',
    email: 'alice@peer.example',
    email_verified: true,
    groups: ['g-security', 'g-platform'],
    roles: ['Tessera.SecurityAdmin'],
  },
  bob: {
    name: 'Bob Builder',
    preferred_username: 'bob@peer.example',
    email: 'bob@peer.example',
    email_verified: true,
    groups: ['g-platform'],
    roles: [],
  },
};

const configuration = {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub', 'groups', 'roles'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // Scope claims go into the ID token too (Tessera reads roles and groups from it).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['tessera-peer-test-only'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
    if (!match || ctx.method !== 'GET') return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const accountId = ctx.query.account || 'alice';
    if (!accounts[accountId]) {
      const url = await provider.interactionResult(ctx.req, ctx.res, {
        error: 'access_denied', error_description: 'no such account',
      });
      return ctx.redirect(url);
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    const url = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId },
      consent: { grantId },
    }, { mergeWithLastSubmission: false });
    return ctx.redirect(url);
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});
