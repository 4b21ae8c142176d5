// Package inspect decodes, validates, verifies and mints Twilio Access Tokens.
//
// Inspect judges a token against every rule Twilio applies and gathers all
// findings rather than stopping at the first; each finding names the Twilio
// error code the service would answer. Mint writes the same tokens Twilio's
// helper libraries write. Everything here is a pure function of its inputs and
// an injected clock: the package knows nothing of files, environment or network.
//
// All functions are safe for concurrent use.
package inspect
