package debuglog

import (
	"encoding"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// ANSI SGR sequences by level. Plain codes rather than fatih/color, whose
// helpers consult the global color.NoColor; whether to color is the caller's
// decision, passed in Options.Color.
const (
	ansiReset = "\x1b[0m"
	ansiDebug = "\x1b[90m"   // bright black (gray)
	ansiInfo  = "\x1b[36m"   // cyan
	ansiWarn  = "\x1b[33m"   // yellow
	ansiError = "\x1b[1;31m" // bold red
)

func levelColor(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return ansiError
	case l >= slog.LevelWarn:
		return ansiWarn
	case l >= slog.LevelInfo:
		return ansiInfo
	}
	return ansiDebug
}

// appendElapsed writes d as signed seconds with millisecond precision
// ("+1.234s"), so lines of a run line up and diff cleanly.
func appendElapsed(b []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	if ms < 0 {
		b = append(b, '-')
		ms = -ms
	} else {
		b = append(b, '+')
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	b = append(b, '.')
	frac := ms % 1000
	if frac < 100 {
		b = append(b, '0')
	}
	if frac < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, frac, 10)
	return append(b, 's')
}

func (h *handler) appendText(b []byte, hasTime bool, elapsed time.Duration, level slog.Level, component, msg string, attrs []slog.Attr) []byte {
	if hasTime {
		b = appendElapsed(b, elapsed)
		b = append(b, ' ')
	}
	name := levelName(level)
	if h.color {
		b = append(b, levelColor(level)...)
		b = append(b, name...)
		b = append(b, ansiReset...)
	} else {
		b = append(b, name...)
	}
	for n := len(name); n < 5; n++ {
		b = append(b, ' ')
	}
	if component != "" {
		b = append(b, " ["...)
		b = append(b, component...)
		b = append(b, ']')
	}
	b = append(b, ' ')
	msg = RedactJWTs(msg)
	if needsQuoting(msg, false) {
		b = strconv.AppendQuote(b, msg)
	} else {
		b = append(b, msg...)
	}
	b = append(b, h.pre...)
	tw := textWriter{buf: b}
	prefix := groupPrefix(h.groups)
	for _, a := range attrs {
		tw.attr(prefix, a)
	}
	return append(tw.buf, '\n')
}

type textWriter struct{ buf []byte }

func (w *textWriter) attr(prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		if a.Key != "" {
			prefix += a.Key + "."
		}
		for _, c := range a.Value.Group() {
			w.attr(prefix, c)
		}
		return
	}
	w.buf = append(w.buf, ' ')
	w.buf = appendMaybeQuoted(w.buf, prefix+a.Key)
	w.buf = append(w.buf, '=')
	w.buf = appendTextValue(w.buf, a.Value)
}

func appendTextValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendMaybeQuoted(b, RedactJWTs(v.String()))
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		return strconv.AppendFloat(b, v.Float64(), 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return append(b, v.Duration().String()...)
	case slog.KindTime:
		return v.Time().AppendFormat(b, time.RFC3339Nano)
	}
	return appendMaybeQuoted(b, RedactJWTs(anyString(v.Any())))
}

// anyString renders values of KindAny: errors by their message, text
// marshalers by their text, everything else as fmt's %+v would.
func anyString(x any) string {
	switch x := x.(type) {
	case nil:
		return "<nil>"
	case error:
		return x.Error()
	case encoding.TextMarshaler:
		if t, err := x.MarshalText(); err == nil {
			return string(t)
		}
	case []byte:
		return string(x)
	}
	return fmt.Sprintf("%+v", x)
}

func appendMaybeQuoted(b []byte, s string) []byte {
	if needsQuoting(s, true) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// needsQuoting reports whether s would be ambiguous unquoted: as a value (or
// key) when empty or containing spaces, quotes or '='; anywhere when it holds
// control characters or invalid UTF-8 that would break the one-line format.
func needsQuoting(s string, value bool) bool {
	if value && s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f || (value && (c == ' ' || c == '"' || c == '=')) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || !unicode.IsPrint(r) || (value && unicode.IsSpace(r)) {
			return true
		}
		i += size
	}
	return false
}
