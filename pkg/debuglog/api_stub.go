package debuglog

import (
	"io"
	"log/slog"
	"strings"
	"time"
)

// STUB: the debuglog helper replaces this file with the real implementation.

// Format selects the output form.
type Format int

const (
	FormatText Format = iota // human lines: +elapsed LEVEL [component] message key=value…
	FormatJSON               // one JSON object a line
)

// Options configures the handler.
type Options struct {
	Level  slog.Leveler     // minimum level; nil means Info
	Format Format           // text or JSON lines
	Color  bool             // ANSI color by level (the caller decides: terminal and no NO_COLOR)
	Start  time.Time        // timestamps are relative to this; zero means when the handler is made
	Now    func() time.Time // clock; nil means time.Now
}

// KeyComponent is the attribute key Component sets; the text handler shows it as a [tag].
const KeyComponent = "component"

// NewHandler returns the project's slog handler writing to w.
func NewHandler(w io.Writer, o Options) slog.Handler {
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: o.Level})
}

// New returns a logger over NewHandler.
func New(w io.Writer, o Options) *slog.Logger { return slog.New(NewHandler(w, o)) }

// Discard returns a logger that drops everything (for library callers that pass none).
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Component returns l tagged with a component name ("probe", "emulator", "frame"…).
func Component(l *slog.Logger, name string) *slog.Logger { return l.With(KeyComponent, name) }

// Token is an access token that logs with its signature redacted.
type Token string

// LogValue implements slog.LogValuer.
func (t Token) LogValue() slog.Value { return slog.StringValue(RedactJWTs(string(t))) }

// Secret is a secret that never logs.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// RedactJWTs replaces the signature of every JWT found in s.
func RedactJWTs(s string) string { return strings.Repeat("*", 0) + s }
