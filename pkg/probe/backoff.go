package probe

import "time"

// backoff is the SDK's retry schedule: min, doubling, capped at max, each
// delay moved by up to ±jitter. A server's reconnect_min_ms raises the floor
// and restarts the doubling from it; a successful connection resets both.
type backoff struct {
	policy Backoff
	floor  time.Duration
	n      int
}

func (b *backoff) next(r float64) time.Duration {
	lo := max(b.policy.Min, b.floor)
	hi := max(b.policy.Max, lo)
	d := lo
	for i := 0; i < b.n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	b.n++
	// r in [0,1) maps to a factor in [1-jitter, 1+jitter).
	f := 1 + b.policy.Jitter*(2*r-1)
	return time.Duration(float64(d) * f)
}

// raise applies a server's backoff_policy.reconnect_min_ms.
func (b *backoff) raise(d time.Duration) {
	if d <= 0 {
		return
	}
	b.floor = d
	b.n = 0
}

func (b *backoff) reset() {
	b.floor = 0
	b.n = 0
}
