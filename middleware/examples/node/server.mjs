// An API that accepts orgid access tokens, in plain node:http with jose:
// discovery, the issuer's JWK Set (cached by jose, refetched on an unknown
// kid), the RFC 9068 checks, and Clerk-style has(permission).
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const issuer = process.env.ORGID_ISSUER ?? 'http://localhost:8080';
const audience = process.env.API_AUDIENCE ?? 'https://api.example.com';

const meta = await (await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)).json();
if (meta.issuer !== issuer) throw new Error(`discovery names issuer ${meta.issuer}, want ${issuer}`);
const jwks = createRemoteJWKSet(new URL(meta.jwks_uri));

// Exact membership in org_permissions, as Clerk's has({permission}).
const has = (claims, permission) =>
  Array.isArray(claims.org_permissions) && claims.org_permissions.includes(permission);

async function authenticate(req) {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const { payload } = await jwtVerify(m[1], jwks, {
    issuer, audience, typ: 'at+jwt', algorithms: ['RS256', 'ES256'],
    requiredClaims: ['sub', 'client_id', 'iat', 'exp'], clockTolerance: 30,
  });
  return payload;
}

function send(res, status, body, challenge) {
  if (challenge) res.setHeader('WWW-Authenticate', challenge);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  let claims;
  try {
    claims = await authenticate(req);
  } catch {
    return send(res, 401, { error: 'invalid_token' }, 'Bearer error="invalid_token"');
  }
  if (!claims) return send(res, 401, {}, 'Bearer'); // no token: no error code (RFC 6750 §3.1)
  const { pathname } = new URL(req.url, 'http://api');
  if (pathname === '/projects' && !has(claims, 'org:projects:manage')) {
    return send(res, 403, { error: 'insufficient_scope' }, 'Bearer error="insufficient_scope"');
  }
  send(res, 200, { sub: claims.sub, org_id: claims.org_id ?? null, org_role: claims.org_role ?? null });
});
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () =>
  console.log(`listening on ${server.address().port}`));
