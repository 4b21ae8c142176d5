// Package netcheck checks every endpoint a Conversations client needs, the
// way the client reaches it, and returns the facts.
//
// A Conversations client must reach three hosts of its region on TCP 443
// (docs/network-path.md): tsock (the Twilsock WebSocket), mcs (media
// service) and media (media download). Twilio's SDKs also use cds and aim,
// which the JavaScript SDK reaches inside Twilsock, so they are checked but
// not required. Endpoints(region) lists them.
//
// For each endpoint, at once and each within Config.Timeout, Run dials
// through a shared *netpath.Dialer (the same proxy, address, TLS and
// curl-style redirection rules as a connect run), records DNS (A and AAAA
// separately, with their times, when the name is resolved here), every
// address tried, the proxy's answer and the TLS chain with its verdict, then
// takes the application step: tsock must answer a WebSocket upgrade of
// /v3/wsconnect with 101 (no token is sent; the socket is closed at once
// with a close frame), and an HTTPS endpoint counts as reachable on any HTTP
// answer, whose status is kept.
//
//	rep := netcheck.Run(ctx, netcheck.Config{Region: "us1", Net: netpath.Config{}})
//	for _, e := range rep.Endpoints { fmt.Println(e.Host, e.OK, e.Error) }
//
// Report.OK is true when every required endpoint answered. Warnings hold
// what works but will bite: IPv6 that fails where IPv4 works, TLS
// interception, a certificate close to expiry, a proxy in use or bypassed.
// A Summary accumulates Reports of repeated rounds into success ratios and
// percentiles per endpoint and phase.
//
// Hints say what to change or what to ask a network administrator for;
// they never name a command-line flag.
//
// Concurrency: Run is safe to call from several goroutines; a Checker keeps
// the dialer (and its loaded root pools) across rounds and is safe for
// concurrent use; Config.Observe is called from the endpoints' goroutines
// at once. A Summary is not: one goroutine adds to it. The package never
// prints and sets no globals.
package netcheck
