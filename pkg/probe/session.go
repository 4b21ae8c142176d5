package probe

import (
	"time"

	"github.com/gorilla/websocket"
)

// inbound is one WebSocket message (or pong) and when it arrived.
type inbound struct {
	typ  int
	data []byte
	at   time.Time
}

// wsConn is what a session needs of a WebSocket; *websocket.Conn has it.
// Tests put a scripted peer behind it (the fuzz target runs the state
// machine without a network, inside a synctest bubble).
type wsConn interface {
	ReadMessage() (messageType int, p []byte, err error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetWriteDeadline(t time.Time) error
	SetPongHandler(h func(appData string) error)
	Close() error
}

// session is one open WebSocket. Its reader goroutine is the only reader;
// Run's goroutine is the only writer (WriteMessage and WriteControl), so no
// write ever races another.
type session struct {
	ws    wsConn
	in    chan inbound
	pongs chan inbound
	done  chan struct{} // closed when the reader has returned
	err   error         // why the reader returned; read only after done
	stop  chan struct{}

	closed   bool
	writeErr error

	// The one request in flight (init or update): the SDK never overlaps them.
	pendingID     string
	pendingMethod string
	pendingAt     time.Time
	reqTimer      *time.Timer

	pingSeq  uint64
	pingOut  int
	pingSent map[string]time.Time
}

// startSession starts the reader. Its channel holds only a couple of
// messages: a peer that floods is then held back by TCP (the reader blocks
// until the state machine takes the next message), so memory stays at a few
// messages however fast the peer writes, and every message waits its turn
// with the timers in the state machine's select.
func startSession(ws wsConn) *session {
	s := &session{
		ws:       ws,
		in:       make(chan inbound, 2),
		pongs:    make(chan inbound, 4),
		done:     make(chan struct{}),
		stop:     make(chan struct{}),
		pingSent: map[string]time.Time{},
	}
	ws.SetPongHandler(func(data string) error {
		select {
		case s.pongs <- inbound{typ: websocket.PongMessage, data: []byte(data), at: time.Now()}:
		default: // the loop is behind; a missed pong only delays dead-peer detection
		}
		return nil
	})
	go s.read()
	return s
}

func (s *session) read() {
	defer close(s.done)
	for {
		typ, b, err := s.ws.ReadMessage()
		if err != nil {
			s.err = err
			return
		}
		select {
		case s.in <- inbound{typ: typ, data: b, at: time.Now()}:
		case <-s.stop:
			return
		}
	}
}

// reqC is the pending request's timeout channel, nil when nothing is pending.
func (s *session) reqC() <-chan time.Time {
	if s.reqTimer == nil {
		return nil
	}
	return s.reqTimer.C
}

func (s *session) clearPending() {
	if s.reqTimer != nil {
		s.reqTimer.Stop()
		s.reqTimer = nil
	}
	s.pendingID, s.pendingMethod = "", ""
}

// close drops the socket and waits (bounded) for the reader to return.
// Closing the net.Conn unblocks the reader at once, so the bound is a guard.
func (s *session) close() {
	if !s.closed {
		s.closed = true
		close(s.stop)
		s.ws.Close()
		s.clearPending()
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
	}
}
