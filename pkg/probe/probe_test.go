package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/convctl/convctl/pkg/twilsock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func staticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// fastConfig compresses every SDK timing so scenarios run in milliseconds.
func fastConfig(url, tok string) Config {
	return Config{
		URL:            url,
		Token:          staticToken(tok),
		Secret:         testSecret,
		Timeout:        5 * time.Second,
		Backoff:        Backoff{Min: 5 * time.Millisecond, Max: 40 * time.Millisecond},
		RequestTimeout: 2 * time.Second,
		DisconnectWait: time.Millisecond,
		Rand:           func() float64 { return 0.5 }, // no jitter
	}
}

// runProbe runs the probe and fails the test if it took longer than the
// contract allows (Timeout + 1 s).
func runProbe(t *testing.T, cfg Config) *Report {
	t.Helper()
	return runProbeCtx(t, context.Background(), cfg)
}

func runProbeCtx(t *testing.T, ctx context.Context, cfg Config) *Report {
	t.Helper()
	rep, _ := runProbeStarved(t, ctx, cfg)
	return rep
}

// runProbeStarved is runProbeCtx that also says how long the process went
// unscheduled during the run.
func runProbeStarved(t *testing.T, ctx context.Context, cfg Config) (*Report, time.Duration) {
	t.Helper()
	start := time.Now()
	lag := startLagMeter()
	rep, err := Run(ctx, cfg)
	starved := lag.end()
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	limit := cfg.Timeout
	if limit == 0 {
		limit = DefaultTimeout
	}
	if el := time.Since(start); el > limit+time.Second+starved {
		t.Errorf("Run took %v, more than timeout %v + 1s (+ %v the process was not scheduled)", el, limit, starved)
	}
	return rep, starved
}

// lagMeter measures how long this process went unscheduled: on a machine
// shared by busy neighbours (and under -race) a process can be starved for
// seconds, which no deadline inside it can beat. The bound on Run is checked
// against the time it could have run.
type lagMeter struct {
	stop, done chan struct{}
	lag        time.Duration
}

func startLagMeter() *lagMeter {
	m := &lagMeter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		const every = 5 * time.Millisecond
		t := time.NewTicker(every)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				now := time.Now()
				if gap := now.Sub(last); gap > 4*every {
					m.lag += gap - every
				}
				last = now
			}
		}
	}()
	return m
}

func (m *lagMeter) end() time.Duration {
	close(m.stop)
	<-m.done
	return m.lag
}

// stopWhen returns a context that ends once the run has shown what the test
// waits for, so a test holds a connection exactly as long as it needs to
// instead of guessing a duration.
func stopWhen(t *testing.T, cfg *Config, seen func(Update) bool) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	prev := cfg.Observer
	cfg.Observer = func(u Update) {
		if prev != nil {
			prev(u)
		}
		if seen(u) {
			cancel()
		}
	}
	return ctx
}

// reconnected is true from the second time the public state becomes connected.
func reconnected() func(Update) bool {
	n := 0
	return func(u Update) bool {
		if u.Kind == UpdateState && u.PublicChanged && u.State == StateConnected {
			n++
		}
		return n >= 2
	}
}

func event(name string) func(Update) bool {
	return func(u Update) bool { return u.Kind == UpdateEvent && u.Event.Name == name }
}

func states(rep *Report) []State {
	var out []State
	for _, s := range rep.States {
		out = append(out, s.State)
	}
	return out
}

// eventNames lists every event that happened, a folded repeat as often as
// it happened.
func eventNames(rep *Report) []string {
	var out []string
	for _, e := range rep.Events {
		for range max(e.Count, 1) {
			out = append(out, e.Name)
		}
	}
	return out
}

func findEvent(rep *Report, name string) *Event {
	for i := range rep.Events {
		if rep.Events[i].Name == name {
			return &rep.Events[i]
		}
	}
	return nil
}

func wantStates(t *testing.T, rep *Report, want ...State) {
	t.Helper()
	if got := states(rep); !reflect.DeepEqual(got, want) {
		t.Errorf("states = %v, want %v (inner %v)", got, want, rep.InnerStates)
	}
}

func wantOutcome(t *testing.T, rep *Report, want Outcome) {
	t.Helper()
	if rep.Outcome != want {
		b, _ := json.MarshalIndent(rep, "", "  ")
		t.Fatalf("outcome = %s, want %s; report:\n%s", rep.Outcome, want, b)
	}
}

func wantCause(t *testing.T, rep *Report, kind CauseKind, status, twilioErr int) {
	t.Helper()
	c := rep.Cause
	if c == nil {
		t.Fatalf("cause is nil, want %s", kind)
	}
	if c.Kind != kind {
		t.Errorf("cause.kind = %s, want %s (%s)", c.Kind, kind, c.Message)
	}
	if got := deref(c.HTTPStatus); got != status {
		t.Errorf("cause.http_status = %d, want %d", got, status)
	}
	if got := deref(c.TwilioError); got != twilioErr {
		t.Errorf("cause.twilio_error = %d, want %d", got, twilioErr)
	}
	if c.Message == "" || c.Hint == "" {
		t.Errorf("cause without message or hint: %+v", c)
	}
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func TestCleanRun(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	tok := mintToken(t, testSecret, time.Hour, "")
	var mu sync.Mutex
	var seen []State
	cfg := fastConfig(fs.URL, tok)
	cfg.Version = "1.2.3"
	cfg.Observer = func(u Update) {
		if u.Kind == UpdateState && u.PublicChanged {
			mu.Lock()
			seen = append(seen, u.State)
			mu.Unlock()
		}
	}
	rep := runProbe(t, cfg)
	fs.close() // the server has now read everything the client sent

	wantOutcome(t, rep, OutcomeConnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	if !reflect.DeepEqual(seen, states(rep)) {
		t.Errorf("observer saw %v, report says %v", seen, states(rep))
	}
	if rep.Cause != nil {
		t.Errorf("cause = %+v, want nil", rep.Cause)
	}
	if len(rep.Events) != 0 || len(rep.Reconnects) != 0 {
		t.Errorf("events %v, reconnects %v on a clean run", rep.Events, rep.Reconnects)
	}
	tm := rep.Timing
	if tm.DNS != nil || tm.TLS != nil {
		t.Errorf("dns/tls timed for ws://127.0.0.1: %+v", tm)
	}
	for name, v := range map[string]*float64{"tcp": tm.TCP, "upgrade": tm.Upgrade, "init": tm.Init, "connected": tm.Connected} {
		if v == nil || *v <= 0 {
			t.Errorf("timing %s = %v, want > 0", name, v)
		}
	}
	if *tm.Connected < *tm.Init {
		t.Errorf("connected %v < init %v", *tm.Connected, *tm.Init)
	}
	if rep.ClockSkewSeconds == nil || *rep.ClockSkewSeconds > 1 || *rep.ClockSkewSeconds < -1 {
		t.Errorf("clock skew = %v, want about 0 against a local server", rep.ClockSkewSeconds)
	}
	if rep.Token == nil || rep.Token.Identity != "alice" || rep.Token.ExpiresAt == nil || rep.Token.Signature != "verified" {
		t.Errorf("token info = %+v", rep.Token)
	}

	c := fs.conn(0)
	if got, want := c.methods(), []string{"init", "telemetry.v1", "close"}; !reflect.DeepEqual(got, want) {
		t.Errorf("server got %v, want %v", got, want)
	}
	init := c.frame("init")
	var raw map[string]any
	if err := json.Unmarshal(init.RawHeader, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"continuation_token", "registrations", "tweaks", "capabilities", "metadata", "token"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("init lacks %q, which the SDK always sends: %s", k, init.RawHeader)
		}
	}
	if raw["continuation_token"] != nil {
		t.Errorf("first init carries continuation_token %v", raw["continuation_token"])
	}
	md := init.Header.Metadata
	if md.SDK != "convctl" || md.Ver != "1.2.3" || md.Env != "Go" || md.Type != "conversations" || md.OS == "" {
		t.Errorf("metadata = %+v", md)
	}
	if regs := init.Header.Registrations; len(regs) != 1 || regs[0].Product != "ip_messaging" || len(regs[0].MessageTypes) == 0 {
		t.Errorf("registrations = %+v", regs)
	}
	if !strings.HasPrefix(init.Header.ID, "TM") {
		t.Errorf("id %q", init.Header.ID)
	}
}

func TestDenied(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   int
		tok    string
		secret []byte
		kind   CauseKind
		events []string
		hint   string
	}{
		{"bad signature, secret known", twilsock.ErrInvalidSignature, mintToken(t, []byte("another secret, not the key's!!"), time.Hour, ""), testSecret,
			CauseTokenRejected, []string{EventConnectionError}, "does not verify with this key"},
		{"bad signature, no secret", twilsock.ErrInvalidSignature, mintToken(t, testSecret, time.Hour, ""), nil,
			CauseTokenRejected, []string{EventConnectionError}, "signature not verified"},
		{"bad signature, secret verifies", twilsock.ErrInvalidSignature, mintToken(t, testSecret, time.Hour, ""), testSecret,
			CauseTokenRejected, []string{EventConnectionError}, "holds a different secret"},
		{"expired", twilsock.ErrTokenExpired, mintToken(t, testSecret, -2*time.Minute, ""), nil,
			CauseTokenExpired, []string{EventTokenExpired, EventConnectionError}, "expired 2m"},
		{"issuer", twilsock.ErrInvalidIssuer, mintToken(t, testSecret, time.Hour, ""), testSecret,
			CauseTokenRejected, []string{EventConnectionError}, "20103"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeServer(t, scriptDeny(tc.code))
			cfg := fastConfig(fs.URL, tc.tok)
			cfg.Secret = tc.secret
			rep := runProbe(t, cfg)
			fs.close()
			wantOutcome(t, rep, OutcomeDenied)
			wantStates(t, rep, StateConnecting, StateDenied)
			wantCause(t, rep, tc.kind, 401, tc.code)
			if got := eventNames(rep); !reflect.DeepEqual(got, tc.events) {
				t.Errorf("events = %v, want %v", got, tc.events)
			}
			ce := findEvent(rep, EventConnectionError)
			if ce == nil || ce.Terminal == nil || !*ce.Terminal || deref(ce.HTTPStatus) != 401 || deref(ce.TwilioError) != tc.code {
				t.Errorf("connectionError = %+v, want terminal 401/%d", ce, tc.code)
			}
			if !strings.Contains(rep.Cause.Hint, tc.hint) {
				t.Errorf("hint %q does not contain %q", rep.Cause.Hint, tc.hint)
			}
			if n := fs.upgrades.Load(); n != 1 {
				t.Errorf("%d upgrades: a denied client must not retry", n)
			}
			if got := fs.conn(0).methods(); !reflect.DeepEqual(got, []string{"init", "close"}) {
				t.Errorf("server got %v, want init then the client's close", got)
			}
		})
	}
}

func TestRegionMismatchHint(t *testing.T) {
	fs := newFakeServer(t, scriptDeny(twilsock.ErrInvalidIssuer))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.Split(fs.URL, "/v3")[0], "ws://"))
	cfg := fastConfig("ws://tsock.us1.twilio.com:"+port+"/v3/wsconnect", mintToken(t, testSecret, time.Hour, "ie1"))
	cfg.Resolver = loopbackResolver{}
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDenied)
	if !strings.Contains(rep.Cause.Hint, "region ie1") || strings.Contains(rep.Cause.Hint, "--") {
		t.Errorf("hint does not name the region mismatch, or names a flag: %q", rep.Cause.Hint)
	}
	want := &RegionMismatch{Token: "ie1", URL: "us1"}
	if !reflect.DeepEqual(rep.Cause.RegionMismatch, want) || !reflect.DeepEqual(rep.RegionMismatch, want) {
		t.Errorf("region mismatch: cause %+v, report %+v, want %+v", rep.Cause.RegionMismatch, rep.RegionMismatch, want)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0], "ie1") {
		t.Errorf("warnings = %v", rep.Warnings)
	}
	if rep.Timing.DNS == nil {
		t.Errorf("no DNS timing for a host name")
	}
}

// loopbackResolver answers every name with 127.0.0.1, so a Twilio-shaped URL
// reaches a local test server and nothing else.
type loopbackResolver struct{}

func (loopbackResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	return []net.IPAddr{{IP: net.IPv4(127, 0, 0, 1)}}, nil
}

func TestUpdateToken(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		u := c.expect(twilsock.MethodUpdate)
		if u == nil {
			return
		}
		c.send(twilsock.NewReply(u.Header.ID, twilsock.OKStatus()), nil)
		c.drain()
	})
	first, second := mintToken(t, testSecret, time.Hour, ""), mintToken(t, testSecret, 2*time.Hour, "")
	calls := 0
	cfg := fastConfig(fs.URL, "")
	cfg.Token = func(context.Context) (string, error) {
		calls++
		if calls == 1 {
			return first, nil
		}
		return second, nil
	}
	cfg.UpdateToken = true
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	if got := eventNames(rep); !reflect.DeepEqual(got, []string{EventTokenUpdated}) {
		t.Errorf("events = %v", got)
	}
	if u := fs.conn(0).frame("update"); u == nil || u.Header.Token != second {
		t.Errorf("update did not carry the fresh token")
	}
	var inner []Inner
	for _, s := range rep.InnerStates {
		inner = append(inner, s.State)
	}
	want := []Inner{InnerConnecting, InnerInitialising, InnerConnected, InnerUpdating, InnerConnected, InnerDisconnecting, InnerDisconnected}
	if !reflect.DeepEqual(inner, want) {
		t.Errorf("inner = %v, want %v", inner, want)
	}
	if rep.Token.Renewals != 1 {
		t.Errorf("renewals = %d", rep.Token.Renewals)
	}
}

func TestUpdateRejected(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		u := c.expect(twilsock.MethodUpdate)
		if u == nil {
			return
		}
		c.send(twilsock.NewReply(u.Header.ID, twilsock.DenyStatus(twilsock.ErrInvalidSignature)), nil)
		c.drain()
	})
	good, bad := mintToken(t, testSecret, time.Hour, ""), mintToken(t, []byte("wrong secret wrong secret wrong!"), time.Hour, "")
	n := 0
	cfg := fastConfig(fs.URL, "")
	cfg.Token = func(context.Context) (string, error) {
		n++
		if n == 1 {
			return good, nil
		}
		return bad, nil
	}
	cfg.UpdateToken = true
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDenied)
	wantStates(t, rep, StateConnecting, StateConnected, StateDenied)
	wantCause(t, rep, CauseTokenRejected, 401, twilsock.ErrInvalidSignature)
	if !strings.Contains(rep.Cause.Message, "update") || !strings.Contains(rep.Cause.Hint, "does not verify") {
		t.Errorf("cause = %+v", rep.Cause)
	}
}

// aboutToExpireThen410 pushes token_about_to_expire after init; then, when
// the client is expected to renew, answers its update and keeps the
// connection, else closes it with 410 as a server does at exp.
func aboutToExpireThen410(expectUpdate bool) func(*srvConn) {
	return func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		cu := twilsock.NewClientUpdate(twilsock.ClientUpdateTokenAboutToExpire)
		c.send(cu, nil)
		ack := c.expect(twilsock.MethodReply)
		if ack == nil || ack.Header.ID != cu.ID || !ack.Header.Status.OK() {
			c.t.Errorf("client_update not acked: %+v", ack)
			return
		}
		if expectUpdate {
			if u := c.expect(twilsock.MethodUpdate); u != nil {
				c.send(twilsock.NewReply(u.Header.ID, twilsock.OKStatus()), nil)
				c.drain()
			}
			return
		}
		h, _, _ := twilsock.NewServerClose(twilsock.CloseStatus(twilsock.CloseTokenExpired), nil)
		c.send(h, nil)
		if ack := c.expect(twilsock.MethodReply); ack == nil || ack.Header.ID != h.ID {
			c.t.Errorf("close not acked")
		}
		c.drain()
	}
}

func TestHoldAcrossExpiry(t *testing.T) {
	t.Run("no renew", func(t *testing.T) {
		fs := newFakeServer(t, aboutToExpireThen410(false))
		cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
		cfg.Hold = 10 * time.Second
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeDisconnected)
		wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
		if got := eventNames(rep); !reflect.DeepEqual(got, []string{EventTokenAboutToExpire, EventTokenExpired}) {
			t.Errorf("events = %v", got)
		}
		wantCause(t, rep, CauseTokenExpired, 410, twilsock.ErrTokenExpired)
		// The script closes with 410 an hour before the token's exp.
		h := rep.Cause.Hint
		if !strings.Contains(h, "updateToken") || !strings.Contains(h, "tokenAboutToExpire came") || strings.Contains(h, "--") {
			t.Errorf("hint = %q", h)
		}
		if !strings.Contains(h, "closed with 410") || !strings.Contains(h, "before the token's exp") || strings.Contains(h, "the token expired at") {
			t.Errorf("a 410 before exp is told as an expiry: %q", h)
		}
		if rep.Renew {
			t.Errorf("report says renew on")
		}
		if fs.upgrades.Load() != 1 {
			t.Errorf("reconnected after close 410")
		}
	})
	t.Run("renew", func(t *testing.T) {
		fs := newFakeServer(t, aboutToExpireThen410(true))
		cfg := fastConfig(fs.URL, "")
		cfg.Token = func(context.Context) (string, error) { return mintToken(t, testSecret, time.Hour, ""), nil }
		cfg.Renew = true
		cfg.Hold = 200 * time.Millisecond
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeConnected)
		wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
		if got := eventNames(rep); !reflect.DeepEqual(got, []string{EventTokenAboutToExpire, EventTokenUpdated}) {
			t.Errorf("events = %v", got)
		}
	})
	t.Run("renew fails", func(t *testing.T) {
		fs := newFakeServer(t, aboutToExpireThen410(false))
		n := 0
		cfg := fastConfig(fs.URL, "")
		tok := mintToken(t, testSecret, time.Hour, "")
		cfg.Token = func(context.Context) (string, error) {
			n++
			if n > 1 {
				return "", errors.New("token server down")
			}
			return tok, nil
		}
		cfg.Renew = true
		cfg.Hold = 10 * time.Second
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeDisconnected)
		if got := eventNames(rep); !reflect.DeepEqual(got, []string{EventTokenAboutToExpire, EventTokenRefreshFailed, EventTokenExpired}) {
			t.Errorf("events = %v", got)
		}
		if !strings.Contains(rep.Cause.Hint, "token server down") {
			t.Errorf("hint = %q", rep.Cause.Hint)
		}
	})
}

func TestDropAndReconnect(t *testing.T) {
	fs := newFakeServer(t, scriptDrop, scriptOK)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 300 * time.Millisecond
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	if len(rep.Reconnects) != 1 || rep.Reconnects[0].Attempt != 1 || rep.Reconnects[0].DelayMS != 5 {
		t.Errorf("reconnects = %+v, want one after 5ms", rep.Reconnects)
	}
	if len(rep.Events) != 0 {
		t.Errorf("events = %v: the SDK emits none when an open socket drops", eventNames(rep))
	}
	init2 := fs.conn(1).frame("init")
	if init2 == nil || init2.Header.ContinuationToken == nil || *init2.Header.ContinuationToken != "CT-a" {
		t.Errorf("re-init does not carry the continuation token: %+v", init2)
	}
	if len(rep.Warnings) == 0 || !strings.Contains(strings.Join(rep.Warnings, "\n"), "came back") {
		t.Errorf("warnings = %v", rep.Warnings)
	}
}

func TestDropNoReconnect(t *testing.T) {
	fs := newFakeServer(t, scriptDrop)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 5 * time.Second
	cfg.NoReconnect = true
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDisconnected)
	// Giving up passes through disconnecting, as the SDK always does.
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	wantCause(t, rep, CauseNetwork, 0, 0)
	if fs.upgrades.Load() != 1 || len(rep.Reconnects) != 0 {
		t.Errorf("reconnected with NoReconnect")
	}
}

func TestOffload(t *testing.T) {
	fs := newFakeServer(t, scriptClose(twilsock.CloseStatus(twilsock.CloseOffload), &twilsock.BackoffPolicy{ReconnectMinMS: 30}), scriptOK)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 300 * time.Millisecond
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	if len(rep.Reconnects) != 1 || rep.Reconnects[0].DelayMS != 30 {
		t.Errorf("reconnects = %+v, want one after reconnect_min_ms (30ms)", rep.Reconnects)
	}
	if !strings.Contains(rep.Reconnects[0].Error, "308") {
		t.Errorf("reconnect error %q does not name the offload", rep.Reconnects[0].Error)
	}
	var inner []Inner
	for _, s := range rep.InnerStates {
		inner = append(inner, s.State)
	}
	if !contains(inner, InnerWaitOffloadSocketClosed) || !contains(inner, InnerRetrying) {
		t.Errorf("inner = %v", inner)
	}
	if got := fs.conn(0).methods(); !reflect.DeepEqual(got, []string{"init", "telemetry.v1", "reply"}) {
		t.Errorf("conn 0 got %v: the close must be acked", got)
	}
	if ct := fs.conn(1).frame("init").Header.ContinuationToken; ct == nil || *ct != "CT-a" {
		t.Errorf("continuation token not carried across the offload")
	}
}

func TestOffloadThenNoReconnect(t *testing.T) {
	fs := newFakeServer(t, scriptClose(twilsock.CloseStatus(twilsock.CloseOffload), &twilsock.BackoffPolicy{ReconnectMinMS: 30}))
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 5 * time.Second
	cfg.NoReconnect = true
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDisconnected)
	wantCause(t, rep, CauseOffload, 308, 0)
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestServerClose401(t *testing.T) {
	fs := newFakeServer(t, scriptClose(twilsock.CloseStatus(twilsock.CloseUnauthorized), nil))
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 5 * time.Second
	cfg.DisconnectWait = 50 * time.Millisecond
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDisconnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	wantCause(t, rep, CauseTokenRejected, 401, 0)
	if findEvent(rep, EventTokenExpired) != nil {
		t.Errorf("tokenExpired on close 401")
	}
	// The SDK's public state stays disconnecting for its disconnect timeout.
	n := len(rep.States)
	if gap := rep.States[n-1].AtMS - rep.States[n-2].AtMS; gap < 50 {
		t.Errorf("disconnecting lasted %vms, want >= DisconnectWait (50ms)", gap)
	}
}

func TestServerCloseFatal(t *testing.T) {
	fs := newFakeServer(t, scriptClose(twilsock.CloseStatus(twilsock.CloseNotAccepted), nil))
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 5 * time.Second
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDisconnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnected)
	wantCause(t, rep, CauseProtocol, 406, 0)
	if rep.InnerStates[len(rep.InnerStates)-1].State != InnerUnsupported {
		t.Errorf("inner = %v, want to end unsupported", rep.InnerStates)
	}
}

func TestRefusedUpgrades(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	fs.refuse.Store(2)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)
	if len(rep.Reconnects) != 2 || rep.Reconnects[0].DelayMS != 5 || rep.Reconnects[1].DelayMS != 10 {
		t.Errorf("reconnects = %+v, want 5ms then 10ms", rep.Reconnects)
	}
	for _, rc := range rep.Reconnects {
		if !strings.Contains(rc.Error, "503") {
			t.Errorf("reconnect error %q does not name the 503", rc.Error)
		}
	}
	if ce := findEvent(rep, EventConnectionError); ce == nil || ce.HTTPStatus != nil || *ce.Terminal || !strings.Contains(ce.Message, "503") {
		t.Errorf("connectionError = %+v", ce)
	}
	if rep.Upgrade != nil {
		t.Errorf("upgrade failure kept after a successful upgrade: %+v", rep.Upgrade)
	}
	if rep.Attempts != 3 {
		t.Errorf("attempts = %d", rep.Attempts)
	}
}

func TestRefusedUpgradesForever(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	fs.refuse.Store(1 << 20)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Timeout = 300 * time.Millisecond
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeUnreachable)
	wantStates(t, rep, StateConnecting, StateDisconnecting, StateDisconnected)
	wantCause(t, rep, CauseNetwork, 503, 0)
	if !strings.Contains(rep.Cause.Hint, "refused the WebSocket upgrade") || rep.Cause.Phase != PhaseUpgrade {
		t.Errorf("cause = %+v", rep.Cause)
	}
	if rep.Upgrade == nil || rep.Upgrade.Status != 503 || !strings.Contains(rep.Upgrade.Body, "refused by test") {
		t.Errorf("upgrade failure = %+v", rep.Upgrade)
	}
	if len(rep.Reconnects) < 1 {
		t.Errorf("no reconnects in 300ms with a 5..40ms backoff")
	}
}

func TestInitNeverAnswered(t *testing.T) {
	fs := newFakeServer(t, scriptSilent)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Timeout = 200 * time.Millisecond
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeTimeout)
	wantStates(t, rep, StateConnecting, StateDisconnecting, StateDisconnected)
	wantCause(t, rep, CauseTimeout, 0, 0)
	if rep.Cause.Phase != PhaseInit || !strings.Contains(rep.Cause.Message, "init") {
		t.Errorf("cause = %+v, want phase init", rep.Cause)
	}
	if rep.Timing.Upgrade == nil || rep.Timing.Init != nil || rep.Timing.Connected != nil {
		t.Errorf("timing = %+v", rep.Timing)
	}
}

func TestInitRequestTimeoutRetries(t *testing.T) {
	fs := newFakeServer(t, scriptSilent, scriptOK)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.RequestTimeout = 50 * time.Millisecond
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	if len(rep.Reconnects) != 1 || !strings.Contains(rep.Reconnects[0].Error, "not answered") {
		t.Errorf("reconnects = %+v", rep.Reconnects)
	}
	if got := fs.conn(0).methods(); !reflect.DeepEqual(got, []string{"init", "close"}) {
		t.Errorf("conn 0 got %v", got)
	}
}

func TestNothingListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fastConfig("ws://"+addr+"/v3/wsconnect", mintToken(t, testSecret, time.Hour, ""))
	cfg.NoReconnect = true
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeUnreachable)
	wantStates(t, rep, StateConnecting, StateDisconnecting, StateDisconnected)
	wantCause(t, rep, CauseNetwork, 0, 0)
	if rep.Cause.Phase != PhaseTCP || !strings.Contains(rep.Cause.Message, "refused") {
		t.Errorf("cause = %+v", rep.Cause)
	}
	if rep.Timing.TCP != nil || rep.Timing.Upgrade != nil {
		t.Errorf("timing = %+v", rep.Timing)
	}
}

func TestRateLimited(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		c.send(twilsock.NewReply(f.Header.ID, twilsock.Status{Code: 429, Status: "Too Many Requests"}), jsonPayload(t, twilsock.ClosePayload{BackoffPolicy: &twilsock.BackoffPolicy{ReconnectMinMS: 25}}))
		c.drain()
	}, scriptOK)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	if len(rep.Reconnects) != 1 || rep.Reconnects[0].DelayMS != 25 {
		t.Errorf("reconnects = %+v, want one after backoff_policy's 25ms", rep.Reconnects)
	}
	if !contains(func() []Inner {
		var s []Inner
		for _, x := range rep.InnerStates {
			s = append(s, x.State)
		}
		return s
	}(), InnerError) {
		t.Errorf("no error state: %v", rep.InnerStates)
	}

	// Rate limited until the run ends: the cause says so.
	fs2 := newFakeServer(t, func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		c.send(twilsock.NewReply(f.Header.ID, twilsock.Status{Code: 429, Status: "Too Many Requests"}), nil)
		c.drain()
	})
	cfg = fastConfig(fs2.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.NoReconnect = true
	rep = runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeTimeout)
	wantCause(t, rep, CauseRateLimited, 429, 0)
}

func TestBadFrames(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		_ = c.ws.WriteMessage(1, []byte("hello, I am text")) // websocket.TextMessage
		_ = c.ws.WriteMessage(2, []byte("TWILSOCK V3.0 999\r\n{}"))
		c.drain()
	})
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Timeout = 300 * time.Millisecond
	cfg.NoReconnect = true
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeTimeout)
	if findEvent(rep, EventProtocolError) == nil {
		t.Errorf("no protocolError event: %v", eventNames(rep))
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "text WebSocket message") {
		t.Errorf("warnings = %v", rep.Warnings)
	}
	// One attempt: its server answered with a frame that is not Twilsock
	// and nothing valid followed. That is a protocol error (exit 3 by the
	// contract, as a timeout is), told as such, not as an earlier attempt.
	if c := rep.Cause; c == nil || c.Kind != CauseProtocol || c.Phase != PhaseInit || !strings.Contains(c.Message, "not Twilsock") ||
		!strings.Contains(c.Message, "no valid reply followed") || strings.Contains(c.Message, "attempt before") {
		t.Errorf("cause = %+v", rep.Cause)
	}
}

// TestTimeoutNamesTheAttemptBefore: "the attempt before failed" is said when
// there was one.
func TestTimeoutNamesTheAttemptBefore(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		c.send(twilsock.NewReply(f.Header.ID, twilsock.Status{Code: 429, Status: "Too Many Requests"}), nil)
		c.drain()
	}, scriptSilent)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Timeout = 300 * time.Millisecond
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeTimeout)
	wantCause(t, rep, CauseTimeout, 0, 0)
	if !strings.Contains(rep.Cause.Message, "the attempt before failed: the server answered init with 429") {
		t.Errorf("cause = %+v", rep.Cause)
	}
}

// TestOutOfFileDescriptors: EMFILE is this machine's limit, not a firewall
// or a proxy.
func TestOutOfFileDescriptors(t *testing.T) {
	cfg := fastConfig("ws://127.0.0.1:1/v3/wsconnect", mintToken(t, testSecret, time.Hour, ""))
	cfg.NoReconnect = true
	emfile := func(*run, context.Context, *attempt) (wsConn, *http.Response, error) {
		err := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}
		return nil, nil, &phaseError{PhaseTCP, err}
	}
	rep, err := runWith(context.Background(), cfg, emfile)
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, rep, OutcomeUnreachable)
	wantCause(t, rep, CauseNetwork, 0, 0)
	if c := rep.Cause; !strings.Contains(c.Message, "this machine ran out of file descriptors") ||
		!strings.Contains(c.Hint, "open-file limit") || strings.Contains(c.Hint, "firewall") || strings.Contains(c.Hint, "proxy") {
		t.Errorf("cause = %+v", c)
	}
}

// TestCameBackCountsReconnectsAfterTheLoss: reconnects before the first
// connect are not the ones that brought a lost session back.
func TestCameBackCountsReconnectsAfterTheLoss(t *testing.T) {
	fs := newFakeServer(t, scriptDrop, scriptOK)
	fs.refuse.Store(2)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 300 * time.Millisecond
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	if len(rep.Reconnects) != 3 {
		t.Errorf("reconnects = %+v, want 2 refused then 1 after the drop", rep.Reconnects)
	}
	w := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(w, "came back after 1 reconnect") || strings.Contains(w, "reconnects") {
		t.Errorf("warnings = %v", rep.Warnings)
	}
}

func TestNotificationAcked(t *testing.T) {
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		n := &twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodNotification, ID: twilsock.NewID()}, MessageType: "twilio.ipmsg.typing_indicator"}
		c.send(n, []byte(`{}`))
		if ack := c.expect(twilsock.MethodReply); ack == nil || ack.Header.ID != n.ID {
			c.t.Errorf("notification not acked: %+v", ack)
		}
		c.drain()
	})
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 100 * time.Millisecond
	rep := runProbe(t, cfg)
	fs.close()
	wantOutcome(t, rep, OutcomeConnected)
	if e := findEvent(rep, EventNotification); e == nil || e.Message != "twilio.ipmsg.typing_indicator" {
		t.Errorf("events = %+v", rep.Events)
	}
}

func TestPingsWhileHolding(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = time.Hour
	cfg.PingInterval = 10 * time.Millisecond
	// Hold until three pongs are in, then stop the run as Ctrl-C would.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pongs := 0
	cfg.Observer = func(u Update) {
		if u.Kind == UpdatePing {
			if u.Duration <= 0 {
				t.Errorf("ping RTT %v", u.Duration)
			}
			if pongs++; pongs == 3 {
				cancel()
			}
		}
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, rep, OutcomeConnected)
	if len(rep.PingsMS) < 3 || !rep.Interrupted {
		t.Errorf("pings = %v, interrupted %v; want 3 round trips recorded", rep.PingsMS, rep.Interrupted)
	}
}

func TestHalfOpenPeerDetected(t *testing.T) {
	// The server answers init, then never reads again: no pongs, no close.
	release := make(chan struct{})
	fs := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		<-release
	}, scriptOK)
	defer close(release)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = time.Hour
	cfg.PingInterval = 20 * time.Millisecond
	rep := runProbeCtx(t, stopWhen(t, &cfg, reconnected()), cfg)
	wantOutcome(t, rep, OutcomeConnected)
	if findEvent(rep, EventPeerUnresponsive) == nil {
		t.Fatalf("half-open peer not detected: events %v", eventNames(rep))
	}
	wantStates(t, rep, StateConnecting, StateConnected, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected)

	cfg.NoReconnect = true
	cfg.Observer = nil
	cfg.Hold = 5 * time.Second
	fs2 := newFakeServer(t, func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		<-release
	})
	_ = fs2
	cfg.URL = fs2.URL
	rep = runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDisconnected)
	wantCause(t, rep, CauseNetwork, 0, 0)
	if !strings.Contains(rep.Cause.Hint, "half-open") {
		t.Errorf("hint = %q", rep.Cause.Hint)
	}
}

func TestCancel(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Observer = func(u Update) {
		if u.Kind == UpdateState && u.Inner == InnerConnected {
			cancel()
		}
	}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantOutcome(t, rep, OutcomeConnected)
	if !rep.Interrupted {
		t.Errorf("interrupted not set")
	}
}

func TestConfigErrors(t *testing.T) {
	tok := staticToken("x")
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{Token: tok}, "URL is empty"},
		{"http", Config{URL: "http://x/", Token: tok}, "scheme"},
		{"no token", Config{URL: "ws://x/"}, "Token func"},
		{"negative", Config{URL: "ws://x/", Token: tok, Timeout: -1, Hold: -1}, "Hold is negative"},
		{"jitter", Config{URL: "ws://x/", Token: tok, Backoff: Backoff{Jitter: 1.5}}, "Jitter"},
		{"min>max", Config{URL: "ws://x/", Token: tok, Backoff: Backoff{Min: 2 * time.Second, Max: time.Second}}, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrConfig mentioning %q", err, tc.want)
			}
		})
	}
}

func TestTokenSourceError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Run(context.Background(), Config{URL: "ws://127.0.0.1:1/", Token: func(context.Context) (string, error) { return "", boom }})
	if !errors.Is(err, ErrToken) || !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
	_, err = Run(context.Background(), Config{URL: "ws://127.0.0.1:1/", Token: staticToken("  \n")})
	if !errors.Is(err, ErrToken) {
		t.Errorf("empty token: err = %v", err)
	}
}

func TestStalledDNS(t *testing.T) {
	cfg := fastConfig("ws://tsock.us1.twilio.com/v3/wsconnect", mintToken(t, testSecret, time.Hour, ""))
	cfg.Resolver = stallResolver{}
	cfg.Timeout = 100 * time.Millisecond
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeUnreachable)
	wantCause(t, rep, CauseTimeout, 0, 0)
	if rep.Cause.Phase != PhaseDNS || !strings.Contains(rep.Cause.Message, "DNS lookup of tsock.us1.twilio.com") {
		t.Errorf("cause = %+v", rep.Cause)
	}
}

type stallResolver struct{}

func (stallResolver) LookupIPAddr(ctx context.Context, _ string) ([]net.IPAddr, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestReportJSONShape(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	rep := runProbe(t, fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, "")))
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"url", "outcome", "states", "events", "reconnects", "timing_ms", "cause", "clock_skew_seconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	tm := m["timing_ms"].(map[string]any)
	for _, k := range []string{"dns", "tcp", "tls", "upgrade", "init", "connected"} {
		if _, ok := tm[k]; !ok {
			t.Errorf("timing_ms lacks %q", k)
		}
	}
	if m["events"] == nil || m["reconnects"] == nil {
		t.Errorf("events/reconnects must be [] not null: %s", b)
	}
	st := m["states"].([]any)[0].(map[string]any)
	if st["state"] != "connecting" || st["at_ms"] == nil {
		t.Errorf("states[0] = %v", st)
	}
}

func TestTLS(t *testing.T) {
	fs := newFakeTLSServer(t, scriptOK)
	if !strings.HasPrefix(fs.URL, "wss://") {
		t.Fatalf("URL %s", fs.URL)
	}
	tok := mintToken(t, testSecret, time.Hour, "")

	t.Run("trusted", func(t *testing.T) {
		cfg := fastConfig(fs.URL, tok)
		cfg.TLSConfig = &tls.Config{RootCAs: fs.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeConnected)
		if rep.Timing.TLS == nil || *rep.Timing.TLS <= 0 {
			t.Errorf("tls timing = %v", rep.Timing.TLS)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		cfg := fastConfig(fs.URL, tok)
		cfg.NoReconnect = true
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeUnreachable)
		wantCause(t, rep, CauseTLS, 0, 0)
		if rep.Cause.Phase != PhaseTLS || !strings.Contains(rep.Cause.Message, "certificate") || !strings.Contains(rep.Cause.Hint, "CA") {
			t.Errorf("cause = %+v", rep.Cause)
		}
	})
	t.Run("wss to a plain server", func(t *testing.T) {
		plain := newFakeServer(t, scriptOK)
		cfg := fastConfig(strings.Replace(plain.URL, "ws://", "wss://", 1), tok)
		cfg.NoReconnect = true
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeUnreachable)
		if rep.Cause == nil || rep.Cause.Phase != PhaseTLS || rep.Cause.Kind != CauseTLS || !strings.Contains(rep.Cause.Message, "plain HTTP") {
			t.Errorf("cause = %+v", rep.Cause)
		}
		if rep.Network == nil || rep.Network.TLS == nil || rep.Network.TLS.Error == nil {
			t.Errorf("network = %+v", rep.Network)
		}
	})
}

// TestHoldEndsWhileReconnecting: the hold is the app's timer; when it runs out
// while the SDK is still reconnecting, the app disconnects, so the run ends
// then, disconnected, instead of retrying until the timeout.
func TestHoldEndsWhileReconnecting(t *testing.T) {
	hangUp := func(c *srvConn) { c.ws.NetConn().Close() }
	fs := newFakeServer(t, scriptDrop, hangUp)
	cfg := fastConfig(fs.URL, mintToken(t, testSecret, time.Hour, ""))
	cfg.Hold = 200 * time.Millisecond
	cfg.Timeout = 20 * time.Second
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeDisconnected)
	wantStates(t, rep, StateConnecting, StateConnected, StateConnecting, StateDisconnecting, StateDisconnected)
	wantCause(t, rep, CauseNetwork, 0, 0)
	if rep.DurationMS >= float64(cfg.Timeout/time.Millisecond)/2 {
		t.Errorf("the run took %.0fms: it retried until the timeout instead of ending with the hold", rep.DurationMS)
	}
	if len(rep.Reconnects) == 0 {
		t.Errorf("no reconnect attempts before the hold ran out")
	}
}
