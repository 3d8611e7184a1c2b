// node oidc-provider configured like the broker: authorization code + PKCE S256, ES256 ID tokens,
// pairwise subjects, client_secret_basic and private_key_jwt (the client's public keys come in
// PEER_PKJWT_JWKS), refresh rotation, its development sign-in and consent pages.
// Benchmark peer only: keys are generated at start, secrets are fixtures.
import { createHash } from 'node:crypto';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const port = Number(process.env.PORT || 3000);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'peer-es256', alg: 'ES256', use: 'sig' };

const common = {
  redirect_uris: ['http://localhost/cb'],
  id_token_signed_response_alg: 'ES256',
  subject_type: 'pairwise',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};
const clients = [{
  ...common, client_id: 'bench', client_secret: 'bench-secret-fixture', token_endpoint_auth_method: 'client_secret_basic',
}];
if (process.env.PEER_PKJWT_JWKS) {
  clients.push({
    ...common,
    client_id: 'bench-pkjwt',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: JSON.parse(process.env.PEER_PKJWT_JWKS),
  });
}

// Its own in-memory adapter, with room for a whole run: the default one keeps 1,000 entries (an LRU
// of two generations), so at 100 flows/s a client whose grant goes unused for a few seconds (while
// the other client's scenario runs) loses it, and its next silent flow asks for consent again.
const store = new LRU({ maxSize: 1_000_000 });

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, store),
  clients,
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  subjectTypes: ['public', 'pairwise'],
  features: { devInteractions: { enabled: true } },
  pairwiseIdentifier: async (ctx, accountId, client) => createHash('sha256')
    .update(`${client.sectorIdentifier}\0${accountId}\0peer-salt`).digest('base64url'),
  rotateRefreshToken: true,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.org`, email_verified: true }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  ttl: { AccessToken: 180, AuthorizationCode: 60, IdToken: 600, Session: 3600, Grant: 3600, Interaction: 600 },
  cookies: { keys: ['bench-cookie-key-fixture'] },
});
provider.listen(port, '127.0.0.1', () => console.log(`peer listening on ${issuer}`));
