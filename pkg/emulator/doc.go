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
// byte offset of the problem), a method a client never sends, and a request
// out of place (an update before init is answered 400). A WebSocket message
// over the read limit (MaxMessageSize) is the one exception: the WebSocket
// layer closes that connection with status 1009, as RFC 6455 asks, and the
// server goes on serving every other.
//
// Concurrency: each connection has exactly one reader goroutine and one
// writer goroutine; every write to the socket happens on the writer, which
// also owns the connection's timers (ping, about-to-expire, expiry, faults),
// so no lock is held across I/O. Server methods are safe for concurrent use.
// Shutdown closes every connection with a close frame and waits for every
// goroutine the server started.
package emulator
