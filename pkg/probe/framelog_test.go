package probe

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/debuglog"
)

// The limiter on a clock the test moves: FrameLogBurst whole frames of a
// kind per window, the rest counted into one summary when the window is
// over, kinds apart, unknown methods one kind.
func TestFrameLimiter(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Unix(1000, 0)
	l := newFrameLimiter(func() time.Time { return now })
	shown := func(k frameKind, n int) int {
		c := 0
		for range n {
			if l.allow(log, k) {
				c++
			}
		}
		return c
	}
	notif, ack := kindOf("recv", "notification"), kindOf("send", "reply")
	if got := shown(notif, 10342+FrameLogBurst); got != FrameLogBurst {
		t.Errorf("%d notifications shown whole in one window, want %d", got, FrameLogBurst)
	}
	if got := shown(ack, 3); got != 3 {
		t.Errorf("acks are another kind: %d of 3 shown", got)
	}
	if buf.Len() != 0 {
		t.Errorf("a summary before its window is over: %s", buf.String())
	}
	now = now.Add(FrameLogWindow)
	if !l.allow(log, notif) {
		t.Errorf("the first frame of the next window is not shown")
	}
	want := "… 10,342 more notification frames received in the last 1s"
	if got := buf.String(); strings.Count(got, "more") != 1 || !strings.Contains(got, want) || !strings.Contains(got, "folded=10342") {
		t.Errorf("summary = %q, want one line saying %q", got, want)
	}
	buf.Reset()
	// Methods a peer makes up are one kind, so it cannot grow the map.
	for i := range 1000 {
		l.allow(log, kindOf("recv", "made-up-"+strconv.Itoa(i)))
	}
	if len(l.kinds) != 2 {
		t.Errorf("%d kinds after 1000 made-up methods", len(l.kinds))
	}
	now = now.Add(10 * time.Millisecond)
	l.flush(log, now, true)
	if got := buf.String(); !strings.Contains(got, "… 990 more other frames received in the last 10ms") || strings.Count(got, "more") != 1 {
		t.Errorf("final flush = %q", got)
	}
	if len(l.kinds) != 0 {
		t.Errorf("windows left after the final flush: %d", len(l.kinds))
	}
}

// TestFloodDebugLogStaysSmall: with debug logging on, a flooding server
// used to get a log line (and a redacted header) per frame both ways:
// megabytes a second. Now each kind shows its first frames whole a second,
// then one summary line.
func TestFloodDebugLogStaysSmall(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind floodKind
		what string
	}{
		{"notifications", floodNotify, "notification frames received"},
		{"junk frames", floodJunk, "undecodable frames received"},
		{"text messages", floodText, "text frames received"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent atomic.Int64
			fs := newFakeServer(t, scriptFlood(tc.kind, false, true, &sent))
			tok := mintToken(t, testSecret, time.Hour, "")
			var log bytes.Buffer
			cfg := fastConfig(fs.URL, tok)
			cfg.Logger = debuglog.New(&log, debuglog.Options{Level: slog.LevelDebug})
			cfg.Timeout = time.Second
			cfg.Hold = time.Hour // the run ends at its timeout, mid-flood
			cfg.NoReconnect = true
			rep := runProbeCtx(t, context.Background(), cfg)
			fs.close()
			got := log.String()
			frames := 0
			for _, e := range rep.Events {
				frames += max(e.Count, 1)
			}
			// At most two windows in a one-second run (three on a slow
			// machine), FrameLogBurst lines each for the flood and its
			// acks, a summary each, and the run's own few dozen lines.
			const maxLog = 32 << 10
			if len(got) > maxLog {
				t.Errorf("debug log is %d bytes after %d frames sent, want <= %d", len(got), sent.Load(), maxLog)
			}
			m := regexp.MustCompile(`… ([\d,]+) more `+tc.what+` in the last`).FindAllStringSubmatch(got, -1)
			folded := 0
			for _, s := range m {
				n, _ := strconv.Atoi(strings.ReplaceAll(s[1], ",", ""))
				folded += n
			}
			if folded == 0 {
				t.Errorf("no summary line for %q after %d frames sent:\n%s", tc.what, sent.Load(), tail(got))
			}
			if sig := tok[strings.LastIndexByte(tok, '.')+1:]; strings.Contains(got, sig) {
				t.Errorf("the token's signature is in the debug log")
			}
			if !strings.Contains(got, "[frame] send") || !strings.Contains(got, "method=init") {
				t.Errorf("the first frames are not logged whole:\n%s", tail(got))
			}
			t.Logf("%d frames sent, %d in events, %d folded into %d summaries, %d bytes of log", sent.Load(), frames, folded, len(m), len(got))
		})
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}
