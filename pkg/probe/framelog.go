package probe

import (
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"time"

	"github.com/convctl/convctl/pkg/twilsock"
)

// The frame log is bounded as the report is: a peer that floods frames
// would otherwise have the debug log write a line (and redact a header)
// for each of them, tens of thousands a second.
const (
	// FrameLogBurst is how many frames of one kind (direction and
	// method) the debug log shows whole in each FrameLogWindow; the rest
	// of that window's are counted in one summary line.
	FrameLogBurst  = 10
	FrameLogWindow = time.Second
)

// frameLimiter decides which frames the debug log shows whole. A kind's
// window opens with its first frame; the first FrameLogBurst frames in it
// are shown, the rest counted, and the count is written as a summary once
// the window is over (at the next frame of any kind, or when the
// connection ends). Kinds are a fixed set, so a peer cannot grow it.
type frameLimiter struct {
	now   func() time.Time
	kinds map[frameKind]*frameWindow
}

// frameKind is what makes frames alike for the limit: which way, and the
// method (or text, or undecodable; a method Twilsock does not define is
// "other").
type frameKind struct{ dir, what string }

type frameWindow struct {
	start  time.Time
	shown  int
	folded int
}

func newFrameLimiter(now func() time.Time) *frameLimiter {
	return &frameLimiter{now: now, kinds: map[frameKind]*frameWindow{}}
}

var knownMethods = map[string]bool{
	twilsock.MethodInit: true, twilsock.MethodUpdate: true, twilsock.MethodClose: true,
	twilsock.MethodReply: true, twilsock.MethodMessage: true, twilsock.MethodTelemetry: true,
	twilsock.MethodClientUpdate: true, twilsock.MethodNotification: true,
}

func kindOf(dir, method string) frameKind {
	if !knownMethods[method] {
		method = "other"
	}
	return frameKind{dir: dir, what: method}
}

// allow reports whether a frame of kind k is shown whole. It first writes
// the summaries of windows that are over, so they come out in time order.
func (l *frameLimiter) allow(log *slog.Logger, k frameKind) bool {
	now := l.now()
	l.flush(log, now, false)
	w := l.kinds[k]
	if w == nil {
		w = &frameWindow{start: now}
		l.kinds[k] = w
	}
	if w.shown < FrameLogBurst {
		w.shown++
		return true
	}
	w.folded++
	return false
}

// flush writes a summary for each window that is over (all of them with
// all) and has folded frames, and forgets the windows that are over.
func (l *frameLimiter) flush(log *slog.Logger, now time.Time, all bool) {
	var over []frameKind
	for k, w := range l.kinds {
		if all || now.Sub(w.start) >= FrameLogWindow {
			over = append(over, k)
		}
	}
	if len(over) == 0 {
		return
	}
	sort.Slice(over, func(i, j int) bool {
		if wi, wj := l.kinds[over[i]], l.kinds[over[j]]; !wi.start.Equal(wj.start) {
			return wi.start.Before(wj.start)
		}
		return over[i].dir+over[i].what < over[j].dir+over[j].what
	})
	for _, k := range over {
		w := l.kinds[k]
		delete(l.kinds, k)
		if w.folded == 0 {
			continue
		}
		span := roundDur(now.Sub(w.start))
		way := "received"
		if k.dir == "send" {
			way = "sent"
		}
		log.Debug(fmt.Sprintf("… %s more %s frames %s in the last %s", thousands(w.folded), k.what, way, span),
			"dir", k.dir, "method", k.what, "folded", w.folded, "shown", w.shown, "window_ms", ms(now.Sub(w.start)))
	}
}

// thousands writes n with comma separators: 10,342.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
