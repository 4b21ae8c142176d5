package testpeer

import (
	"bytes"
	"sync"
)

// Buffer collects what a server or command writes from several goroutines
// (its log, its stdout) for a test to read while it runs. OnWrite, when
// set, is called after each write, outside the lock: a test waiting for a
// line uses it as its signal instead of polling.
type Buffer struct {
	OnWrite func()

	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.b.Write(p)
	b.mu.Unlock()
	if b.OnWrite != nil {
		b.OnWrite()
	}
	return n, err
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
