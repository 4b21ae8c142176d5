// Package debuglog is convctl's logging: a log/slog handler with timestamps
// relative to the start of the run, component tags, color by level on a
// terminal only, a JSON-lines form for machines, and redaction built into value
// types (Token, Secret) so that no call site can leak a credential.
//
// The package never touches global state: callers build a *slog.Logger and
// pass it down. A handler is safe for concurrent use.
package debuglog
