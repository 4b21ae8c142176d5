package cli

import (
	"fmt"
	"io"
	"sync"
)

// statusLine is the one "rewrite a line on stderr" widget: a single line a
// person at a terminal watches change (a countdown, the check running now),
// cleared before anything else is printed and when the command ends. It is
// silent unless stderr is a terminal. Safe for concurrent use.
type statusLine struct {
	on bool
	w  io.Writer
	cs *ColorScheme

	mu    sync.Mutex
	shown bool
}

func newStatusLine(io *IOStreams) *statusLine {
	return &statusLine{on: io.IsStderrTTY(), w: io.ErrOut, cs: io.ErrColorScheme()}
}

// show replaces the line with text (already painted by the caller).
func (p *statusLine) show(text string) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K"+text)
	p.shown = true
}

// println clears the line and prints a whole line above where it was.
func (p *statusLine) println(line string) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintln(p.w, line)
}

// clear removes the line, if one is on screen.
func (p *statusLine) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *statusLine) clearLocked() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}
