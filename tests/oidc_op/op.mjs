// An independent OpenID provider for the portal's interop tests, built on panva's oidc-provider.
//
// Test use only: it keeps everything in memory, makes new keys at every start, signs anyone in
// without asking (a headless interaction), and grants whatever the portal asks for. It listens
// on 127.0.0.1 only. Configured from the environment:
//
//   OP_PORT                      the port to listen on (required)
//   OP_ISSUER                    the issuer (default http://127.0.0.1:OP_PORT)
//   RP_CLIENT_ID                 the portal's client id (default mlango)
//   RP_REDIRECT_URI              the portal's sign-in callback (required)
//   RP_POST_LOGOUT_REDIRECT_URI  where the portal wants people back after signing out (required)
//   RP_BACKCHANNEL_LOGOUT_URI    where logout tokens are posted (required)
//   RP_JWKS_URI                  the portal's public keys, for private_key_jwt (required)
//   OP_DEFAULT_ACCOUNT           who signs in when the request has no login_hint
//   OP_ALLOW_LOOPBACK_FETCH=1    let the provider reach the portal on loopback (see below)

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

function setting(name, fallback) {
  const value = process.env[name] || fallback;
  if (!value) {
    console.error(`op: ${name} is required`);
    process.exit(2);
  }
  return value;
}

const port = Number.parseInt(setting('OP_PORT'), 10);
const issuer = setting('OP_ISSUER', `http://127.0.0.1:${port}`);
const clientId = setting('RP_CLIENT_ID', 'mlango');

// The levels of assurance of the national-ID profile, weakest first; every sign-in here is a
// fingerprint match, so at the middle level.
const ACR_VALUES = ['urn:tz:nida:loa:low', 'urn:tz:nida:loa:substantial', 'urn:tz:nida:loa:high'];
const SIGN_IN_ACR = 'urn:tz:nida:loa:substantial';
const SIGN_IN_AMR = ['fpt'];

// Demo citizens, keyed by the account id that becomes their `sub`. Fictional people; the NINs
// are 20 digits, a date of birth then twelve digits, and belong to nobody.
const ACCOUNTS = {
  'raia-0001': {
    nin: '19900314000000000017',
    name: 'Zawadi Mshana',
    given_name: 'Zawadi',
    family_name: 'Mshana',
  },
  'raia-0002': {
    nin: '19761102000000000025',
    name: 'Juma Kiwelu',
    given_name: 'Juma',
    family_name: 'Kiwelu',
  },
};
const defaultAccount = setting('OP_DEFAULT_ACCOUNT', 'raia-0001');
if (!(defaultAccount in ACCOUNTS)) {
  console.error(`op: OP_DEFAULT_ACCOUNT names no demo account: ${defaultAccount}`);
  process.exit(2);
}

// A fresh ES256 signing key for every run.
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'op-es256-1', alg: 'ES256', use: 'sig' };

// The provider refuses to connect to special-use addresses (loopback among them) when it
// fetches a client's jwks_uri or posts a logout token. The portal under test listens on
// loopback, so a test may lift that guard, and only explicitly.
const loopbackFetch = process.env.OP_ALLOW_LOOPBACK_FETCH === '1';

function loopbackAllowed(url, options) {
  const { dispatcher, ...rest } = options;
  return globalThis.fetch(url, rest);
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_name: 'Mlango',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: setting('RP_JWKS_URI'),
      redirect_uris: [setting('RP_REDIRECT_URI')],
      post_logout_redirect_uris: [setting('RP_POST_LOGOUT_REDIRECT_URI')],
      backchannel_logout_uri: setting('RP_BACKCHANNEL_LOGOUT_URI'),
      backchannel_logout_session_required: true,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  acrValues: ACR_VALUES,
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    nin: null,
    acr: null,
    amr: null,
    auth_time: null,
    sid: null,
    iss: null,
  },
  responseTypes: ['code'],
  enabledJWA: {
    idTokenSigningAlgValues: ['ES256'],
    clientAuthSigningAlgValues: ['ES256', 'PS256'],
  },
  pkce: { required: () => true },
  // Short lives, in seconds: a test run is over in moments.
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 600,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, id) {
    const person = ACCOUNTS[id];
    if (!person) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...person };
      },
    };
  },
  // Every sign-in is granted what it asks for: the scopes and the claims of its request.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    const grant = (grantId && (await oidc.provider.Grant.find(grantId)))
      || new oidc.provider.Grant({ accountId: oidc.session.accountId, clientId: oidc.client.clientId });
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  ...(loopbackFetch ? { fetch: loopbackAllowed } : {}),
};

const provider = new Provider(issuer, configuration);

// The headless interaction: whoever `login_hint` names (or the default account) signs in at
// once, with the level and method above; consent never needs asking (see loadExistingGrant).
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/[\w-]+$/.exec(ctx.path);
  if (!match || ctx.method !== 'GET') {
    return next();
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.prompt.name !== 'login') {
    ctx.status = 400;
    ctx.body = `op: no headless answer to the ${details.prompt.name} prompt`;
    return undefined;
  }
  const hint = details.params.login_hint;
  const accountId = hint || defaultAccount;
  const result = accountId in ACCOUNTS
    ? { login: { accountId, acr: SIGN_IN_ACR, amr: SIGN_IN_AMR } }
    : { error: 'access_denied', error_description: 'no such demo account' };
  const location = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: false,
  });
  ctx.status = 303;
  ctx.redirect(location);
  return undefined;
});

// What went wrong, for the test's log: names and messages only, never a token or a NIN.
for (const event of [
  'server_error',
  'authorization.error',
  'grant.error',
  'userinfo.error',
  'end_session.error',
  'backchannel.error',
  'jwks.error',
]) {
  provider.on(event, (...args) => {
    const error = args.find((arg) => arg instanceof Error);
    const detail = error ? `${error.name}: ${error.message} ${error.error_description ?? ''}` : '';
    console.error(`op: ${event} ${detail}`.trim());
  });
}
provider.on('backchannel.success', (ctx, client) => {
  console.error(`op: backchannel.success ${client.clientId}`);
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.error(`op: ${issuer} listening${loopbackFetch ? ' (loopback fetches allowed)' : ''}`);
});

function stop() {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
