package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/twilsock"
)

// connState is where a connection is in its life, as the control API names it.
type connState uint8

const (
	stateOpen         connState = iota // upgraded, no init yet
	stateInitialising                  // init received, not answered yet
	stateConnected                     // init answered 200
	stateDenied                        // init or update answered 401; the client should close
	stateClosing                       // a close frame went one way or the other
	stateClosed
)

var stateNames = [...]string{"open", "initialising", "connected", "denied", "closing", "closed"}

func (s connState) String() string { return stateNames[s] }

// serverCapabilities are the capabilities the server can confirm.
var serverCapabilities = []string{"client_update", "offline_storage", "telemetry.v1"}

// outKind says what the writer is asked to do.
type outKind uint8

const (
	outFrame         outKind = iota // write frame, then apply the effects
	outAboutToExpire                // push client_update token_about_to_expire now
	outClose                        // push a close with status (and backoff for 308)
	outCloseSocket                  // the client asked to close: WebSocket close, end
)

// outgoing is one request to a connection's writer.
type outgoing struct {
	kind  outKind
	frame []byte

	// Effects of an outFrame, applied once it is written.
	session   bool      // a session is in force (init or update accepted): no grace period runs
	expires   time.Time // with session: the token's exp, to (re)arm its timers
	disarm    bool      // no token is in force any more: stop its timers, expect the client to close
	armFaults bool      // this is the server's first initialised connection

	// outClose
	status  twilsock.Status
	backoff time.Duration

	// outCloseSocket: the WebSocket close code and reason (0: 1000, none)
	closeCode int
	closeText string

	// done, if not nil, hears whether the writer carried the request out, so
	// that a control call returns once its frame is on the wire.
	done chan error
}

// conn is one WebSocket connection. The reader and the writer are its only
// goroutines; the fields under mu are what the control API reads.
type conn struct {
	s        *Server
	n        int64
	id       string
	remote   string
	ws       *websocket.Conn
	out      chan *outgoing
	quit     chan struct{} // closed by the writer as it ends
	readDone chan struct{} // closed by the reader as it ends
	stopping bool          // the writer's: Shutdown has begun, so writes get a short deadline

	mu          sync.Mutex
	state       connState
	identity    string
	expires     time.Time
	ct          string
	openedAt    time.Time
	connectedAt time.Time
}

func newConn(s *Server, ws *websocket.Conn, remote string) *conn {
	n := s.seq.Add(1)
	return &conn{
		s:        s,
		n:        n,
		id:       "c" + strconv.FormatInt(n, 10),
		remote:   remote,
		ws:       ws,
		out:      make(chan *outgoing, 2),
		quit:     make(chan struct{}),
		readDone: make(chan struct{}),
		openedAt: s.cfg.Clock(),
	}
}

func (c *conn) getState() connState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *conn) setState(st connState) {
	c.mu.Lock()
	c.setStateLocked(st)
	c.mu.Unlock()
	c.s.publish(c, EventState)
}

// setStateLocked keeps the Connected gauge in step with the state.
func (c *conn) setStateLocked(st connState) {
	if c.state == st {
		return
	}
	if c.state == stateConnected {
		c.s.stats.connected.Add(-1)
	}
	if st == stateConnected {
		c.s.stats.connected.Add(1)
	}
	c.state = st
}

// send hands m to the writer. It fails only once the writer has ended.
func (c *conn) send(m outgoing) bool {
	select {
	case c.out <- &m:
		return true
	case <-c.quit:
		return false
	}
}

// command is send for the control API: it returns once the writer has
// carried m out, bounded by the request's context.
func (c *conn) command(ctx context.Context, m outgoing) error {
	m.done = make(chan error, 1)
	select {
	case c.out <- &m:
	case <-c.quit:
		return errGone
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-m.done:
		return err
	case <-c.quit:
		return errGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errGone = errors.New("connection closed meanwhile")

// ---------------------------------------------------------------------------
// Reader

func (c *conn) readLoop() {
	defer c.s.wg.Done()
	defer close(c.readDone)
	growStack()
	c.startReading()
	ws := c.ws
	for {
		// An idle connection's reader waits here, at the bottom of
		// gorilla's read path; everything else is out of line (receive),
		// so that the frames parked on this stack stay small enough for
		// the runtime to shrink the goroutine to a 4 KiB stack.
		mt, r, err := ws.NextReader()
		if err != nil {
			c.logReadEnd(err)
			return
		}
		if !c.receive(mt, r) {
			return
		}
	}
}

// startReading sets the read deadline and the pong handler. The read limit
// is readMessage's, so that a message over it gets a close with a reason.
func (c *conn) startReading() {
	ws := c.ws
	wait := 2 * c.s.cfg.PingInterval
	ws.SetReadLimit(0)
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	// The SDK's ws library and browsers answer pings; a pong proves the
	// connection is alive even when the client has nothing to say.
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(wait)) })
}

// receive reads one message, up to MaxMessageSize bytes, and acts on it. A
// longer one is not read further: the connection is closed with 1009 and a
// reason (gorilla's own limit sends 1009 without one), and the reader goes
// on discarding until the peer closes or the writer cuts the socket.
//
//go:noinline
func (c *conn) receive(mt int, r io.Reader) bool {
	data, err := io.ReadAll(io.LimitReader(r, MaxMessageSize+1))
	if err != nil {
		c.logReadEnd(err)
		return false
	}
	if len(data) > MaxMessageSize {
		c.s.stats.oversized.Add(1)
		c.warnFrame("message over the size limit: closing with 1009", "limit", MaxMessageSize)
		return c.send(outgoing{kind: outCloseSocket, closeCode: websocket.CloseMessageTooBig,
			closeText: "message over " + strconv.Itoa(MaxMessageSize) + " bytes"})
	}
	return c.received(mt, data)
}

// received acts on one WebSocket message.
func (c *conn) received(mt int, data []byte) bool {
	_ = c.ws.SetReadDeadline(time.Now().Add(2 * c.s.cfg.PingInterval))
	if mt != websocket.BinaryMessage {
		c.s.stats.textFrames.Add(1)
		c.warnFrame("text message ignored: Twilsock frames are binary", "bytes", len(data),
			"text", debuglog.RedactJWTs(clip(data)))
		return true
	}
	f, err := twilsock.Decode(data)
	if err != nil {
		if errors.Is(err, twilsock.ErrTooLarge) {
			return c.tooLarge(data, err)
		}
		c.s.stats.malformed.Add(1)
		c.warnFrame("malformed frame ignored", "bytes", len(data), "error", err,
			"frame", debuglog.RedactJWTs(clip(data)))
		return true
	}
	c.logFrame("frame received", f.RawHeader, f.Payload)
	return c.handle(&f.Header)
}

func (c *conn) logReadEnd(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		c.s.log.Debug("client closed the WebSocket", "conn", c.id, "code", ce.Code, "reason", ce.Text)
	case errors.As(err, &ne) && ne.Timeout():
		c.s.limitedLog(c.s.clientLog, slog.LevelInfo, "nothing received, not even a pong, for twice the ping interval: closing", "conn", c.id,
			"ping_interval", c.s.cfg.PingInterval)
	default:
		c.s.log.Debug("connection ended", "conn", c.id, "error", err)
	}
}

// handle acts on one frame. It returns false once the connection is going
// away and nothing more need be read.
func (c *conn) handle(h *twilsock.Header) bool {
	switch h.Method {
	case twilsock.MethodInit:
		return c.onInit(h)
	case twilsock.MethodUpdate:
		return c.onUpdate(h)
	case twilsock.MethodMessage:
		return c.onMessage(h)
	case twilsock.MethodReply:
		// The client's ack of something the server pushed: nothing to answer.
		c.s.stats.acks.Add(1)
	case twilsock.MethodTelemetry:
		// Fire and forget, sent because the init reply confirmed telemetry.v1.
		c.s.stats.telemetry.Add(1)
	case twilsock.MethodClose:
		c.s.stats.clientCloses.Add(1)
		c.setState(stateClosing)
		c.s.log.Debug("client sent close", "conn", c.id)
		return c.send(outgoing{kind: outCloseSocket})
	default:
		c.s.stats.ignored.Add(1)
		c.warnFrame("frame ignored: clients do not send this method", "method", clipS(h.Method), "id", clipS(h.ID))
	}
	return true
}

func (c *conn) onInit(h *twilsock.Header) bool {
	if st := c.getState(); st != stateOpen && st != stateDenied {
		c.warnFrame("init refused: connection already "+st.String(), "id", clipS(h.ID))
		return c.reply(h.ID, badRequest("init on a connection already "+st.String()))
	}
	c.setState(stateInitialising)
	if d := c.s.initDelay(); d > 0 {
		c.s.log.Debug("delaying the init reply (fault)", "conn", c.id, "delay", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.quit:
			t.Stop()
			return false
		}
	}
	if code := c.s.takeDeny(); code != 0 {
		return c.deny("init", h.ID, code, "every init is denied (fault)", "")
	}
	v := c.s.judge(h.Token)
	if !v.ok {
		return c.deny("init", h.ID, v.code, v.reason, v.identity)
	}

	ct, cts := c.s.sessions.resume(h.ContinuationToken, v.identity)
	caps := make([]string, 0, len(serverCapabilities))
	for _, cp := range h.Capabilities {
		if slices.Contains(serverCapabilities, cp) && !slices.Contains(caps, cp) {
			caps = append(caps, cp)
		}
	}
	reply := twilsock.NewInitReply(h.ID, ct, cts, caps,
		map[string]twilsock.OfflineStorage{twilsock.ProductConversations: {StorageID: storageID(v.identity)}},
		h.Registrations)
	reply.DebugInfo = json.RawMessage(`{"host":"convctl-emulator","conn":` + strconv.FormatInt(c.n, 10) + `}`)
	frame, err := twilsock.Encode(reply, nil)
	if err != nil { // only an absurd registrations list can do this
		c.s.log.Warn("init reply does not encode", "conn", c.id, "error", err)
		return c.reply(h.ID, badRequest("init reply does not encode: "+err.Error()))
	}

	now := c.s.cfg.Clock()
	c.mu.Lock()
	c.setStateLocked(stateConnected)
	c.identity, c.expires, c.ct, c.connectedAt = v.identity, v.expires, ct, now
	c.mu.Unlock()
	c.s.publish(c, EventState)
	c.s.stats.inits.Add(1)
	arm := c.s.faultsArmed.CompareAndSwap(false, true)
	c.s.log.Info("init accepted", "conn", c.id, "identity", v.identity, "expires_in", v.expires.Sub(now).Round(time.Second),
		"resumed", cts.Reused)
	return c.send(outgoing{frame: frame, session: true, expires: v.expires, armFaults: arm})
}

func (c *conn) onUpdate(h *twilsock.Header) bool {
	if st := c.getState(); st != stateConnected {
		c.warnFrame("update refused: connection "+st.String(), "id", clipS(h.ID))
		return c.reply(h.ID, badRequest("update on a connection that is "+st.String()+", not connected"))
	}
	v := c.s.judge(h.Token)
	if !v.ok {
		return c.deny("update", h.ID, v.code, v.reason, v.identity)
	}
	frame, _ := twilsock.Encode(twilsock.NewReply(h.ID, twilsock.OKStatus()), nil)
	c.mu.Lock()
	old := c.identity
	c.identity, c.expires = v.identity, v.expires
	c.mu.Unlock()
	c.s.publish(c, EventToken)
	if old != v.identity {
		c.s.log.Warn("update changes the identity", "conn", c.id, "from", old, "to", v.identity)
	}
	c.s.stats.updates.Add(1)
	c.s.log.Info("token updated", "conn", c.id, "identity", v.identity,
		"expires_in", v.expires.Sub(c.s.cfg.Clock()).Round(time.Second))
	return c.send(outgoing{frame: frame, session: true, expires: v.expires})
}

// deny answers init or update with 401 and a Twilio error code. The SDK then
// sends close and closes the socket itself; the writer waits CloseGrace for it.
func (c *conn) deny(what, id string, code int, reason, identity string) bool {
	frame, _ := twilsock.Encode(twilsock.NewReply(id, twilsock.DenyStatus(code)), nil)
	c.setState(stateDenied)
	c.s.stats.denied.Add(1)
	c.s.limitedLog(c.s.clientLog, slog.LevelInfo, what+" denied", "conn", c.id, "status", 401, "error_code", code,
		"description", twilsock.Describe(code), "reason", reason, "identity", identity)
	return c.send(outgoing{frame: frame, disarm: true})
}

// onMessage answers an upstream request. The emulator has no upstream: every
// request gets a 200 reply carrying http_status (404 by default) and a
// Twilio-style error body, which the SDK reports as a failed request instead
// of waiting 30 s for a reply that never comes.
func (c *conn) onMessage(h *twilsock.Header) bool {
	if st := c.getState(); st != stateConnected {
		// The SDK holds its requests until init is answered; a request
		// before that is refused as an update would be, never served.
		c.warnFrame("message refused: connection "+st.String(), "id", clipS(h.ID))
		return c.reply(h.ID, badRequest("message on a connection that is "+st.String()+", not connected: send init first"))
	}
	code := c.s.cfg.UpstreamStatus
	target := "(no http_request)"
	if r := h.HTTPRequest; r != nil {
		target = r.Method + " " + r.Host + r.Path
	}
	twilioCode := 0
	if code >= 400 && code < 600 {
		twilioCode = 20000 + code // 20404 Not Found, 20403, 20429, 20500, 20503…
	}
	body, _ := json.Marshal(twilsock.RESTError{
		Status:   code,
		Message:  "convctl emulator: no upstream for " + target,
		Code:     twilioCode,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(twilioCode),
	})
	hdr := twilsock.NewMessageReply(h.ID, twilsock.HTTPStatus{Code: code, Status: http.StatusText(code)},
		map[string]string{"Content-Type": "application/json"})
	frame, _ := twilsock.Encode(hdr, body)
	c.s.stats.messages.Add(1)
	c.s.log.Debug("upstream message answered", "conn", c.id, "request", target, "http_status", code)
	return c.send(outgoing{frame: frame})
}

func (c *conn) reply(id string, st twilsock.Status) bool {
	frame, _ := twilsock.Encode(twilsock.NewReply(id, st), nil)
	return c.send(outgoing{frame: frame})
}

func badRequest(desc string) twilsock.Status {
	return twilsock.Status{Code: http.StatusBadRequest, Status: "Bad Request", Description: desc}
}

// ---------------------------------------------------------------------------
// Writer

// timers are the writer's; nil means not armed.
type timers struct {
	ping, init, drop, offload, grace *time.Timer
	// token fires when the token in force enters its final window (aboutDue)
	// and then again when it expires: one timer, not two, for it is held by
	// every connected client.
	token    *time.Timer
	aboutDue bool
	expires  time.Time
}

func ch(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stop(t **time.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

func (t *timers) stopAll() {
	for _, p := range []**time.Timer{&t.ping, &t.init, &t.token, &t.drop, &t.offload, &t.grace} {
		stop(p)
	}
}

// ending says how the writer leaves its loop.
type ending uint8

const (
	endGone   ending = iota // the reader ended: the peer closed or the socket broke
	endClosed               // we sent a WebSocket close frame: wait briefly for the peer's
	endCut                  // cut at once (drop, write failure)
)

func (c *conn) writeLoop() {
	defer c.s.wg.Done()
	t := &timers{ping: time.NewTimer(c.s.cfg.PingInterval)}
	if d := c.s.cfg.InitTimeout; d > 0 {
		t.init = time.NewTimer(d)
	}
	end := c.serve(t)
	t.stopAll()
	close(c.quit)
	if end == endClosed {
		wait := time.NewTimer(closeWait)
		select {
		case <-c.readDone:
		case <-wait.C:
		case <-c.s.force:
		}
		wait.Stop()
	}
	_ = c.ws.Close()
	<-c.readDone // prompt: the socket is closed and quit unblocks the reader elsewhere
	c.setState(stateClosed)
	c.s.unregister(c)
	c.s.log.Debug("connection closed", "conn", c.id)
}

func (c *conn) serve(t *timers) ending {
	// The loop only waits and dispatches: an idle connection's writer sits
	// parked in this select, and the smaller its frame, the smaller the
	// stack the runtime can shrink the goroutine to (see readLoop).
	for {
		var end ending
		var done bool
		select {
		case m := <-c.out:
			end, done = c.request(m, t)
		case <-t.ping.C:
			end, done = c.ping(t)
		case <-ch(t.init):
			end, done = c.timerFired(t, &t.init)
		case <-ch(t.token):
			end, done = c.timerFired(t, &t.token)
		case <-ch(t.drop):
			end, done = c.timerFired(t, &t.drop)
		case <-ch(t.offload):
			end, done = c.timerFired(t, &t.offload)
		case <-ch(t.grace):
			end, done = c.timerFired(t, &t.grace)
		case <-c.s.shutdown:
			return c.goodbye(t)
		case <-c.readDone:
			return endGone
		}
		if done {
			return end
		}
	}
}

// request carries out m and tells a control call waiting on it.
//
//go:noinline
func (c *conn) request(m *outgoing, t *timers) (ending, bool) {
	end, done := c.apply(m, t)
	if m.done != nil {
		if done && end == endCut {
			m.done <- errGone
		} else {
			m.done <- nil
		}
	}
	return end, done
}

//go:noinline
func (c *conn) ping(t *timers) (ending, bool) {
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
		return endCut, true
	}
	t.ping.Reset(c.s.cfg.PingInterval)
	return 0, false
}

// timerFired acts on the timer *p, which has fired.
//
//go:noinline
func (c *conn) timerFired(t *timers, p **time.Timer) (ending, bool) {
	*p = nil
	cfg := &c.s.cfg
	switch p {
	case &t.init:
		if st := c.getState(); st != stateOpen {
			return 0, false
		}
		c.s.stats.initTimeouts.Add(1)
		c.s.limitedLog(c.s.clientLog, slog.LevelInfo, "no init within the init timeout: closing", "conn", c.id, "init_timeout", cfg.InitTimeout)
		return c.closeSocket(websocket.ClosePolicyViolation, "no init within "+cfg.InitTimeout.String()), true
	case &t.token:
		if t.aboutDue {
			t.aboutDue = false
			if !c.pushAboutToExpire() {
				return endCut, true
			}
			t.token = time.NewTimer(max(t.expires.Sub(c.s.cfg.Clock()), 0))
			return 0, false
		}
		c.s.stats.expired.Add(1)
		c.s.log.Info("token expired: close 410", "conn", c.id)
		if !c.serverClose(t, twilsock.CloseStatus(twilsock.CloseTokenExpired), 0) {
			return endCut, true
		}
	case &t.drop:
		c.drop("fault drop-after " + cfg.DropAfter.String())
		return endCut, true
	case &t.offload:
		c.s.log.Info("offload (fault offload-after): close 308", "conn", c.id, "after", cfg.OffloadAfter, "backoff", cfg.OffloadBackoff)
		c.s.stats.offloads.Add(1)
		if !c.serverClose(t, twilsock.CloseStatus(twilsock.CloseOffload), cfg.OffloadBackoff) {
			return endCut, true
		}
	case &t.grace:
		c.s.limitedLog(c.s.clientLog, slog.LevelInfo, "client did not close the socket within the grace period: closing it", "conn", c.id, "grace", cfg.CloseGrace)
		return c.closeSocket(websocket.CloseNormalClosure, ""), true
	}
	return 0, false
}

// goodbye is the writer's part in Shutdown: a Twilsock offload for an
// initialised client, then a WebSocket close 1001, each written with a short
// deadline, for a peer that does not read must not hold the server up.
//
//go:noinline
func (c *conn) goodbye(t *timers) ending {
	c.stopping = true
	if c.getState() == stateConnected {
		st := twilsock.CloseStatus(twilsock.CloseOffload)
		st.Description = "server shutting down"
		if !c.serverClose(t, st, c.s.cfg.OffloadBackoff) {
			return endCut
		}
	}
	return c.closeSocket(websocket.CloseGoingAway, "server shutting down")
}

// apply carries out one request; done reports that the connection ends.
func (c *conn) apply(m *outgoing, t *timers) (end ending, done bool) {
	switch m.kind {
	case outFrame:
		if c.write(m.frame) != nil {
			return endCut, true
		}
		if m.disarm {
			stop(&t.token)
			c.startGrace(t)
		}
		if m.session {
			stop(&t.init)
		}
		if m.session && c.getState() == stateConnected {
			// A client denied once may init again on the same socket.
			stop(&t.grace)
			if !m.expires.IsZero() && !c.arm(t, m.expires) {
				return endCut, true
			}
		}
		if m.armFaults {
			cfg := &c.s.cfg
			if cfg.DropAfter > 0 {
				t.drop = time.NewTimer(cfg.DropAfter)
			}
			if cfg.OffloadAfter > 0 {
				t.offload = time.NewTimer(cfg.OffloadAfter)
			}
			if cfg.DropAfter > 0 || cfg.OffloadAfter > 0 {
				c.s.log.Info("first initialised connection: faults armed", "conn", c.id,
					"drop_after", cfg.DropAfter, "offload_after", cfg.OffloadAfter)
			}
		}
	case outAboutToExpire:
		if !c.pushAboutToExpire() {
			return endCut, true
		}
	case outClose:
		if m.status.Code == twilsock.CloseOffload {
			c.s.stats.offloads.Add(1)
		}
		if !c.serverClose(t, m.status, m.backoff) {
			return endCut, true
		}
	case outCloseSocket:
		if m.closeCode != 0 {
			return c.closeSocket(m.closeCode, m.closeText), true
		}
		return c.closeSocket(websocket.CloseNormalClosure, ""), true
	}
	return 0, false
}

// arm schedules token_about_to_expire and the close 410 for a token expiring
// at exp, replacing the timer of the token before it. Inside the window
// already, the client_update goes out at once.
func (c *conn) arm(t *timers, exp time.Time) bool {
	stop(&t.token)
	now := c.s.cfg.Clock()
	t.expires = exp
	if d := exp.Add(-c.s.cfg.AboutToExpire).Sub(now); d > 0 {
		t.token, t.aboutDue = time.NewTimer(d), true
		return true
	}
	if !c.pushAboutToExpire() {
		return false
	}
	t.token, t.aboutDue = time.NewTimer(max(exp.Sub(now), 0)), false
	return true
}

func (c *conn) pushAboutToExpire() bool {
	if st := c.getState(); st != stateConnected {
		c.s.log.Debug("token_about_to_expire not sent: connection "+st.String(), "conn", c.id)
		return true
	}
	frame, _ := twilsock.Encode(twilsock.NewClientUpdate(twilsock.ClientUpdateTokenAboutToExpire), nil)
	// Counted before the write, so whoever sees the frame sees the count.
	c.s.stats.aboutToExpire.Add(1)
	c.s.log.Info("token about to expire: client_update", "conn", c.id)
	return c.write(frame) == nil
}

// serverClose pushes a Twilsock close. The SDK acks it and closes the socket;
// the token's and the faults' timers no longer matter.
func (c *conn) serverClose(t *timers, st twilsock.Status, backoff time.Duration) bool {
	var policy *twilsock.BackoffPolicy
	if st.Code == twilsock.CloseOffload {
		policy = &twilsock.BackoffPolicy{ReconnectMinMS: int(backoff.Milliseconds())}
	}
	hdr, payload, err := twilsock.NewServerClose(st, policy)
	if err != nil {
		return false
	}
	frame, err := twilsock.Encode(hdr, payload)
	if err != nil {
		return false
	}
	c.setState(stateClosing)
	c.s.stats.serverCloses.Add(1)
	c.s.log.Info("close", "conn", c.id, "code", st.Code, "status", st.Status, "error_code", st.ErrorCode)
	if c.write(frame) != nil {
		return false
	}
	stop(&t.token)
	stop(&t.drop)
	stop(&t.offload)
	c.startGrace(t)
	return true
}

func (c *conn) startGrace(t *timers) {
	if t.grace == nil {
		t.grace = time.NewTimer(c.s.cfg.CloseGrace)
	}
}

// closeSocket sends a WebSocket close frame; the writer then waits briefly for
// the peer's before closing the TCP connection.
func (c *conn) closeSocket(code int, text string) ending {
	c.setState(stateClosing)
	err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), c.writeDeadline())
	if err != nil {
		return endCut
	}
	c.s.log.Debug("WebSocket close sent", "conn", c.id, "code", code, "reason", text)
	return endClosed
}

// drop cuts the TCP connection with no close frame, Twilsock or WebSocket.
// Safe from any goroutine: closing a net.Conn is.
func (c *conn) drop(why string) {
	c.s.stats.drops.Add(1)
	c.s.log.Info("dropping the TCP connection, no close frame", "conn", c.id, "why", why)
	c.setState(stateClosing)
	_ = c.ws.NetConn().Close()
}

// writeDeadline bounds the writer's next write: writeWait, or during
// Shutdown shutdownWriteWait, so a peer that stopped reading cannot hold a
// close frame, and the server's stop, for long.
func (c *conn) writeDeadline() time.Time {
	if c.stopping {
		return time.Now().Add(shutdownWriteWait)
	}
	return time.Now().Add(writeWait)
}

func (c *conn) write(frame []byte) error {
	_ = c.ws.SetWriteDeadline(c.writeDeadline())
	if err := c.ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
		c.s.log.Debug("write failed", "conn", c.id, "error", err)
		return err
	}
	if c.s.log.Enabled(context.Background(), slog.LevelDebug) {
		if f, err := twilsock.Decode(frame); err == nil {
			c.logFrame("frame sent", f.RawHeader, f.Payload)
		}
	}
	return nil
}

// logFrame logs a frame at debug level, tokens redacted.
func (c *conn) logFrame(msg string, header, payload []byte) {
	if !c.s.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []any{"conn", c.id, "size", len(header) + len(payload), "header", debuglog.RedactJWTs(string(header))}
	if len(payload) > 0 {
		attrs = append(attrs, "payload", debuglog.RedactJWTs(clip(payload)))
	}
	c.s.log.Debug(msg, attrs...)
}

// clipS is clip for a string a client sent.
func clipS(s string) string { return clip([]byte(s)) }

// clip keeps a log line bounded whatever a client sends.
func clip(b []byte) string {
	const limit = 256
	if len(b) > limit {
		return string(b[:limit]) + "…(" + strconv.Itoa(len(b)) + " bytes)"
	}
	return string(b)
}

// growStack grows the calling goroutine's stack once, while it is shallow
// and cheap to copy, to the size judging a token needs. Grown later, deep
// inside the token checks, the stack is copied two or three times frame by
// frame: a tenth of the server's CPU per handshake. An idle connection's
// stack shrinks back at the next garbage collections as usual.
//
//go:noinline
func growStack() {
	var pad [12 << 10]byte
	runtime.KeepAlive(&pad)
}
