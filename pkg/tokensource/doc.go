// Package tokensource reads the access token a command works on from where
// the user keeps it: a positional argument, stdin, a file, an environment
// variable, a shell command's output or an HTTP endpoint (docs/access-tokens.md,
// "Where convctl reads a token from"); and reads API Key secrets from a file or the environment.
//
// Spec holds what the flags said; Spec.Source checks that exactly one source
// was given and returns a Source, whose Fetch can be called again whenever a
// fresh token is wanted (connect --update-token, --renew): files, variables,
// commands and URLs are read anew each time, while an argument or stdin, which
// cannot change, give the same token again.
//
// Every error matches errors.Is(err, ErrInput), so the CLI can map them all to
// exit status 2. Messages name the source and say what to do; they never
// contain the token or the secret, nor a URL's query string or credentials.
// Failures caused by the context also match context.Canceled or
// context.DeadlineExceeded.
//
// A Source is safe for concurrent use. The package reads no global state
// unless the Spec leaves Getenv or Client nil, and never writes any.
package tokensource
