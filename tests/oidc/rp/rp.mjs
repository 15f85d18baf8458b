// An independent relying party for the provider's tests: openid-client (panva, OpenID
// certified) doing what a partner service's code does. One step per run:
//
//   node rp.mjs <command> < request.json   →   one JSON object on stdout
//
// Every request names the provider and the client: {issuer, client_id, client_secret,
// auth: "basic" | "post"}. The JWKS cache goes in and out as `jwks_cache`, so a test can
// play a relying party that keeps its cached keys between steps. A refusal is reported as
// {"error": {...}} (exit 0): the tests assert on it; only a broken request exits 1.
import * as client from 'openid-client'

const commands = {
  // Discovery: the provider metadata as openid-client understood it.
  async discover (config) {
    return { metadata: config.serverMetadata() }
  },

  // The authorization request: PKCE S256, state and nonce, plus any extra parameters.
  async authorize (config, input) {
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: input.redirect_uri,
      scope: input.scope ?? 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(input.params ?? {})
    })
    return { url: url.href, code_verifier: verifier, state, nonce }
  },

  // The callback: code → tokens, ID token validated (signature, iss, aud, exp, nonce,
  // at_hash, auth_time against max_age), then optionally userinfo.
  async grant (config, input) {
    const checks = {
      pkceCodeVerifier: input.code_verifier,
      expectedState: input.state,
      expectedNonce: input.nonce,
      idTokenExpected: true
    }
    if (input.max_age !== undefined) checks.maxAge = input.max_age
    const tokens = await client.authorizationCodeGrant(config, new URL(input.url), checks)
    return withUserinfo(config, tokens, input)
  },

  async refresh (config, input) {
    const tokens = await client.refreshTokenGrant(config, input.refresh_token,
      input.scope ? { scope: input.scope } : undefined)
    return withUserinfo(config, tokens, input)
  },

  async userinfo (config, input) {
    return { userinfo: await client.fetchUserInfo(config, input.access_token, input.sub) }
  },

  async revoke (config, input) {
    await client.tokenRevocation(config, input.token,
      input.hint ? { token_type_hint: input.hint } : undefined)
    return { revoked: true }
  },

  async end_session (config, input) {
    return { url: client.buildEndSessionUrl(config, input.params ?? {}).href }
  }
}

async function withUserinfo (config, tokens, input) {
  const claims = tokens.claims()
  const result = { tokens: { ...tokens }, claims }
  if (input.userinfo) {
    result.userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
  }
  return result
}

async function configure (input) {
  const auth = input.auth === 'post'
    ? client.ClientSecretPost(input.client_secret)
    : client.ClientSecretBasic(input.client_secret)
  // The tests serve the provider on http://127.0.0.1; real deployments are https.
  const config = await client.discovery(new URL(input.issuer), input.client_id,
    undefined, auth, { execute: [client.allowInsecureRequests] })
  client.enableNonRepudiationChecks(config) // verify ID token signatures, not only TLS
  if (input.jwks_cache) client.setJwksCache(config, input.jwks_cache)
  return config
}

function describe (error) {
  // A 401 with WWW-Authenticate arrives as challenges; take the RFC 6749 code from either.
  const challenge = Array.isArray(error.cause) ? error.cause[0]?.parameters : undefined
  return {
    name: error.name,
    code: error.code,
    message: error.message,
    error: error.error ?? challenge?.error ?? null,
    error_description: error.error_description ?? challenge?.error_description ?? null,
    status: error.status ?? error.response?.status ?? null
  }
}

async function main () {
  const command = commands[process.argv[2]]
  if (!command) throw new Error(`unknown command ${process.argv[2]}`)
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
  let result
  let config
  try {
    config = await configure(input)
    result = await command(config, input)
  } catch (error) {
    result = { error: describe(error) }
  }
  if (config) result.jwks_cache = client.getJwksCache(config) ?? null
  process.stdout.write(JSON.stringify(result) + '\n')
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error) + '\n')
  process.exit(1)
})
