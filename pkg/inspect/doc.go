// Package inspect decodes, validates, verifies and mints Twilio Access Tokens.
//
// Inspect judges a token against every rule Twilio applies and gathers all
// findings rather than stopping at the first; each finding names the Twilio
// error code the service would answer, and findings are ordered so the first
// error is the one Twilio would report. Messages and hints name the usual
// mistakes (an Account SID where the API Key SID belongs, a Messaging Service
// SID where the Conversations Service SID belongs, a TTL in milliseconds, a
// clock running ahead) and never contain the secret or the signature.
//
// Tokens that parsers read differently are findings too, errors where they
// touch security: a repeated claim (duplicate_claim, 20101: error for iss,
// sub, iat, nbf, exp, grants and the members of grants, warning for jti; the
// report judges the last value, as encoding/json does), a repeated header
// parameter (duplicate_header, 20102), a crit header (crit_unsupported, 20102:
// Twilio implements no JWS extension, and RFC 7515 says to reject what one
// does not understand), and an HS256 or HS512 signature whose last character
// sets the bits base64 leaves unused (noncanonical_signature, 20107: it
// decodes to the right MAC, but is not the text that was minted). Twilio does
// not document its answer to these; the codes are what a strict verifier
// would answer (docs/troubleshooting.md, "Ambiguous tokens").
//
// Mint writes the same tokens, byte for byte, as Twilio's Node helper library;
// the tests compare against tokens that library minted (testdata/tokens).
//
// Everything here is a pure function of its inputs and an injected clock: the
// package knows nothing of files, environment or network.
//
// Speed: a generic JWT parser decodes header and payload into maps. Inspect
// instead validates each part once and walks the JSON for the dozen fields
// its rules read, and an Inspector keeps keyed HMAC state in a sync.Pool, so
// judging every rule costs well under half of golang-jwt's jwt.Parse with
// MapClaims (see bench_test.go).
//
// All functions are safe for concurrent use, and so is an Inspector.
package inspect
