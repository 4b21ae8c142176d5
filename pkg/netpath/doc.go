// Package netpath is the dialer every convctl command that opens a
// connection shares: it finds the way to a host (an HTTP proxy from the
// configuration or the environment, or direct to each of the host's
// addresses in Happy Eyeballs order), opens it, does TLS when asked, and
// returns, with the connection, a Path: the facts of every step, success or
// failure.
//
// Typical use, as a gorilla/websocket dial hook:
//
//	d, err := netpath.New(netpath.Config{Proxy: u, ExtraRoots: company})
//	...
//	conn, path, err := d.Dial(ctx, netpath.Target{Host: "tsock.us1.twilio.com", Port: "443", TLS: true})
//	// path.Proxy, path.Addresses, path.TLS and path.Timing hold what happened,
//	// also when err != nil; err is then a *netpath.Error naming the failure
//	// (Kind) and the step (Phase).
//
// What it does, step by step:
//
//   - Route: Config.Proxy, when set, carries every connection, loopback
//     included, and NO_PROXY does not apply. Otherwise, unless
//     Config.NoProxyEnv, the environment is read as net/http reads it
//     (golang.org/x/net/http/httpproxy): https_proxy/HTTPS_PROXY for TLS
//     targets, http_proxy/HTTP_PROXY for plain ones (the lower-case name
//     wins), no_proxy/NO_PROXY entries (names match themselves and their
//     subdomains, a leading "." or "*." only subdomains, IPs, CIDRs,
//     optional ports, "*"), judged on the target's own host, and a loopback
//     or "localhost" target is never proxied. Path.ProxyBypassedBy says
//     which rule kept an environment proxy out. ConnectTo rules (as curl's
//     --connect-to) change the host and port dialled or asked for in
//     CONNECT, never the name used for TLS; Resolve rules (as curl's
//     --resolve) give the addresses of a name dialled directly.
//   - Proxy (phase "proxy"): TCP to the proxy (and TLS for an https://
//     proxy), then "CONNECT host:port", with Basic credentials from the
//     proxy URL's userinfo. The answer's status, Proxy-Authenticate and Via
//     headers are kept in Path.Proxy. A proxy resolves the target itself, so
//     Path.Addresses stays empty.
//   - Direct: DNS (phase "dns"), then TCP (phase "tcp") to each address in
//     the order Go's own dialer uses (RFC 8305 Happy Eyeballs: the first
//     address's family first, one address at a time, the other family
//     joining after Config.FallbackDelay), each recorded in Path.Addresses
//     with its family, connect time or error, and whether it carried the
//     connection. Config.Family keeps one family only.
//   - TLS (phase "tls"): the handshake completes whatever the certificate,
//     so the presented chain is always recorded; it is then verified against
//     this machine's roots plus Config.ExtraRoots (the verdict a client
//     here gets: a failure fails the dial) and against the public Web PKI
//     (Mozilla's roots, from golang.org/x/crypto/x509roots/fallback/bundle).
//     A chain trusted here but not publicly, or untrusted here with an
//     issuer that is not a public CA, for a name a public CA could certify,
//     is interception: TLS.InterceptedBy names the issuer. Reading the
//     trust stores (once per process) is left out of Timing.TLS.
//
// Where the configuration's proxy came from is the caller's to say
// (Config.ProxySource, "config" by default; convctl says "flag"); an
// environment proxy is named by its variable as written.
//
// Failures are *Error values with a Kind (KindProxyAuth, KindTLSExpired,
// ...) that callers switch on with errors.As, a Message stating the fact and
// a Hint saying what to change or what to ask a network administrator for.
// Neither names a command-line flag: that is the caller's vocabulary.
//
// Secrets: a proxy URL's password never leaves the package. Every string
// the package produces (Path, errors, log records) shows a proxy URL as
// Redact does: http://user:***@host:port.
//
// Concurrency: a Dialer is immutable after New and safe for concurrent use;
// each Dial is independent and returns its own Path. Target.OnStep is called
// before Dial returns and never concurrently. The package never
// prints and sets no globals; it logs to Config.Logger or Target.Logger at
// debug level.
package netpath
