package emulator

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The event stream (GET /control/events, docs/control-api.md): server-sent
// events, one JSON object a data: line, so a dashboard or a script sees a
// connection open, change state, take a new token, be acted on and close,
// without polling.

// Event kinds on the stream.
const (
	EventOpened = "opened" // a WebSocket was upgraded (or was open when the stream began)
	EventState  = "state"  // its state changed
	EventToken  = "token"  // an update brought a new token (identity, expiry)
	EventClosed = "closed" // its socket is closed; the last known fields, state "closed"
	EventAction = "action" // the control API acted on it
	EventFaults = "faults" // the server-wide faults changed (not a connection)
)

// Event is one connection event: the kind, then the fields of
// GET /control/connections/{id} at the moment it was published.
type Event struct {
	Event string `json:"event"`
	ConnInfo
	Action string    `json:"action,omitempty"` // with EventAction: about-to-expire, close, drop
	Code   int       `json:"code,omitempty"`   // with EventAction close: the close status
	At     time.Time `json:"at"`               // when the server published it, by its clock
}

// faultsEvent is the one event that is not about a connection.
type faultsEvent struct {
	Event  string    `json:"event"`
	Faults Faults    `json:"faults"`
	At     time.Time `json:"at"`
}

// subscriberBuffer is how many events a stream may fall behind before it is
// cut; an EventSource reconnects by itself and starts from a fresh snapshot.
const subscriberBuffer = 1024

// sseHeartbeat keeps idle streams alive through proxies that time out quiet
// connections, and lets a gone client be noticed.
const sseHeartbeat = 15 * time.Second

type subscriber struct {
	ch   chan []byte
	gone chan struct{} // closed when the subscriber fell behind and was cut
}

// broker fans events out to the streams. Events are encoded and sent under
// mu, each with a snapshot of its connection taken under mu too, so every
// stream sees them in one order, and a connection's state never goes
// backwards on it.
type broker struct {
	n    atomic.Int32 // subscribers: publishing is free while there are none
	mu   sync.Mutex
	subs map[*subscriber]struct{}
	last map[int64]string // per connection, the state last published
}

// subscribe registers a stream and returns, first, one opened event for each
// connection open now and the faults in force, so a stream needs no separate
// listing and misses nothing between the two.
func (s *Server) subscribe() (*subscriber, [][]byte) {
	b := &s.web.events
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = make(map[*subscriber]struct{})
		b.last = make(map[int64]string)
	}
	now := s.cfg.Clock().UTC()
	var lines [][]byte
	for _, c := range s.openConns() {
		info := c.info()
		if info.State == stateClosed.String() {
			continue
		}
		b.last[c.n] = info.State
		lines = append(lines, encodeEvent(Event{Event: EventOpened, ConnInfo: info, At: now}))
	}
	lines = append(lines, encodeEvent(faultsEvent{Event: EventFaults, Faults: s.Faults(), At: now}))
	sub := &subscriber{ch: make(chan []byte, subscriberBuffer), gone: make(chan struct{})}
	b.subs[sub] = struct{}{}
	b.n.Add(1)
	return sub, lines
}

func (s *Server) unsubscribe(sub *subscriber) {
	b := &s.web.events
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[sub]; ok {
		delete(b.subs, sub)
		b.n.Add(-1)
	}
	if len(b.subs) == 0 {
		clear(b.last)
	}
}

// publish sends a connection event of kind. A state event that repeats the
// state last published for the connection is dropped, as is one for a
// connection already closed (its closed event says so).
func (s *Server) publish(c *conn, kind string) {
	s.publishEvent(c, Event{Event: kind})
}

// publishAction says the control API acted on c.
func (s *Server) publishAction(c *conn, action string, code int) {
	s.publishEvent(c, Event{Event: EventAction, Action: action, Code: code})
}

func (s *Server) publishEvent(c *conn, ev Event) {
	b := &s.web.events
	if b.n.Load() == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) == 0 {
		return
	}
	ev.ConnInfo = c.info()
	closed := ev.ConnInfo.State == stateClosed.String()
	switch ev.Event {
	case EventOpened:
		if _, seen := b.last[c.n]; seen {
			return // the stream's opening snapshot already had it
		}
	case EventState:
		if closed || b.last[c.n] == ev.State {
			return
		}
	case EventClosed:
		delete(b.last, c.n)
	}
	if !closed {
		b.last[c.n] = ev.State
	}
	ev.At = s.cfg.Clock().UTC()
	b.sendLocked(encodeEvent(ev))
}

func (s *Server) publishFaults() {
	b := &s.web.events
	if b.n.Load() == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sendLocked(encodeEvent(faultsEvent{Event: EventFaults, Faults: s.Faults(), At: s.cfg.Clock().UTC()}))
}

func (b *broker) sendLocked(line []byte) {
	for sub := range b.subs {
		select {
		case sub.ch <- line:
		default:
			// Too far behind: cut it rather than block the server.
			delete(b.subs, sub)
			b.n.Add(-1)
			close(sub.gone)
		}
	}
}

func encodeEvent(v any) []byte {
	line, _ := json.Marshal(v) // plain structs: cannot fail
	return line
}

// openConns is every registered connection, in no order.
func (s *Server) openConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	return cs
}

// serveEvents is GET /control/events.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	sub, first := s.subscribe()
	defer s.unsubscribe(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeWait))
		_, err := w.Write(b)
		return err == nil
	}
	// retry: how soon an EventSource reconnects after the stream ends.
	buf := []byte("retry: 1000\n\n")
	for _, line := range first {
		buf = appendData(buf, line)
	}
	if !write(buf) || rc.Flush() != nil {
		return
	}
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	for {
		select {
		case line := <-sub.ch:
			buf = appendData(buf[:0], line)
			// Whatever else is queued goes in the same write.
			for more := true; more; {
				select {
				case l := <-sub.ch:
					buf = appendData(buf, l)
				default:
					more = false
				}
			}
			if !write(buf) || rc.Flush() != nil {
				return
			}
		case <-beat.C:
			if !write([]byte(": keepalive\n\n")) || rc.Flush() != nil {
				return
			}
		case <-sub.gone:
			return
		case <-r.Context().Done():
			return
		case <-s.shutdown:
			return
		}
	}
}

func appendData(buf, line []byte) []byte {
	buf = append(buf, "data: "...)
	buf = append(buf, line...)
	return append(buf, '\n', '\n')
}
