package debuglog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// stepClock returns a clock that starts at t0 and advances by step on each
// reading after the first, which the handler takes when it is made.
func stepClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	now := t0.Add(-step)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(step)
		return now
	}
}

func TestSlogtestJSON(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, Options{Format: FormatJSON})
	err := slogtest.TestHandler(h, func() []map[string]any {
		var out []map[string]any
		for line := range strings.Lines(buf.String()) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			out = append(out, slogtestShape(m))
		}
		return out
	})
	if err != nil {
		t.Error(err)
	}
}

// slogtestShape maps our JSON line onto the keys slogtest expects.
func slogtestShape(m map[string]any) map[string]any {
	r := map[string]any{}
	if attrs, ok := m["attrs"].(map[string]any); ok {
		for k, v := range attrs {
			r[k] = v
		}
	}
	if v, ok := m["elapsed_ms"]; ok {
		r[slog.TimeKey] = v
	}
	r[slog.LevelKey] = m["level"]
	r[slog.MessageKey] = m["msg"]
	return r
}

func TestSlogtestText(t *testing.T) {
	var buf bytes.Buffer
	h := NewHandler(&buf, Options{Format: FormatText})
	err := slogtest.TestHandler(h, func() []map[string]any {
		var out []map[string]any
		for line := range strings.Lines(buf.String()) {
			m, err := parseTextLine(strings.TrimSuffix(line, "\n"))
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			out = append(out, m)
		}
		return out
	})
	if err != nil {
		t.Error(err)
	}
}

// parseTextLine reads a text line back: [+elapsed] LEVEL [[component]] msg k=v…
// with dotted keys as nested maps. The message must be one word, as in slogtest.
func parseTextLine(line string) (map[string]any, error) {
	fields, err := splitQuoted(line)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if len(fields) > 0 && (fields[0][0] == '+' || fields[0][0] == '-') && strings.HasSuffix(fields[0], "s") {
		m[slog.TimeKey] = fields[0]
		fields = fields[1:]
	}
	if len(fields) < 2 {
		return nil, fmt.Errorf("want level and message, got %q", fields)
	}
	m[slog.LevelKey] = fields[0]
	fields = fields[1:]
	if strings.HasPrefix(fields[0], "[") {
		m[KeyComponent] = strings.Trim(fields[0], "[]")
		fields = fields[1:]
	}
	m[slog.MessageKey] = fields[0]
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("no = in %q", f)
		}
		if strings.HasPrefix(v, `"`) {
			if v, err = strconv.Unquote(v); err != nil {
				return nil, err
			}
		}
		cur := m
		path := strings.Split(k, ".")
		for _, g := range path[:len(path)-1] {
			next, ok := cur[g].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[g] = next
			}
			cur = next
		}
		cur[path[len(path)-1]] = v
	}
	return m, nil
}

func splitQuoted(s string) ([]string, error) {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " ")
		i, inQuote := 0, false
		for ; i < len(s); i++ {
			switch {
			case s[i] == '\\' && inQuote:
				i++
			case s[i] == '"':
				inQuote = !inQuote
			case s[i] == ' ' && !inQuote:
				goto done
			}
		}
	done:
		if inQuote {
			return nil, fmt.Errorf("unterminated quote in %q", s)
		}
		if i > 0 {
			out = append(out, s[:i])
		}
		s = s[i:]
	}
	return out, nil
}

type point struct{ X, Y int }

func logSample(l *slog.Logger) {
	probe := Component(l, "probe")
	probe.Debug("dialing", "url", "ws://127.0.0.1:4567/v3/wsconnect", "attempt", 1)
	probe.Info("connected", slog.Duration("took", 41200*time.Microsecond), "ok", true)
	probe.WithGroup("frame").Warn("unexpected frame", "method", "close", slog.Group("status", "code", 410, "status", "Token expired"))
	Component(l, "emulator").Error("handshake failed", "err", errors.New("websocket: bad handshake"), "peer", point{1, 2})
	l.Info("no component here", "empty", "", "quote", `say "hi"`, "eq", "a=b", "ratio", 0.25)
}

func TestTextOutput(t *testing.T) {
	var buf bytes.Buffer
	logSample(New(&buf, Options{Level: slog.LevelDebug, Now: stepClock(1234567 * time.Microsecond)}))
	want := `+1.234s DEBUG [probe] dialing url=ws://127.0.0.1:4567/v3/wsconnect attempt=1
+2.469s INFO  [probe] connected took=41.2ms ok=true
+3.703s WARN  [probe] unexpected frame frame.method=close frame.status.code=410 frame.status.status="Token expired"
+4.938s ERROR [emulator] handshake failed err="websocket: bad handshake" peer="{X:1 Y:2}"
+6.172s INFO  no component here empty="" quote="say \"hi\"" eq="a=b" ratio=0.25
`
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestColorOutput(t *testing.T) {
	var buf bytes.Buffer
	logSample(New(&buf, Options{Level: slog.LevelDebug, Color: true, Now: stepClock(time.Second)}))
	want := "+1.000s \x1b[90mDEBUG\x1b[0m [probe] dialing url=ws://127.0.0.1:4567/v3/wsconnect attempt=1\n" +
		"+2.000s \x1b[36mINFO\x1b[0m  [probe] connected took=41.2ms ok=true\n" +
		"+3.000s \x1b[33mWARN\x1b[0m  [probe] unexpected frame frame.method=close frame.status.code=410 frame.status.status=\"Token expired\"\n" +
		"+4.000s \x1b[1;31mERROR\x1b[0m [emulator] handshake failed err=\"websocket: bad handshake\" peer=\"{X:1 Y:2}\"\n" +
		"+5.000s \x1b[36mINFO\x1b[0m  no component here empty=\"\" quote=\"say \\\"hi\\\"\" eq=\"a=b\" ratio=0.25\n"
	if got := buf.String(); got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}

	// Color is for people: JSON never carries escape codes.
	buf.Reset()
	logSample(New(&buf, Options{Level: slog.LevelDebug, Color: true, Format: FormatJSON}))
	if strings.Contains(buf.String(), "\x1b") {
		t.Errorf("JSON output has escape codes: %q", buf.String())
	}
}

func TestJSONOutput(t *testing.T) {
	var buf bytes.Buffer
	logSample(New(&buf, Options{Level: slog.LevelDebug, Format: FormatJSON, Now: stepClock(1234567 * time.Microsecond)}))
	want := `{"elapsed_ms":1234.567,"level":"DEBUG","component":"probe","msg":"dialing","attrs":{"url":"ws://127.0.0.1:4567/v3/wsconnect","attempt":1}}
{"elapsed_ms":2469.134,"level":"INFO","component":"probe","msg":"connected","attrs":{"took":"41.2ms","ok":true}}
{"elapsed_ms":3703.701,"level":"WARN","component":"probe","msg":"unexpected frame","attrs":{"frame":{"method":"close","status":{"code":410,"status":"Token expired"}}}}
{"elapsed_ms":4938.268,"level":"ERROR","component":"emulator","msg":"handshake failed","attrs":{"err":"websocket: bad handshake","peer":{"X":1,"Y":2}}}
{"elapsed_ms":6172.835,"level":"INFO","msg":"no component here","attrs":{"empty":"","quote":"say \"hi\"","eq":"a=b","ratio":0.25}}
`
	if got := buf.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONGroups(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"with then group then nothing", func(l *slog.Logger) {
			l.With("a", 1).WithGroup("G").With("b", 2).WithGroup("H").WithGroup("I").Info("m")
		}, `{"level":"INFO","msg":"m","attrs":{"a":1,"G":{"b":2}}}`},
		{"group opened by record", func(l *slog.Logger) {
			l.WithGroup("G").WithGroup("H").Info("m", "x", 1)
		}, `{"level":"INFO","msg":"m","attrs":{"G":{"H":{"x":1}}}}`},
		{"empty group only", func(l *slog.Logger) {
			l.WithGroup("G").Info("m", slog.Group("E"))
		}, `{"level":"INFO","msg":"m"}`},
		{"component inside a group is an attribute", func(l *slog.Logger) {
			l.WithGroup("G").Info("m", KeyComponent, "x")
		}, `{"level":"INFO","msg":"m","attrs":{"G":{"component":"x"}}}`},
		{"component from record wins", func(l *slog.Logger) {
			Component(l, "probe").Info("m", KeyComponent, "frame")
		}, `{"level":"INFO","component":"frame","msg":"m"}`},
		{"odd values stay valid JSON", func(l *slog.Logger) {
			l.Info("m\n\x00", "nan", math.NaN(), "inf", math.Inf(1), "bad", "\xff", "ls", "\u2028", "nil", nil)
		}, `{"level":"INFO","msg":"m\n\u0000","attrs":{"nan":"NaN","inf":"+Inf","bad":"\ufffd","ls":"\u2028","nil":"<nil>"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := NewHandler(&buf, Options{Format: FormatJSON})
			tt.log(slog.New(zeroTime{h}))
			got := strings.TrimSuffix(buf.String(), "\n")
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON: %s", got)
			}
		})
	}
}

// zeroTime drops the record's time so outputs are exact.
type zeroTime struct{ slog.Handler }

func (z zeroTime) Handle(ctx context.Context, r slog.Record) error {
	r.Time = time.Time{}
	return z.Handler.Handle(ctx, r)
}
func (z zeroTime) WithAttrs(as []slog.Attr) slog.Handler { return zeroTime{z.Handler.WithAttrs(as)} }
func (z zeroTime) WithGroup(g string) slog.Handler       { return zeroTime{z.Handler.WithGroup(g)} }

func TestTextEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"multi-line message stays one line", func(l *slog.Logger) { l.Info("a\nb") }, `INFO  "a\nb"`},
		{"key with space is quoted", func(l *slog.Logger) { l.Info("m", "a b", 1) }, `INFO  m "a b"=1`},
		{"inline group with empty key", func(l *slog.Logger) { l.Info("m", slog.Group("", "c", "d")) }, `INFO  m c=d`},
		{"retagging replaces", func(l *slog.Logger) { Component(Component(l, "probe"), "frame").Info("m") }, `INFO  [frame] m`},
		{"custom level", func(l *slog.Logger) { l.Log(context.Background(), slog.LevelInfo+2, "m") }, `INFO+2 m`},
		{"time value", func(l *slog.Logger) { l.Info("m", "at", t0) }, `INFO  m at=2026-11-25T10:00:00Z`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(zeroTime{NewHandler(&buf, Options{})}))
			if got := strings.TrimSuffix(buf.String(), "\n"); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "+0.000s"},
		{999 * time.Microsecond, "+0.000s"},
		{5 * time.Millisecond, "+0.005s"},
		{61*time.Second + 20*time.Millisecond, "+61.020s"},
		{-1500 * time.Millisecond, "-1.500s"},
	}
	for _, tt := range tests {
		if got := string(appendElapsed(nil, tt.d)); got != tt.want {
			t.Errorf("appendElapsed(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStartAndRecordTime(t *testing.T) {
	// Without Now, elapsed comes from the record's own time.
	var buf bytes.Buffer
	h := NewHandler(&buf, Options{Start: t0})
	r := slog.NewRecord(t0.Add(2500*time.Millisecond), slog.LevelInfo, "m", 0)
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), "+2.500s INFO  m\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	lv := new(slog.LevelVar)
	l := New(&buf, Options{Level: lv})
	l.Debug("hidden")
	l.Info("shown")
	lv.Set(slog.LevelDebug)
	l.Debug("now shown")
	got := buf.String()
	if strings.Contains(got, "hidden") || !strings.Contains(got, "shown") || !strings.Contains(got, "now shown") {
		t.Errorf("output %q", got)
	}
	if Discard().Handler().Enabled(context.Background(), slog.LevelError) {
		t.Error("Discard logger is enabled")
	}
}

func TestHandlerRedactsEverywhere(t *testing.T) {
	for _, f := range []Format{FormatText, FormatJSON} {
		t.Run(f.String(), func(t *testing.T) {
			var buf bytes.Buffer
			l := New(&buf, Options{Format: f, Level: slog.LevelDebug})
			frame := `{"method":"init","token":"` + tok1 + `"}`
			l.With("tok", Token(tok2)).Debug("sent "+tok1, "header", frame, "err", errors.New("bad token "+tok2),
				"raw", []byte(tok1), "m", map[string]string{"token": tok2}, "secret", Secret("s3cr3t"))
			out := buf.String()
			for _, leak := range []string{sig1, sig2, "s3cr3t"} {
				if strings.Contains(out, leak) {
					t.Errorf("%q leaked in %s", leak, out)
				}
			}
			if n := strings.Count(out, RedactedSignature); n != 6 {
				t.Errorf("%d redactions, want 6: %s", n, out)
			}
		})
	}
}

func TestConcurrentLinesDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, Options{Format: FormatJSON})
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			cl := Component(l, fmt.Sprint("w", w)).WithGroup("g")
			for i := range each {
				cl.Info("tick", "i", i, "pad", strings.Repeat("x", 100))
			}
		})
	}
	wg.Wait()
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		n++
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("corrupt line %q", sc.Text())
		}
	}
	if n != workers*each {
		t.Errorf("%d lines, want %d", n, workers*each)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorReturned(t *testing.T) {
	h := NewHandler(failWriter{}, Options{})
	if err := h.Handle(context.Background(), slog.NewRecord(t0, slog.LevelInfo, "m", 0)); err == nil {
		t.Error("write error swallowed")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"text": FormatText, "JSON": FormatJSON, " json ": FormatJSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("ParseFormat(yaml) error = %v", err)
	}
}

func BenchmarkHandler(b *testing.B) {
	for _, f := range []Format{FormatText, FormatJSON} {
		b.Run(f.String(), func(b *testing.B) {
			l := Component(New(discardWriter{}, Options{Format: f, Level: slog.LevelDebug}), "probe").With("conn", 1)
			frame := redactInputs[0].s
			b.ReportAllocs()
			for b.Loop() {
				l.Debug("frame sent", "method", "init", "size", len(frame), "header", frame)
			}
		})
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
