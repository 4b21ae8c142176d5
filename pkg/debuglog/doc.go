// Package debuglog is convctl's logging: a log/slog handler with timestamps
// relative to the start of the run, component tags, color by level on a
// terminal only, a JSON-lines form for machines, and redaction built into value
// types (Token, Secret) so that no call site can leak a credential.
//
// Text lines read
//
//	+1.234s DEBUG [probe] frame sent method=init size=612
//
// and JSON lines
//
//	{"elapsed_ms":1234.5,"level":"DEBUG","component":"probe","msg":"frame sent","attrs":{"method":"init","size":612}}
//
// Redaction happens twice on purpose. Token and Secret redact themselves
// through slog.LogValuer (and fmt.Stringer), which protects them under any
// handler; and this handler passes every string it prints through RedactJWTs,
// so a token that reached a log call as a plain string or inside a raw frame
// still loses its signature. JWTs are recognised by structure, not by the
// usual "eyJ" prefix: two base64url parts that decode to JSON objects (a
// pretty-printed header, "ewog…", included) and a third; and the value of
// every JSON "token" member (a Twilsock init or update frame) loses its part
// after the last dot whatever it looks like.
//
// The package never touches global state (not slog.SetDefault, not
// color.NoColor): callers build a *slog.Logger and pass it down. A handler and
// every handler derived from it are safe for concurrent use; each record is one
// Write call to the underlying writer, under a mutex they share.
package debuglog
