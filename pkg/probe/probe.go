package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/twilsock"
)

// Bounds on our own clean-up, so that a dead peer can never hold a run past
// its timeout by more than about a second.
const (
	writeTimeout = 5 * time.Second
	closeGrace   = 250 * time.Millisecond
)

var errRunTimeout = errors.New("probe: run timed out")

// renewEvery is the least time between two renewals: a server asks once
// per token, a few minutes before it expires.
const renewEvery = time.Second

// conversationsMessageTypes are the notification types the Conversations
// client registers for (docs/protocol.md, "Client to server").
var conversationsMessageTypes = []string{
	"twilio.ipmsg.typing_indicator", "twilio.sync.event",
	"com.twilio.rtd.cds.document", "com.twilio.rtd.cds.list", "com.twilio.rtd.cds.map",
}

// Run opens a Twilsock connection as the Conversations SDK would and walks it
// through its states until the run is over (see Config). It returns an error
// only for a bad Config (ErrConfig) or when the first token cannot be had
// or cannot be sent (ErrToken, and ErrTokenTooLarge for a token the init
// header cannot carry: nothing is dialed then); every other outcome,
// including failure, is in the Report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	return runWith(ctx, cfg, nil)
}

// dialFunc opens one attempt's WebSocket; (*run).dial is the real one.
type dialFunc func(r *run, ctx context.Context, a *attempt) (wsConn, *http.Response, error)

// runWith is Run with the WebSocket dial replaced (nil: the network), for
// tests that script the peer without one.
func runWith(ctx context.Context, cfg Config, dial dialFunc) (*Report, error) {
	if dial == nil {
		dial = func(r *run, ctx context.Context, a *attempt) (wsConn, *http.Response, error) {
			ws, resp, err := r.dial(ctx, a)
			if err != nil {
				return nil, resp, err
			}
			return ws, resp, nil
		}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dialer, err := cfg.dialer()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	runCtx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, errRunTimeout)
	defer cancel()
	deadline, _ := runCtx.Deadline()
	r := &run{
		cfg:      cfg,
		dialer:   dialer,
		dialWS:   dial,
		ctx:      runCtx,
		parent:   ctx,
		deadline: deadline,
		start:    time.Now(),
		inner:    InnerDisconnected,
		bo:       backoff{policy: cfg.Backoff},
		log:      debuglog.Component(cfg.Logger, "probe"),
		flog:     debuglog.Component(cfg.Logger, "frame"),
		frames:   newFrameLimiter(time.Now),
		eventAt:  map[eventKey]int{},
		occurred: map[eventKey]int{},
		perName:  map[string]int{},
	}
	r.rep = Report{
		URL:         cfg.URL,
		States:      []StateChange{},
		Events:      []Event{},
		Reconnects:  []Reconnect{},
		InnerStates: []InnerChange{},
		PingsMS:     []float64{},
		Warnings:    []string{},
		Renew:       cfg.Renew,
	}
	tok, err := r.fetchToken()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrToken, err)
	}
	r.useToken(tok)
	r.preflight()
	r.loop()
	return r.finish(), nil
}

type run struct {
	cfg      Config
	dialWS   dialFunc
	ctx      context.Context
	parent   context.Context // the caller's: its end is an interruption, not a timeout
	deadline time.Time       // the run's, also on the monotonic clock
	start    time.Time
	log      *slog.Logger
	flog     *slog.Logger
	frames   *frameLimiter // which frames flog shows whole

	rep       Report
	omitted   Omitted
	lastStamp int64            // µs: the latest time stamp gave
	eventAt   map[eventKey]int // the latest entry of each kind of event
	occurred  map[eventKey]int // how often each kind with an entry happened
	perName   map[string]int   // entries per event name
	retries   int              // reconnects scheduled, counting omitted ones
	inner     Inner
	public    State

	token        string
	tokenRep     *inspect.Report
	continuation *string
	bo           backoff

	attempts []*attempt
	timed    *attempt // the first attempt that connected
	dialer   *netpath.Dialer

	everOpened, everConnected bool
	cleanDisconnect, denied   bool
	firstConnected            time.Time
	updateDone                bool

	lastFail   *Cause // why the latest attempt failed
	lastFailAt int    // the attempt (1, 2, …) lastFail is about
	lost       *Cause // what ended a connected session, until a reconnect recovers it
	// lostRetries is r.retries when the session was lost: the reconnects
	// after it are the ones that brought it back.
	lostRetries int
	terminal    *Cause // a failure that ends the run (denied, close 401/410, unsupported)

	// For explaining an expiry.
	aboutToExpire   *time.Time // wall clock when tokenAboutToExpire came
	closedAt        *time.Time // wall clock when the server closed with 410
	warnedExpiry    *time.Time // expiry of the token in use when tokenAboutToExpire came
	renewErr        error
	renewedSameExp  bool
	updatesAccepted int
	lastRenew       time.Time // when renewing last fetched a token
	renewsSkipped   int       // token_about_to_expire that came too soon after a renewal
}

func (r *run) since() time.Duration { return time.Since(r.start) }

// stamp is the report's time (ms since the start, to the microsecond) for
// the next thing it records: strictly after the one before, so that states
// and events sorted by time come out in the order they happened. Two
// things often fall in the same microsecond (tokenUpdated, then at once
// the disconnect it allowed); the later one is then a microsecond on.
func (r *run) stamp() float64 {
	us := int64(math.Round(float64(r.since()) / float64(time.Microsecond)))
	if us <= r.lastStamp {
		us = r.lastStamp + 1
	}
	r.lastStamp = us
	return float64(us) / 1000
}

// over reports whether the run has ended. It reads the clock as well as the
// context: a starved process wakes with every timer due at once, and the
// context's own timer may not have run yet; the deadline must win.
func (r *run) over() bool {
	return r.ctx.Err() != nil || !time.Now().Before(r.deadline)
}

// holdOver reports whether a run that has connected has held as long as it
// was told to: an app's hold timer calls disconnect() even while the SDK is
// reconnecting, so the run ends there rather than at the timeout.
func (r *run) holdOver() bool {
	return !r.firstConnected.IsZero() && !time.Now().Before(r.firstConnected.Add(r.cfg.Hold))
}

// holdLeft is how long the hold has still to run: forever before the run
// first connects (the timeout bounds that).
func (r *run) holdLeft() time.Duration {
	if r.firstConnected.IsZero() {
		return math.MaxInt64
	}
	return time.Until(r.firstConnected.Add(r.cfg.Hold))
}

// interrupted reports whether the caller, not the timeout, ended the run.
func (r *run) interrupted() bool { return r.parent.Err() != nil }

func (r *run) emit(u Update) {
	u.At = r.since()
	r.cfg.Observer(u)
}

// enter moves to an inner state, recording the public state when it changes.
func (r *run) enter(s Inner) {
	at := r.stamp()
	old := r.inner
	r.inner = s
	pub := s.Public()
	r.rep.InnerStates = appendBounded(r.rep.InnerStates, InnerChange{State: s, Public: pub, AtMS: at}, MaxInnerStates, &r.omitted.InnerStates)
	changed := len(r.rep.States) == 0 || pub != r.public
	if changed {
		r.public = pub
		r.rep.States = appendBounded(r.rep.States, StateChange{State: pub, AtMS: at}, MaxStates, &r.omitted.States)
	}
	r.log.Debug("state", "from", string(old), "to", string(s), "public", string(pub), "public_changed", changed)
	r.emit(Update{Kind: UpdateState, Inner: s, State: pub, PublicChanged: changed})
}

// event records e. The first FoldAfter occurrences of an event (same name,
// message and codes) are entries of their own, as the SDK emits them; a
// further repeat right after the last one folds into it, as does, once its
// name has MaxEventsPerName entries, a repeat of any earlier one; a new kind
// past that bound is only counted. So a peer that floods frames grows a
// count, not the report. The observer hears of a folded repeat when its
// count reaches a power of two.
func (r *run) event(e Event) {
	at := r.stamp()
	e.Message = clip(e.Message)
	k := keyOf(&e)
	full := r.perName[e.Name] >= MaxEventsPerName
	i, ok := r.eventAt[k]
	if ok {
		r.occurred[k]++
	}
	if ok && (full || (i == len(r.rep.Events)-1 && r.occurred[k] > FoldAfter)) {
		ev := &r.rep.Events[i]
		ev.Count = max(ev.Count, 1) + 1
		ev.LastAtMS = &at
		if ev.Count&(ev.Count-1) == 0 {
			cp := *ev
			r.emit(Update{Kind: UpdateEvent, Event: &cp})
		}
		return
	}
	if full {
		r.omitted.Events++
		return
	}
	e.AtMS = at
	r.eventAt[k] = len(r.rep.Events)
	r.occurred[k] = max(r.occurred[k], 1)
	r.perName[e.Name]++
	r.rep.Events = append(r.rep.Events, e)
	r.log.Debug("event", "name", e.Name, "message", e.Message)
	r.emit(Update{Kind: UpdateEvent, Event: &e})
}

// eventKey is what makes two events the same for folding.
type eventKey struct {
	name, message        string
	terminal             int // 0 unset, 1 false, 2 true
	httpStatus, twilioEr int
}

func keyOf(e *Event) eventKey {
	k := eventKey{name: e.Name, message: e.Message, httpStatus: -1, twilioEr: -1}
	if e.Terminal != nil {
		k.terminal = 1
		if *e.Terminal {
			k.terminal = 2
		}
	}
	if e.HTTPStatus != nil {
		k.httpStatus = *e.HTTPStatus
	}
	if e.TwilioError != nil {
		k.twilioEr = *e.TwilioError
	}
	return k
}

// appendBounded appends v to s, which it keeps to at most n entries: the
// first n/2 and the most recent ones, counting in *omitted those dropped
// from the middle.
func appendBounded[T any](s []T, v T, n int, omitted *int) []T {
	if len(s) >= n {
		h := n / 2
		copy(s[h:], s[h+1:])
		s = s[:len(s)-1]
		*omitted++
	}
	return append(s, v)
}

// clip cuts a peer-supplied text to MaxMessageBytes (on a rune boundary)
// and copies it, so a kept message never pins a large frame in memory.
func clip(s string) string {
	if len(s) <= MaxMessageBytes {
		return strings.Clone(s)
	}
	cut := MaxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.Clone(s[:cut]) + "…"
}

func (r *run) phaseDone(p Phase, d time.Duration) {
	r.log.Debug("phase", "phase", string(p), "ms", ms(d))
	r.emit(Update{Kind: UpdatePhase, Phase: p, Duration: d})
}

func (r *run) warn(msg string) {
	for _, w := range r.rep.Warnings {
		if w == msg {
			return
		}
	}
	if len(r.rep.Warnings) >= MaxWarnings {
		r.omitted.Warnings++
		return
	}
	r.rep.Warnings = append(r.rep.Warnings, msg)
	r.log.Warn(msg)
}

func (r *run) fetchToken() (string, error) {
	tok, err := r.cfg.Token(r.ctx)
	if err != nil {
		return "", err
	}
	tok = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tok), "Bearer "))
	if tok == "" {
		return "", errors.New("the token source returned an empty token")
	}
	if err := r.checkTokenSize(tok); err != nil {
		return "", err
	}
	return tok, nil
}

// useToken makes tok the token of the next init or update and tells the
// observer what it is.
func (r *run) useToken(tok string) {
	renewals := 0
	if r.rep.Token != nil {
		renewals = r.rep.Token.Renewals
	}
	r.token = tok
	r.tokenRep = r.inspectToken(tok)
	ti := &TokenInfo{
		Identity:  r.tokenRep.Identity,
		Region:    tokenRegion(r.tokenRep),
		ExpiresAt: r.tokenRep.ExpiresAt,
		Signature: r.tokenRep.Signature,
		Renewals:  renewals,
	}
	r.rep.Token = ti
	r.log.Debug("token", "identity", ti.Identity, "expires_at", ti.ExpiresAt, "token", debuglog.Token(tok))
	cp := *ti
	r.emit(Update{Kind: UpdateToken, Token: &cp})
}

func (r *run) inspectToken(tok string) *inspect.Report {
	opts := []inspect.Option{inspect.WithClock(r.cfg.Now)}
	if len(r.cfg.Secret) > 0 {
		opts = append(opts, inspect.WithSecret(r.cfg.Secret))
	}
	rep := inspect.Inspect(tok, opts...)
	if rep == nil {
		rep = &inspect.Report{Signature: inspect.SignatureUnchecked}
	}
	return rep
}

// preflight warns about what will go wrong before it does.
func (r *run) preflight() {
	if m := r.regionMismatch(); m != nil {
		r.rep.RegionMismatch = m
		r.warn(fmt.Sprintf("the token is for region %s (header twr) but the URL is in region %s", m.Token, m.URL))
	}
	if exp := r.tokenRep.ExpiresAt; exp != nil && r.cfg.Hold > 0 && !r.cfg.Renew {
		now := r.cfg.Now()
		if left := exp.Sub(now); left > 0 && left < r.cfg.Hold {
			r.warn(fmt.Sprintf("the token expires in %s, before the hold ends, and renewing is off: expect close 410 unless the app calls updateToken", roundDur(left)))
		}
	}
}

// step is what an attempt leads to.
type step struct {
	done   bool
	reason string // why a retry is needed
}

func retry(reason string) step { return step{reason: reason} }

var done = step{done: true}

func (r *run) loop() {
	r.enter(InnerConnecting)
	for {
		st := r.attempt()
		if st.done || r.cfg.NoReconnect || r.over() || r.holdOver() {
			r.giveUp()
			return
		}
		if r.inner != InnerRetrying {
			r.enter(InnerRetrying)
		}
		delay := r.bo.next(r.cfg.Rand())
		r.retries++
		rc := Reconnect{Attempt: r.retries, DelayMS: ms(delay), Error: clip(st.reason)}
		r.rep.Reconnects = appendBounded(r.rep.Reconnects, rc, MaxReconnects, &r.omitted.Reconnects)
		r.log.Debug("retry", "attempt", rc.Attempt, "delay", delay, "error", rc.Error)
		r.emit(Update{Kind: UpdateRetry, Reconnect: &rc, Duration: delay})
		t := time.NewTimer(delay)
		hold := time.NewTimer(r.holdLeft())
		select {
		case <-r.ctx.Done():
		case <-t.C:
		case <-hold.C:
		}
		t.Stop()
		hold.Stop()
		if r.over() || r.holdOver() {
			r.giveUp()
			return
		}
		r.enter(InnerConnecting)
	}
}

// giveUp ends a run left without a socket. Like the SDK's retrier giving up,
// or an app calling disconnect() while it reconnects, it passes through
// disconnecting; denied and unsupported are final as they are.
func (r *run) giveUp() {
	switch r.inner {
	case InnerDisconnected, InnerRejected, InnerUnsupported:
		return
	}
	if r.inner.Public() != StateDisconnecting {
		r.enter(InnerDisconnecting)
	}
	r.enter(InnerDisconnected)
}

// attempt dials, initialises and serves one connection.
func (r *run) attempt() step {
	a := &attempt{n: len(r.attempts) + 1, start: time.Now(), phase: PhaseDNS}
	r.attempts = append(r.attempts, a)
	r.rep.Attempts = a.n
	ws, resp, err := r.dialWS(r, r.ctx, a)
	if resp != nil {
		r.noteDate(resp)
	}
	if err != nil {
		return r.dialFailed(a, err, resp)
	}
	r.everOpened = true
	r.rep.Upgrade = nil
	s := startSession(ws)
	r.enter(InnerInitialising)
	a.phase = PhaseInit
	if err := r.request(s, r.newInit(r.token), twilsock.MethodInit); err != nil {
		return r.initUnsendable(s, err)
	}
	return r.serve(s, a)
}

// initUnsendable: the init does not fit a Twilsock header, so nothing was
// sent. The token fitted when it was fetched; only a continuation token
// the server handed out since can have grown init past the limit. It would
// not fit on any retry either, so the run ends here.
func (r *run) initUnsendable(s *session, err error) step {
	msg := err.Error()
	var tl *TokenTooLargeError
	if errors.As(r.checkTokenSize(r.token), &tl) {
		msg = tl.Error()
	}
	ct := 0
	if r.continuation != nil {
		ct = len(*r.continuation)
	}
	r.terminal = &Cause{Kind: CauseProtocol, Phase: PhaseInit,
		Message: fmt.Sprintf("init could not be sent: %s, with the %d-byte continuation token the server gave", msg, ct),
		Hint:    "the server's continuation token leaves too little room in init for this token: a real Twilsock server's are well under 1 KiB"}
	r.setFail(r.terminal)
	r.enter(InnerError)
	r.closeSocket(s, false)
	return done
}

func (r *run) metadata() twilsock.Metadata {
	return twilsock.Metadata{
		Ver: r.cfg.Version, Env: "Go", EnvV: runtime.Version(),
		OS: runtime.GOOS, OSV: "unknown", OSA: strconv.IntSize,
		Type: "conversations", SDK: "convctl", SDKV: r.cfg.Version,
	}
}

func (r *run) dialFailed(a *attempt, err error, resp *http.Response) step {
	phase := a.phase
	var pe *phaseError
	if errors.As(err, &pe) {
		phase = pe.phase
	}
	if resp != nil && errors.Is(err, websocket.ErrBadHandshake) {
		r.rep.Upgrade = upgradeFailure(resp)
	}
	if r.runOver(err) {
		if phase == PhaseProxy {
			r.setFail(r.proxyTimeoutCause(a))
		} else {
			r.setFail(r.timeoutCause(phase))
		}
		return done
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Not the run's deadline: gorilla's or the OS's; still a timeout.
		err = fmt.Errorf("timed out: %w", err)
	}
	desc := describeDialError(err, resp, r.cfg.URL)
	if outOfFDs(err) {
		desc = "this machine ran out of file descriptors: " + desc
	}
	c := &Cause{Kind: CauseNetwork, Message: fmt.Sprintf("%s failed: %s", phase, desc), Phase: phase}
	if resp != nil && errors.Is(err, websocket.ErrBadHandshake) {
		c.HTTPStatus = intp(resp.StatusCode)
		c.Hint = upgradeHint(resp.StatusCode)
	} else {
		c.Hint = dialHint(phase, err, r.cfg.URL)
	}
	if nc := r.netCause(a, err, respStatus(resp)); nc != nil {
		c = nc
		desc = nc.Message
	}
	r.setFail(c)
	// As the SDK reports a socket error: non-terminal, no HTTP status or
	// Twilio code (those are for Twilsock replies); the status is in the message.
	r.event(Event{Name: EventConnectionError, Terminal: boolp(false), Message: "Socket error: " + desc})
	return retry(desc)
}

// runOver reports whether err is the run's own deadline striking. gorilla
// turns the context deadline into a socket deadline, whose i/o timeout can
// beat the context's own timer by a hair.
func (r *run) runOver(err error) bool {
	if r.over() {
		return true
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		return false
	}
	dl, ok := r.ctx.Deadline()
	if !ok || time.Until(dl) > 50*time.Millisecond {
		return false
	}
	// The context's own timer may lag under load; let it catch up, so
	// that everything after sees the run as over.
	t := time.NewTimer(time.Until(dl) + 500*time.Millisecond)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
	case <-t.C:
	}
	return true
}

// request sends init or update and starts its reply timer. Its error is
// one the frame could not be encoded for (nothing was sent); a failed
// write is the connection lost, as for send.
func (r *run) request(s *session, m twilsock.Message, method string) error {
	s.clearPending()
	var id string
	switch h := m.(type) {
	case *twilsock.Init:
		id = h.ID
	case *twilsock.Header:
		id = h.ID
	}
	s.pendingID, s.pendingMethod, s.pendingAt = id, method, time.Now()
	if err := r.send(s, m, nil); err != nil {
		s.clearPending()
		return err
	}
	s.reqTimer = time.NewTimer(r.cfg.RequestTimeout)
	return nil
}

// send writes one frame. Only Run's goroutine calls it. A failed write
// closes the socket, which the reader reports as the connection lost; the
// error is only for a frame that does not encode, which is not sent.
func (r *run) send(s *session, m twilsock.Message, payload []byte) error {
	if s.closed || s.writeErr != nil {
		return nil
	}
	b, err := twilsock.Encode(m, payload)
	if err != nil {
		r.log.Debug("not sent: the frame does not encode", "err", err)
		return err
	}
	r.logFrame("send", b)
	_ = s.ws.SetWriteDeadline(r.writeDeadline())
	if err := s.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		s.writeErr = err
		r.log.Debug("write failed", "err", err)
		s.ws.Close()
	}
	return nil
}

func (r *run) writeDeadline() time.Time {
	d := time.Now().Add(writeTimeout)
	if r.over() {
		return time.Now().Add(closeGrace)
	}
	if r.deadline.Before(d) {
		return r.deadline
	}
	return d
}

// logFrame logs one frame at debug level, if the frame limiter lets it
// through (FrameLogBurst of a kind a second), and reports whether it did:
// what else a caller would log about the frame goes with it.
func (r *run) logFrame(dir string, b []byte) bool {
	if !r.flog.Enabled(r.ctx, slog.LevelDebug) {
		return false
	}
	f, err := twilsock.Decode(b)
	if err != nil {
		if !r.frames.allow(r.flog, frameKind{dir: dir, what: "undecodable"}) {
			return false
		}
		r.flog.Debug(dir, "bytes", len(b), "undecodable", err.Error())
		return true
	}
	if !r.frames.allow(r.flog, kindOf(dir, f.Header.Method)) {
		return false
	}
	attrs := []any{"method", f.Header.Method, "id", f.Header.ID, "bytes", len(b),
		"header", debuglog.RedactJWTs(string(f.RawHeader))}
	if len(f.Payload) > 0 {
		p := f.Payload
		if len(p) > 512 {
			p = p[:512]
		}
		attrs = append(attrs, "payload", debuglog.RedactJWTs(string(p)))
	}
	r.flog.Debug(dir, attrs...)
	return true
}

// flushFrameLog writes the summaries of the frames the limiter folded.
func (r *run) flushFrameLog() {
	r.frames.flush(r.flog, time.Now(), true)
}

// serve runs one open connection until it ends: it waits for the next
// thing to happen (openConn.next) and handles it, until a handler ends the
// connection or the run is over.
func (r *run) serve(s *session, a *attempt) step {
	c := &openConn{r: r, s: s, a: a}
	defer c.stop()
	for {
		if r.over() {
			return r.endRun(s)
		}
		if st, end := c.next(); end {
			return st
		}
	}
}

// openConn is what serving one connection keeps between events: the timers
// that start once it is connected.
type openConn struct {
	r *run
	s *session
	a *attempt

	hold       *time.Timer // fires when the hold is over
	ping       *time.Timer // fires when the next ping is due (PingInterval > 0)
	holdPassed bool
}

func (c *openConn) stop() {
	for _, t := range []*time.Timer{c.hold, c.ping} {
		if t != nil {
			t.Stop()
		}
	}
	c.s.close()
	c.r.flushFrameLog()
}

// next waits for one thing to happen on the connection and handles it.
// end reports that the connection is over, st what follows.
func (c *openConn) next() (st step, end bool) {
	r, s := c.r, c.s
	select {
	case <-r.ctx.Done():
		return r.endRun(s), true
	case in := <-s.in:
		return c.handle(in)
	case <-s.done:
		return c.readerDone(), true
	case <-s.reqC():
		return r.requestTimedOut(s, c.a)
	case <-timerC(c.hold):
		c.holdPassed = true
		return c.settle()
	case <-timerC(c.ping):
		return c.pingDue()
	case p := <-s.pongs:
		c.pong(p)
		return step{}, false
	}
}

// handle is one message from the server.
func (c *openConn) handle(in inbound) (step, bool) {
	if st, end := c.r.onMessage(c.s, c.a, in); end {
		return st, true
	}
	if c.r.inner == InnerConnected || c.r.inner == InnerUpdating {
		c.startTimers()
	}
	return c.settle()
}

// startTimers starts the hold and ping timers the first time the
// connection is up.
func (c *openConn) startTimers() {
	if c.hold == nil {
		c.hold = time.NewTimer(time.Until(c.r.firstConnected.Add(c.r.cfg.Hold)))
	}
	if c.ping == nil && c.r.cfg.PingInterval > 0 {
		c.ping = time.NewTimer(c.r.cfg.PingInterval)
	}
}

// settle leaves after each event if the connection is up and idle and the
// hold is over.
func (c *openConn) settle() (step, bool) {
	if c.r.inner == InnerConnected && c.holdPassed && c.s.pendingID == "" {
		c.r.disconnect(c.s)
		return done, true
	}
	return step{}, false
}

// readerDone: the reader returned. It may have queued messages before it
// hit the end of the stream (a reply, then the cut): they happened first.
func (c *openConn) readerDone() step {
	for {
		select {
		case in := <-c.s.in:
			if st, end := c.handle(in); end {
				return st
			}
		default:
			return c.r.socketLost(c.s, c.a)
		}
	}
}

// pingDue pings, or declares the peer dead after PingMisses unanswered pings.
func (c *openConn) pingDue() (step, bool) {
	if c.s.pingOut >= c.r.cfg.PingMisses {
		return c.r.peerDead(c.s), true
	}
	c.r.ping(c.s)
	c.ping.Reset(c.r.cfg.PingInterval)
	return step{}, false
}

// pong records the round trip of a ping we sent.
func (c *openConn) pong(p inbound) {
	r, s := c.r, c.s
	sent, ok := s.pingSent[string(p.data)]
	if !ok {
		return
	}
	delete(s.pingSent, string(p.data))
	s.pingOut = 0
	rtt := p.at.Sub(sent)
	r.rep.PingsMS = appendBounded(r.rep.PingsMS, ms(rtt), MaxPings, &r.omitted.Pings)
	r.log.Debug("pong", "rtt_ms", ms(rtt))
	r.emit(Update{Kind: UpdatePing, Duration: rtt})
}

func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func (r *run) ping(s *session) {
	s.pingSeq++
	id := strconv.FormatUint(s.pingSeq, 10)
	s.pingSent[id] = time.Now()
	s.pingOut++
	if err := s.ws.WriteControl(websocket.PingMessage, []byte(id), r.writeDeadline()); err != nil {
		r.log.Debug("ping failed", "err", err)
	}
}

// onMessage handles one inbound WebSocket message. end reports that the
// connection is over, st what follows.
func (r *run) onMessage(s *session, a *attempt, in inbound) (st step, end bool) {
	if in.typ != websocket.BinaryMessage {
		if r.flog.Enabled(r.ctx, slog.LevelDebug) && r.frames.allow(r.flog, frameKind{dir: "recv", what: "text"}) {
			r.flog.Debug("recv", "text", debuglog.RedactJWTs(string(in.data)), "bytes", len(in.data))
		}
		r.warn("the server sent a text WebSocket message; the SDK silently drops those (Twilsock frames must be binary)")
		return step{}, false
	}
	shown := r.logFrame("recv", in.data)
	f, err := twilsock.Decode(in.data)
	if err != nil {
		r.event(Event{Name: EventProtocolError, Message: err.Error()})
		r.protocolNote(err.Error())
		return step{}, false
	}
	h := &f.Header
	switch h.Method {
	case twilsock.MethodReply:
		if h.ID == "" || h.ID != s.pendingID {
			if shown {
				r.log.Debug("reply to no pending request", "id", h.ID)
			}
			return step{}, false
		}
		method, rtt := s.pendingMethod, in.at.Sub(s.pendingAt)
		s.clearPending()
		if method == twilsock.MethodInit {
			return r.initReply(s, a, f, rtt)
		}
		return r.updateReply(s, f)

	case twilsock.MethodClientUpdate:
		r.send(s, twilsock.NewAck(h.ID), nil)
		if h.ClientUpdateType == twilsock.ClientUpdateTokenAboutToExpire {
			now := r.cfg.Now()
			r.aboutToExpire = &now
			if r.tokenRep != nil {
				r.warnedExpiry = r.tokenRep.ExpiresAt
			}
			r.event(Event{Name: EventTokenAboutToExpire})
			if r.cfg.Renew && r.inner == InnerConnected {
				// A server that repeats token_about_to_expire must not
				// turn the token source (a command, a URL) into a flood.
				if !r.lastRenew.IsZero() && time.Since(r.lastRenew) < renewEvery {
					r.renewsSkipped++
				} else {
					r.lastRenew = time.Now()
					r.update(s, "renew")
				}
			}
		}
		return step{}, false

	case twilsock.MethodNotification:
		r.send(s, twilsock.NewAck(h.ID), nil)
		r.event(Event{Name: EventNotification, Message: h.MessageType})
		return step{}, false

	case twilsock.MethodClose:
		r.send(s, twilsock.NewAck(h.ID), nil)
		return r.serverClose(s, f), true
	}
	if shown {
		r.log.Debug("ignored frame", "method", h.Method)
	}
	return step{}, false
}

func (r *run) initReply(s *session, a *attempt, f *twilsock.Frame, rtt time.Duration) (step, bool) {
	h := &f.Header
	a.init = &rtt
	r.phaseDone(PhaseInit, rtt)
	st := h.Status
	switch {
	case st.OK():
		r.onConnected(s, a, h)
		return step{}, false
	case st != nil && (st.Code == 401 || st.Code == 403):
		r.rejected(s, st, "init")
		return done, true
	}
	r.enter(InnerError)
	code, terr := statusCodes(st)
	c := &Cause{HTTPStatus: code, TwilioError: terr, Phase: PhaseInit}
	if code != nil && *code == http.StatusTooManyRequests {
		c.Kind = CauseRateLimited
		c.Message = "the server answered init with 429 Too Many Requests"
		c.Hint = "too many connections for this account or identity: back off, and reuse one client per identity"
		if p := backoffPolicy(f); p != nil && p.ReconnectMinMS > 0 {
			r.bo.raise(time.Duration(p.ReconnectMinMS) * time.Millisecond)
			c.Message += fmt.Sprintf(" (retry after at least %d ms)", p.ReconnectMinMS)
		}
	} else {
		c.Kind = CauseProtocol
		c.Message = "the server answered init with " + describeStatus(st)
		c.Hint = "the service failed to accept the connection; the SDK retries with backoff. If it persists, check status.twilio.com"
	}
	r.setFail(c)
	r.event(Event{Name: EventConnectionError, Terminal: boolp(false), HTTPStatus: code, TwilioError: terr,
		Message: "Connection error: " + describeStatus(st)})
	r.closeSocket(s, true)
	return retry("init answered " + describeStatus(st)), true
}

func (r *run) onConnected(s *session, a *attempt, h *twilsock.Header) {
	d := time.Since(a.start)
	a.connected = &d
	if r.timed == nil {
		r.timed = a
	}
	r.bo.reset()
	if h.ContinuationToken != nil {
		ct := *h.ContinuationToken
		r.continuation = &ct
	}
	r.enter(InnerConnected)
	if r.lost != nil {
		n := r.retries - r.lostRetries
		r.warn(fmt.Sprintf("%s; it came back after %d %s", r.lost.Message, n, plural(n, "reconnect", "reconnects")))
		r.lost = nil
	}
	if !r.everConnected {
		r.everConnected = true
		r.firstConnected = time.Now()
	}
	for _, c := range h.Capabilities {
		if c == twilsock.MethodTelemetry {
			tel := &twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodTelemetry, ID: twilsock.NewID()},
				Events: []twilsock.TelemetryEvent{{Start: -d.Milliseconds(), End: 0, Title: "Establish WebSocket connection"}}}
			r.send(s, tel, nil)
			break
		}
	}
	if r.cfg.UpdateToken && !r.updateDone {
		r.updateDone = true
		r.update(s, "update-token")
	}
}

// update fetches a fresh token and sends it.
func (r *run) update(s *session, why string) {
	tok, err := r.fetchToken()
	if err != nil {
		switch {
		case why == "renew":
			r.renewErr = err
		case errors.Is(err, ErrTokenTooLarge):
			r.warn("no update was sent: " + err.Error())
		default:
			r.warn("no update was sent: the token source failed: " + err.Error())
		}
		r.event(Event{Name: EventTokenRefreshFailed, Message: err.Error()})
		return
	}
	if why == "renew" && r.tokenRep != nil && r.tokenRep.ExpiresAt != nil {
		next := r.inspectToken(tok)
		if next.ExpiresAt != nil && !next.ExpiresAt.After(*r.tokenRep.ExpiresAt) {
			r.renewedSameExp = true
		}
	}
	r.useToken(tok)
	r.enter(InnerUpdating)
	if err := r.request(s, twilsock.NewUpdate(tok), twilsock.MethodUpdate); err != nil {
		// Not reached with a token checkTokenSize let through (update is
		// smaller than init), but never wait for a reply to nothing.
		r.warn("no update was sent: " + err.Error())
		r.enter(InnerConnected)
	}
}

func (r *run) updateReply(s *session, f *twilsock.Frame) (step, bool) {
	st := f.Header.Status
	switch {
	case st.OK():
		r.updatesAccepted++
		if r.rep.Token != nil {
			r.rep.Token.Renewals++
		}
		r.enter(InnerConnected)
		r.event(Event{Name: EventTokenUpdated})
		return step{}, false
	case st != nil && (st.Code == 401 || st.Code == 403):
		r.rejected(s, st, "update")
		return done, true
	}
	code, terr := statusCodes(st)
	r.enter(InnerConnected)
	r.event(Event{Name: EventConnectionError, Terminal: boolp(false), HTTPStatus: code, TwilioError: terr,
		Message: "update failed: " + describeStatus(st)})
	return step{}, false
}

// rejected is a 401/403 to init or update: denied, no retry.
func (r *run) rejected(s *session, st *twilsock.Status, what string) {
	r.enter(InnerRejected)
	r.denied = true
	r.closeSocket(s, true)
	code, terr := statusCodes(st)
	if st.ErrorCode == twilsock.ErrTokenExpired {
		r.event(Event{Name: EventTokenExpired})
	}
	r.event(Event{Name: EventConnectionError, Terminal: boolp(true), HTTPStatus: code, TwilioError: terr,
		Message: "Connection error: " + statusText(st)})
	r.terminal = r.tokenCause(st, what)
}

// serverClose handles a server close frame, already acked.
func (r *run) serverClose(s *session, f *twilsock.Frame) step {
	st := f.Header.Status
	code := 0
	if st != nil {
		code = st.Code
	}
	wasConnected := r.inner == InnerConnected || r.inner == InnerUpdating
	switch twilsock.ActionForClose(code) {
	case twilsock.CloseActionDisconnect:
		r.enter(InnerWaitSocketClosed)
		if code == twilsock.CloseTokenExpired {
			now := r.cfg.Now()
			r.closedAt = &now
			r.event(Event{Name: EventTokenExpired})
		}
		r.closeSocket(s, false)
		r.terminal = r.tokenCause(st, "close")
		r.waitDisconnect()
		r.enter(InnerDisconnected)
		return done

	case twilsock.CloseActionFatal:
		r.enter(InnerUnsupported)
		r.closeSocket(s, false)
		c, terr := statusCodes(st)
		r.terminal = &Cause{Kind: CauseProtocol, HTTPStatus: c, TwilioError: terr,
			Message: "the server closed the connection with " + describeStatus(st) + ": it does not accept this client's protocol",
			Hint:    "a protocol error the SDK treats as fatal: the server does not speak this Twilsock version, or the init was malformed"}
		return done
	}

	r.enter(InnerWaitOffloadSocketClosed)
	var minWait time.Duration
	if p := backoffPolicy(f); p != nil && p.ReconnectMinMS > 0 {
		minWait = time.Duration(p.ReconnectMinMS) * time.Millisecond
		r.bo.raise(minWait)
	}
	r.closeSocket(s, false)
	c, terr := statusCodes(st)
	cause := &Cause{HTTPStatus: c, TwilioError: terr}
	if code == twilsock.CloseOffload {
		cause.Kind = CauseOffload
		cause.Message = "the server offloaded the connection (close 308)"
		if minWait > 0 {
			cause.Message += fmt.Sprintf(", reconnect after at least %s", minWait)
		}
		cause.Hint = "an offload is routine (a server draining): the SDK reconnects after the backoff; a client that never comes back is not reconnecting"
	} else {
		cause.Kind = CauseServerClose
		cause.Message = "the server closed the connection with " + describeStatus(st)
		cause.Hint = "the SDK treats an unknown close code like an offload and reconnects"
	}
	if wasConnected {
		r.loseSession(cause)
	}
	r.setFail(cause)
	r.waitDisconnect()
	if r.over() {
		return done
	}
	return retry(cause.Message)
}

// waitDisconnect stays in the disconnecting public state as long as the SDK
// does after a server close (its DISCONNECTING_TIMEOUT), or until the run ends.
func (r *run) waitDisconnect() {
	if r.cfg.DisconnectWait <= 0 {
		return
	}
	t := time.NewTimer(r.cfg.DisconnectWait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.ctx.Done():
	}
}

// socketLost: the reader returned without our asking.
func (r *run) socketLost(s *session, a *attempt) step {
	err := s.err
	if s.writeErr != nil {
		err = s.writeErr
	}
	desc, kind := describeSocketError(err)
	phase := PhaseInit
	if r.inner == InnerConnected || r.inner == InnerUpdating {
		phase = ""
	}
	c := &Cause{Kind: kind, Message: "the connection was lost: " + desc, Phase: phase,
		Hint: "the network or a proxy cut the WebSocket, or the server went away; the SDK reconnects with backoff"}
	if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) {
		c.Hint = "the server closed the WebSocket without a Twilsock close frame; the SDK reconnects with backoff"
	}
	if phase == "" {
		r.loseSession(c)
	}
	r.setFail(c)
	// The SDK emits no connectionError when an open socket closes: it goes
	// straight to retrying (docs/protocol.md, "Observed behaviour", scenario f).
	s.close()
	if r.over() {
		return done
	}
	return retry(desc)
}

// setFail records why the current attempt failed.
func (r *run) setFail(c *Cause) {
	r.lastFail = c
	r.lastFailAt = len(r.attempts)
}

// loseSession records what ended a connected session.
func (r *run) loseSession(c *Cause) {
	r.lost = c
	r.lostRetries = r.retries
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// peerDead: pings went unanswered; the SDK would still think it was connected.
func (r *run) peerDead(s *session) step {
	silent := time.Duration(s.pingOut) * r.cfg.PingInterval
	c := &Cause{Kind: CauseNetwork,
		Message: fmt.Sprintf("the peer stopped answering: %d pings in a row got no pong (%s)", s.pingOut, silent),
		Hint:    "the connection is half-open (a NAT, proxy or load balancer dropped it silently); the SDK sends no pings and would sit 'connected' on a dead socket"}
	r.loseSession(c)
	r.setFail(c)
	r.event(Event{Name: EventPeerUnresponsive, Message: c.Message})
	s.close()
	if r.over() {
		return done
	}
	return retry("no pong")
}

func (r *run) requestTimedOut(s *session, a *attempt) (step, bool) {
	method := s.pendingMethod
	s.clearPending()
	msg := fmt.Sprintf("%s was not answered within %s", method, r.cfg.RequestTimeout)
	if method == twilsock.MethodUpdate {
		r.enter(InnerConnected)
		r.event(Event{Name: EventConnectionError, Terminal: boolp(false), Message: msg})
		return step{}, false
	}
	r.enter(InnerError)
	r.setFail(&Cause{Kind: CauseTimeout, Phase: PhaseInit, Message: msg,
		Hint: "the server accepted the WebSocket but never answered init"})
	r.event(Event{Name: EventConnectionError, Terminal: boolp(false), Message: msg})
	r.closeSocket(s, true)
	return retry(msg), true
}

// endRun: the run is over (timeout or the caller's cancel) with the socket open.
func (r *run) endRun(s *session) step {
	if r.interrupted() {
		r.rep.Interrupted = true
	}
	switch r.inner {
	case InnerConnected, InnerUpdating:
		r.disconnect(s)
	default:
		if r.inner == InnerInitialising {
			r.setFail(r.timeoutCause(PhaseInit))
		}
		r.enter(InnerDisconnecting)
		r.closeSocket(s, true)
		r.enter(InnerDisconnected)
	}
	return done
}

// disconnect is our own clean end: client close, then socket close.
func (r *run) disconnect(s *session) {
	r.enter(InnerDisconnecting)
	r.closeSocket(s, true)
	r.cleanDisconnect = true
	r.enter(InnerDisconnected)
}

// closeSocket optionally sends the client close, then a WebSocket close frame
// without a status (as the SDK's socket.close() does), waits briefly for the
// server's answer, and drops the socket.
func (r *run) closeSocket(s *session, sendClose bool) {
	if s.closed {
		return
	}
	if sendClose {
		r.send(s, twilsock.NewClientClose(), nil)
	}
	if s.writeErr == nil {
		_ = s.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNoStatusReceived, ""),
			time.Now().Add(closeGrace))
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
wait:
	for {
		select {
		case in := <-s.in:
			r.logFrame("recv", in.data)
		case <-s.done:
			break wait
		case <-t.C:
			break wait
		}
	}
	s.close()
}

func (r *run) timeoutCause(phase Phase) *Cause {
	what := fmt.Sprintf("timed out after %s", roundDur(r.cfg.Timeout))
	if r.interrupted() {
		what = "interrupted"
	}
	c := &Cause{Kind: CauseTimeout, Phase: phase, Message: fmt.Sprintf("%s during %s", what, phaseWords(phase, r.cfg.URL))}
	switch phase {
	case PhaseDNS:
		c.Hint = "the DNS lookup did not finish: check the resolver and the host name"
	case PhaseTCP:
		c.Hint = "no TCP answer: a firewall may drop the packets, or the host is down"
	case PhaseTLS:
		c.Hint = "the TLS handshake did not finish: a proxy or middlebox may be intercepting"
	case PhaseUpgrade:
		c.Hint = "the TCP connection opened but nothing answered the WebSocket upgrade: a server out of file descriptors or overloaded still has its kernel accept connections it never serves; else a proxy in between may not pass WebSockets"
	case PhaseInit:
		c.Hint = "the WebSocket opened but init was never answered: the server is not speaking Twilsock, or is overloaded"
	}
	prev := r.lastFail
	if prev == r.lost {
		prev = nil // finish tells of the lost session itself
	}
	if prev != nil && prev.Kind == CauseProtocol && r.lastFailAt == len(r.attempts) {
		// This attempt's server answered with something that is not
		// Twilsock and nothing valid followed: that is the failure, and
		// the deadline only ended the wait for a valid answer.
		cp := *prev
		cp.Phase = phase
		cp.Message += fmt.Sprintf("; no valid reply followed: the run %s waiting for one", what)
		return &cp
	}
	if prev != nil && prev.Kind != CauseTimeout && phase != PhaseInit {
		// Earlier attempts failed for a reason; the deadline merely cut the
		// next retry short. The reason is what needs fixing.
		cp := *prev
		cp.Message += fmt.Sprintf("; then the run %s during the next attempt's %s phase", strings.TrimSuffix(what, fmt.Sprintf(" after %s", roundDur(r.cfg.Timeout))), phase)
		return &cp
	}
	if prev != nil && prev.Kind != CauseTimeout && r.lastFailAt < len(r.attempts) {
		c.Message += "; the attempt before failed: " + prev.Message
	}
	return c
}

func (r *run) protocolNote(msg string) {
	r.setFail(&Cause{Kind: CauseProtocol, Message: "the server sent a frame that is not Twilsock: " + clip(msg),
		Hint: "the peer is not a Twilsock server, or something between rewrote the frames"})
}

// noteDate records the clock skew from an upgrade response's Date header.
// Date has one-second resolution, so the skew is whole seconds.
func (r *run) noteDate(resp *http.Response) {
	ds := resp.Header.Get("Date")
	if ds == "" {
		return
	}
	d, err := http.ParseTime(ds)
	if err != nil {
		return
	}
	skew := r.cfg.Now().Truncate(time.Second).Sub(d).Seconds()
	r.rep.ClockSkewSeconds = &skew
}

// finish settles the outcome and cause and fills in the rest of the report.
func (r *run) finish() *Report {
	r.flushFrameLog()
	rep := &r.rep
	switch {
	case r.denied:
		rep.Outcome = OutcomeDenied
		rep.Cause = r.terminal
	case r.cleanDisconnect:
		rep.Outcome = OutcomeConnected
	case r.everConnected:
		rep.Outcome = OutcomeDisconnected
		rep.Cause = r.terminal
		if rep.Cause == nil {
			rep.Cause = r.lost
			if rep.Cause != nil && r.lastFail != nil && r.lastFail != r.lost {
				cp := *rep.Cause
				cp.Message += "; reconnecting then failed: " + r.lastFail.Message
				rep.Cause = &cp
			}
		}
		if rep.Cause == nil {
			rep.Cause = r.lastFail
		}
	case r.everOpened:
		rep.Outcome = OutcomeTimeout
		rep.Cause = r.terminal
		if rep.Cause == nil {
			rep.Cause = r.lastFail
		}
	default:
		rep.Outcome = OutcomeUnreachable
		rep.Cause = r.lastFail
	}
	if rep.Outcome != OutcomeConnected && rep.Cause == nil {
		rep.Cause = &Cause{Kind: CauseTimeout, Message: "the run ended before anything happened"}
	}
	if rep.Cause != nil && rep.Cause.Kind == CauseTokenExpired {
		rep.Cause.Hint = r.expiryHint(rep.Cause)
	}
	if r.renewsSkipped > 0 {
		r.warn(fmt.Sprintf("the server sent token_about_to_expire %d more %s within %s of a renewal; those were not renewed, so the token source is asked at most once per %s", r.renewsSkipped, plural(r.renewsSkipped, "time", "times"), renewEvery, renewEvery))
	}
	if skew := rep.ClockSkewSeconds; skew != nil && (*skew >= 5 || *skew <= -5) {
		r.warn(fmt.Sprintf("this machine's clock is %s the server's by %.0fs (its Date header): tokens may look expired or not yet valid", aheadBehind(*skew), abs(*skew)))
	}
	a := r.timed
	if a == nil && len(r.attempts) > 0 {
		a = r.attempts[len(r.attempts)-1]
	}
	if a != nil {
		conv := func(d *time.Duration) *float64 {
			if d == nil {
				return nil
			}
			return msp(*d)
		}
		rep.Timing = Timing{DNS: conv(a.dns), TCP: conv(a.tcp), TLS: conv(a.tls),
			Upgrade: conv(a.upgrade), Init: conv(a.init), Connected: conv(a.connected), Proxy: conv(a.proxy)}
		rep.Network = a.path
	}
	if r.omitted != (Omitted{}) {
		o := r.omitted
		rep.Omitted = &o
		n := o.States + o.InnerStates + o.Events + o.Reconnects + o.Pings + o.Warnings
		// Past MaxWarnings on purpose: this one says the report is cut.
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the report leaves out %d %s to stay bounded (see omitted): the peer caused more than it keeps", n, plural(n, "entry", "entries")))
	}
	rep.DurationMS = ms(r.since())
	return rep
}

func backoffPolicy(f *twilsock.Frame) *twilsock.BackoffPolicy {
	if len(f.Payload) == 0 || !twilsock.IsJSONPayload(f.Header.PayloadType) {
		return nil
	}
	var p twilsock.ClosePayload
	if err := json.Unmarshal(f.Payload, &p); err != nil {
		return nil
	}
	return p.BackoffPolicy
}

func statusCodes(st *twilsock.Status) (code, twilioErr *int) {
	if st == nil {
		return nil, nil
	}
	code = intp(st.Code)
	if st.ErrorCode != 0 {
		twilioErr = intp(st.ErrorCode)
	}
	return code, twilioErr
}

func statusText(st *twilsock.Status) string {
	if st == nil {
		return "no status"
	}
	if st.Description != "" {
		return clip(st.Description)
	}
	if st.ErrorCode != 0 {
		return twilsock.Describe(st.ErrorCode)
	}
	if st.Status != "" {
		return clip(st.Status)
	}
	return http.StatusText(st.Code)
}

func describeStatus(st *twilsock.Status) string {
	if st == nil {
		return "a reply without a status"
	}
	s := strconv.Itoa(st.Code)
	if txt := st.Status; txt != "" {
		s += " " + clip(txt)
	} else if txt := http.StatusText(st.Code); txt != "" {
		s += " " + txt
	}
	if st.ErrorCode != 0 {
		s += fmt.Sprintf(" (Twilio error %d: %s)", st.ErrorCode, statusText(st))
	}
	return s
}

func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute || d <= -time.Minute:
		return d.Round(time.Second)
	case d >= time.Second || d <= -time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func aheadBehind(skew float64) string {
	if skew > 0 {
		return "ahead of"
	}
	return "behind"
}
