// Package twilsock is the wire codec of Twilsock, the WebSocket protocol under
// every Twilio Conversations SDK. It encodes and decodes frames, names every
// method both directions use, and carries the catalogue of status, close and
// Twilio error codes.
//
// A frame is one binary WebSocket message:
//
//	TWILSOCK V3.0 <N>\r\n<header: N bytes of JSON>\r\n<payload: payload_size bytes>
//
// The codec is shared by the client (package probe) and the server (package
// emulator); it knows nothing of sockets. Decode is strict: every deviation
// from the grammar is an error that names the offending byte offset, and a
// header longer than MaxHeaderSize is refused before anything is allocated.
//
// All functions are safe for concurrent use; values are not shared.
package twilsock
