package debuglog

import (
	"encoding/json"
	"log/slog"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendJSON writes one line:
//
//	{"elapsed_ms":1234.5,"level":"INFO","component":"probe","msg":"…","attrs":{…}}
//
// elapsed_ms is absent for a record without a time, component when there is
// none, attrs when there are none. Groups are nested objects; durations are
// strings as time.Duration prints them ("1.5s"); times are RFC 3339.
func (h *handler) appendJSON(b []byte, hasTime bool, elapsed time.Duration, level slog.Level, component, msg string, attrs []slog.Attr) []byte {
	b = append(b, '{')
	if hasTime {
		b = append(b, `"elapsed_ms":`...)
		b = strconv.AppendFloat(b, float64(elapsed.Microseconds())/1000, 'f', -1, 64)
		b = append(b, ',')
	}
	b = append(b, `"level":`...)
	b = appendJSONString(b, levelName(level))
	if component != "" {
		b = append(b, `,"component":`...)
		b = appendJSONString(b, component)
	}
	b = append(b, `,"msg":`...)
	b = appendJSONString(b, RedactJWTs(msg))

	recordHas := anyOutput(attrs)
	if len(h.pre) > 0 || recordHas {
		b = append(b, `,"attrs":{`...)
		b = append(b, h.pre...)
		closes := h.opened
		if recordHas {
			w := jsonWriter{buf: b, pendingGroups: h.groups[len(h.groups)-h.pending:]}
			for _, a := range attrs {
				w.attr(a)
			}
			b = w.buf
			closes += h.pending
		}
		for range closes {
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, "}\n"...)
}

// anyOutput reports whether any of as would produce output: not the zero
// Attr, not a group with nothing in it.
func anyOutput(as []slog.Attr) bool {
	for _, a := range as {
		v := a.Value.Resolve()
		if a.Key == "" && v.Equal(slog.Value{}) {
			continue
		}
		if v.Kind() == slog.KindGroup && !anyOutput(v.Group()) {
			continue
		}
		return true
	}
	return false
}

// jsonWriter writes the members of an object. Handler groups with no
// attribute written yet wait in pendingGroups, so an empty one never appears.
type jsonWriter struct {
	buf           []byte
	pendingGroups []string
}

func (w *jsonWriter) sep() {
	if n := len(w.buf); n > 0 && w.buf[n-1] != '{' {
		w.buf = append(w.buf, ',')
	}
}

func (w *jsonWriter) key(k string) {
	for _, g := range w.pendingGroups {
		w.sep()
		w.buf = appendJSONString(w.buf, g)
		w.buf = append(w.buf, ":{"...)
	}
	w.pendingGroups = nil
	w.sep()
	w.buf = appendJSONString(w.buf, k)
	w.buf = append(w.buf, ':')
}

func (w *jsonWriter) attr(a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		if !anyOutput(g) {
			return
		}
		if a.Key != "" {
			w.key(a.Key)
			w.buf = append(w.buf, '{')
		}
		for _, c := range g {
			w.attr(c)
		}
		if a.Key != "" {
			w.buf = append(w.buf, '}')
		}
		return
	}
	w.key(a.Key)
	w.buf = appendJSONValue(w.buf, a.Value)
}

func appendJSONValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendJSONString(b, RedactJWTs(v.String()))
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no NaN or infinity; a string keeps the line parseable.
			return appendJSONString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return appendJSONString(b, v.Duration().String())
	case slog.KindTime:
		return appendJSONString(b, v.Time().Format(time.RFC3339Nano))
	}
	x := v.Any()
	switch x.(type) {
	case error, []byte, nil:
		return appendJSONString(b, RedactJWTs(anyString(x)))
	}
	j, err := json.Marshal(x)
	if err != nil {
		return appendJSONString(b, RedactJWTs(anyString(x)))
	}
	// Redaction only rewrites runs of base64 characters inside the encoded
	// text, and its marker needs no escaping, so the result stays valid JSON.
	return append(b, RedactJWTs(string(j))...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string. Unlike encoding/json it does
// not escape <, > and &, which keeps the redaction marker readable; invalid
// UTF-8 becomes U+FFFD as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript that evals JSON lines.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
