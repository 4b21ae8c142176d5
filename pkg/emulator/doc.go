// Package emulator is a local Twilsock server: the server side of the
// protocol under every Twilio Conversations SDK (docs/protocol.md), good
// enough that Twilio's own JavaScript SDK connects to it, with the faults a
// client must survive on demand.
//
// A *Server is an http.Handler. It upgrades GET /v3/wsconnect to a WebSocket
// and serves the control API (docs/control-api.md) under /control/. It
// verifies every token with package inspect, as `convctl token inspect`
// judges it, answers init and update with 200 or 401 and the Twilio error
// code, pushes client_update token_about_to_expire when the token enters its
// final window and close 410 when it expires, and answers every upstream
// message with an HTTP 404 in a 200 reply: it never fakes the Conversations
// Configuration, because a plausible one commits the SDK to Sync requests no
// emulator answers (docs/protocol.md, "The Conversations client on top").
//
// Frames the server cannot use are logged and ignored, and the connection
// keeps serving: a text message (the real client drops text, so the server
// does too), a binary message that is not a Twilsock frame (the log names the
// byte offset of the problem), a method a client never sends. A request out
// of place is answered 400: an update or an upstream message before init
// (the SDK holds its requests until init is answered; the server serves no
// connection that has not authenticated). Those warnings are rate-limited
// (ten per ten seconds for all connections, then a count) and each is
// clipped and redacted, so a client sending junk cannot flood the log; so
// are the lines any client can cause by the thousand without a token (failed
// upgrades, denials, init and read timeouts), twenty per ten seconds.
//
// Limits (docs/serve-limits.md): a request whose header is over
// twilsock.MaxHeaderSize (64 KiB) is answered 413 on its id, so the SDK
// reports it instead of waiting 30 s and resending it forever; a WebSocket
// message over MaxMessageSize is answered with close 1009 and a reason. A
// connection that sends no init within Config.InitTimeout (30 s) is closed
// with 1008, pongs or not. At most Config.MaxConns WebSocket connections are
// open at once (by default the open-file limit less a tenth); one more
// upgrade is answered HTTP 503 while the control API, which is not counted,
// still answers. Server.Listener logs an accept that fails for want of file
// descriptors, which net/http only retries.
//
// The same handler serves the server's web side (web.go): a dashboard at /
// (embedded, offline), an event stream of every connection's changes at
// GET /control/events (server-sent events), server-wide faults that can be
// changed while it runs (/control/faults/…), and, with WebConfig.TokenEndpoint,
// GET /token minting tokens with Config.Secret. WebConfig.ControlToken guards
// all of it but the WebSocket endpoint.
//
// Concurrency: each connection has exactly one reader goroutine and one
// writer goroutine; every write to the socket happens on the writer, which
// also owns the connection's timers (ping, init deadline, token, faults), so
// no lock is held across I/O. Events are published from whichever goroutine
// made the change, under one lock that also snapshots the connection, so every
// stream sees them in one order; a stream that falls behind is cut, never
// waited for. Server methods are safe for concurrent use.
// Shutdown closes every connection with a close frame, cuts within half a
// second those that do not close, whatever their peers do, and waits for
// every goroutine the server started.
package emulator
