package emulator

import (
	"sync"
	"time"
)

// logBudget rate-limits one kind of log line, so that a client sending junk
// as fast as it can, or a crowd refused at the cap, cannot flood the log: the
// first burst lines of each window go out, the rest are counted, and the
// next line let through says how many were left out before it.
type logBudget struct {
	burst  int
	window time.Duration
	now    func() time.Time // time.Now; tests set their own

	mu      sync.Mutex
	start   time.Time
	used    int
	dropped int64
}

func newLogBudget(burst int, window time.Duration) *logBudget {
	return &logBudget{burst: burst, window: window, now: time.Now}
}

// take reports whether a line may be logged now and, if so, how many lines
// were left out since the last one that was.
func (b *logBudget) take() (ok bool, suppressed int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now := b.now(); b.start.IsZero() || now.Sub(b.start) >= b.window {
		b.start, b.used = now, 0
	}
	if b.used >= b.burst {
		b.dropped++
		return false, 0
	}
	b.used++
	suppressed, b.dropped = b.dropped, 0
	return true, suppressed
}

// drain returns the count of lines left out and not yet reported, and
// forgets it.
func (b *logBudget) drain() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.dropped
	b.dropped = 0
	return n
}
