// A certified OpenID provider (panva's oidc-provider) on loopback, for the
// integration tests: client credentials with resource indicators, JWT access
// tokens signed with RS256, PS256, ES256 or EdDSA (one resource each), and a
// key rotation on request. Prints {"issuer": ...} once it listens.
//
//   node tests/oidc/issuer.mjs
//   POST /token   client_credentials, resource=https://<alg>.interventions.test
//   POST /rotate  new keys first, the old ones still published
import http from 'node:http';
import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

export const CLIENT_ID = 'interventions-web';
export const CLIENT_SECRET = 'oidc-test-client-secret-0123456789';
const CLAIMS = 'https://interventions.test';
const RESOURCES = {
  'https://rs256.interventions.test': 'RS256',
  'https://ps256.interventions.test': 'PS256',
  'https://es256.interventions.test': 'ES256',
  'https://eddsa.interventions.test': 'EdDSA',
};

async function keys(generation) {
  const out = [];
  for (const [alg, opts] of [['RS256', { modulusLength: 2048 }], ['ES256', {}], ['EdDSA', { crv: 'Ed25519' }]]) {
    const { privateKey } = await jose.generateKeyPair(alg, { ...opts, extractable: true });
    const jwk = await jose.exportJWK(privateKey);
    // No `alg` on the RSA key: it signs RS256 and PS256, as Entra's keys do.
    out.push({ ...jwk, kid: `${alg.toLowerCase()}-${generation}`, use: 'sig' });
  }
  return out;
}

function provider(issuer, keySet) {
  const p = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'interventions:read interventions:verify',
    }],
    jwks: { keys: keySet },
    scopes: ['interventions:read', 'interventions:verify'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo(ctx, resource) {
          const alg = RESOURCES[resource];
          if (!alg) throw new errors.InvalidTarget();
          return {
            scope: 'interventions:read interventions:verify',
            audience: resource,
            accessTokenTTL: 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          };
        },
      },
    },
    // The application's user id and organisations, as an operator maps them
    // into namespaced custom claims.
    extraTokenClaims() {
      return { [`${CLAIMS}/userId`]: '4242', [`${CLAIMS}/organizationIds`]: [77] };
    },
  });
  p.on('server_error', (ctx, err) => console.error('server_error', err));
  return p;
}

const server = http.createServer();
server.listen(0, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  let generation = 1;
  let published = await keys(generation);
  let current = provider(issuer, published).callback();
  server.on('request', async (req, res) => {
    if (req.method === 'POST' && req.url === '/rotate') {
      generation += 1;
      // The new keys sign; the previous ones stay published for a while.
      published = [...(await keys(generation)), ...published.slice(0, 3)];
      current = provider(issuer, published).callback();
      res.end(JSON.stringify({ generation }));
      return;
    }
    current(req, res);
  });
  console.log(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
});
