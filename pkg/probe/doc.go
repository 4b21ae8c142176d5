// Package probe is a Twilsock client that behaves as Twilio's Conversations
// SDK does, and reports why a connection did or did not work.
//
// Run opens one connection to a Config.URL, walks it through the SDK's inner
// states (disconnected, connecting, initialising, connected, updating,
// retrying, error, rejected, disconnecting, waitSocketClosed,
// waitOffloadSocketClosed, unsupported), each mapped to the public state an
// app sees (Inner.Public), and returns a Report:
//
//	rep, err := probe.Run(ctx, probe.Config{
//		URL:   "wss://tsock.us1.twilio.com/v3/wsconnect",
//		Token: func(ctx context.Context) (string, error) { return tok, nil },
//		Hold:  10 * time.Second,
//	})
//	// err is only a bad Config (ErrConfig) or no first token (ErrToken;
//	// also ErrTokenTooLarge for one no Twilsock header can carry).
//	fmt.Println(rep.Outcome, rep.Cause)
//
// What the probe does as the SDK does: the same init (the Conversations
// client's metadata type and ip_messaging registration, with sdk "convctl"),
// a reply 200 ack for every frame the server pushes, update on request, the
// client close then the socket close on disconnect, the reconnect backoff
// (1 s doubling to 120 s, ±20 %, raised by an offload's or a 429's
// reconnect_min_ms, reset by success), continuation tokens across
// reconnects, and the 3 s the public state stays disconnecting after a
// server close. Every duration is in Config, so tests compress them.
//
// What it does beyond the SDK: it times each phase of an attempt (DNS, TCP,
// TLS, WebSocket upgrade, init round trip), reads the clock skew from the
// upgrade response's Date header, optionally pings while connected and
// declares a silent (half-open) peer dead, which the SDK never notices, and
// explains a failure as a Cause with a hint naming the fix: a rejected token
// is run through package inspect (with Config.Secret, the signature is
// checked), a region mismatch between the token's twr and the URL is named,
// an expiry during the run says whether tokenAboutToExpire came and whether
// renewing helped, and a timeout names the phase it struck.
//
// Every attempt dials through package netpath (Config.Network): an HTTP
// proxy from the configuration or the environment, each address in Happy
// Eyeballs order, TLS verified here and against the public Web PKI. The
// Report's Network holds that path (proxy and its answer, addresses, TLS
// chain and verdict) and Timing.Proxy its proxy phase; a failure the proxy
// or TLS caused is a Cause of kind proxy or tls, with netpath's words.
//
// The run is bounded: Run returns within Config.Timeout plus about a
// second whatever the peer does, and leaves no goroutine behind. So is the
// Report, however fast a peer floods: an event repeated more than FoldAfter
// times grows a count (Event.Count, Event.LastAtMS) instead of the list,
// every list keeps its first and latest entries up to a bound (MaxStates and
// the rest) and counts the rest in Report.Omitted, and text a peer supplied
// is cut to MaxMessageBytes. The reader holds at most a couple of messages
// ahead of the state machine, so a flood is held back by TCP, not buffered.
// The debug log (Config.Logger) is bounded too: it shows the first
// FrameLogBurst frames of each kind (direction and method) in every
// FrameLogWindow whole, tokens redacted, and counts the rest of that
// window's in one line ("… 10,342 more notification frames received in the
// last 1s").
//
// Hints say what to change in an app's or a deployment's terms, never a
// command's flags; the facts a command needs to word its own advice are in
// the Report (Renew, RegionMismatch, Token.Signature, Cause.Phase).
//
// Concurrency: Run is safe to call from several goroutines at once; each
// call is independent. Within a run, one goroutine (the caller's) drives the
// state machine and is the only writer to the socket, and a reader
// goroutine feeds it frames. Config.Observer and Config.Token are called
// from the caller's goroutine, in order; the package never prints and never
// touches global state.
package probe
