package probe

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// startEmulator serves a pkg/emulator Server on 127.0.0.1 and returns its
// ws:// URL; the test's cleanup shuts it down.
func startEmulator(t testing.TB, cfg emulator.Config) (*emulator.Server, string) {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	if cfg.Logger == nil {
		// The server's side of a failure, shown only then (after Shutdown,
		// the cleanup below, so nothing writes while it is read).
		logs := &testpeer.Buffer{}
		cfg.Logger = debuglog.New(logs, debuglog.Options{Level: slog.LevelDebug})
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("emulator log:\n%s", logs.String())
			}
		})
	}
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := em.Shutdown(ctx); err != nil {
			t.Errorf("emulator shutdown: %v", err)
		}
		srv.Close()
	})
	return em, "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS
}

// nearExpiry returns a clock for the emulator under which a token expiring
// at exp has only d left, so a test sees the expiry without waiting an hour.
// The d counts from the clock's first reading (the emulator's first look, as
// the probe's connection opens), not from this call: on a loaded machine
// starting the emulator and dialling must not eat into it.
func nearExpiry(exp time.Time, d time.Duration) func() time.Time {
	var (
		once   sync.Once
		offset time.Duration
	)
	return func() time.Time {
		once.Do(func() { offset = time.Until(exp) - d })
		return time.Now().Add(offset)
	}
}

func freshTokens(t testing.TB, ttl time.Duration) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return mintToken(t, testSecret, ttl, ""), nil }
}

func TestEmulatorScenarios(t *testing.T) {
	hourToken := mintToken(t, testSecret, time.Hour, "")
	hourExp := *inspect.Inspect(hourToken).ExpiresAt

	type scenario struct {
		name    string
		em      emulator.Config
		expLeft time.Duration            // when set, the emulator's clock puts hourToken this close to expiry
		until   func() func(Update) bool // when set, hold until it is seen, then stop
		cfg     func(*Config)
		outcome Outcome
		states  []State
		events  []string
		cause   CauseKind // "" for none
		status  int
		twilio  int
		phase   Phase
		check   func(*testing.T, *Report, *emulator.Server)
	}
	full := []State{StateConnecting, StateConnected, StateDisconnecting, StateDisconnected}
	twice := []State{StateConnecting, StateConnected, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected}
	for _, sc := range []scenario{
		{name: "clean run", outcome: OutcomeConnected, states: full, events: nil,
			check: func(t *testing.T, rep *Report, em *emulator.Server) {
				if st := em.Stats(); st.Inits != 1 || st.ClientCloses != 1 || st.Telemetry != 1 {
					t.Errorf("emulator stats = %+v, want one init, one telemetry, one client close", st)
				}
			}},
		{name: "bad signature", cfg: func(c *Config) {
			c.Token = staticToken(mintToken(t, []byte("not the secret of this API key!!"), time.Hour, ""))
		},
			outcome: OutcomeDenied, states: []State{StateConnecting, StateDenied}, events: []string{EventConnectionError},
			cause: CauseTokenRejected, status: 401, twilio: twilsock.ErrInvalidSignature, phase: PhaseInit,
			check: func(t *testing.T, rep *Report, em *emulator.Server) {
				if !strings.Contains(rep.Cause.Hint, "does not verify with this key") {
					t.Errorf("hint = %q", rep.Cause.Hint)
				}
				if st := em.Stats(); st.Upgrades != 1 || st.Denied != 1 {
					t.Errorf("stats = %+v: denied must not retry", st)
				}
			}},
		{name: "expired", cfg: func(c *Config) { c.Token = staticToken(mintToken(t, testSecret, -2*time.Minute, "")) },
			outcome: OutcomeDenied, states: []State{StateConnecting, StateDenied}, events: []string{EventTokenExpired, EventConnectionError},
			cause: CauseTokenExpired, status: 401, twilio: twilsock.ErrTokenExpired, phase: PhaseInit,
			check: func(t *testing.T, rep *Report, _ *emulator.Server) {
				if !strings.Contains(rep.Cause.Hint, "expired 2m") {
					t.Errorf("hint = %q", rep.Cause.Hint)
				}
			}},
		{name: "deny", em: emulator.Config{Deny: twilsock.ErrInvalidIssuer},
			outcome: OutcomeDenied, states: []State{StateConnecting, StateDenied}, events: []string{EventConnectionError},
			cause: CauseTokenRejected, status: 401, twilio: twilsock.ErrInvalidIssuer, phase: PhaseInit},
		{name: "update token", cfg: func(c *Config) { c.Token = freshTokens(t, time.Hour); c.UpdateToken = true },
			outcome: OutcomeConnected, states: full, events: []string{EventTokenUpdated},
			check: func(t *testing.T, rep *Report, em *emulator.Server) {
				if st := em.Stats(); st.Updates != 1 {
					t.Errorf("stats = %+v, want one update", st)
				}
			}},
		{name: "hold across expiry", expLeft: 700 * time.Millisecond,
			cfg:     func(c *Config) { c.Token = staticToken(hourToken); c.Hold = 10 * time.Second },
			outcome: OutcomeDisconnected, states: full, events: []string{EventTokenAboutToExpire, EventTokenExpired},
			cause: CauseTokenExpired, status: 410, twilio: twilsock.ErrTokenExpired,
			check: func(t *testing.T, rep *Report, _ *emulator.Server) {
				// The emulator's clock runs ahead: its 410 comes before exp by ours.
				if h := rep.Cause.Hint; !strings.Contains(h, "an app must call updateToken") || !strings.Contains(h, "its clock runs ahead") {
					t.Errorf("hint = %q", rep.Cause.Hint)
				}
			}},
		{name: "hold across expiry with renew", expLeft: 700 * time.Millisecond, until: func() func(Update) bool { return event(EventTokenUpdated) },
			cfg: func(c *Config) {
				first := true
				c.Token = func(context.Context) (string, error) {
					if first {
						first = false
						return hourToken, nil
					}
					return mintToken(t, testSecret, 3*time.Hour, ""), nil
				}
				c.Renew = true
				c.Hold = time.Hour
			},
			outcome: OutcomeConnected, states: full, events: []string{EventTokenAboutToExpire, EventTokenUpdated},
			check: func(t *testing.T, rep *Report, em *emulator.Server) {
				if st := em.Stats(); st.Expired != 0 || st.Updates != 1 {
					t.Errorf("stats = %+v: the renewed token must not expire", st)
				}
			}},
		{name: "drop and reconnect", em: emulator.Config{DropAfter: 20 * time.Millisecond}, until: reconnected,
			cfg:     func(c *Config) { c.Hold = time.Hour },
			outcome: OutcomeConnected, states: twice, events: nil,
			check: func(t *testing.T, rep *Report, em *emulator.Server) {
				if len(rep.Reconnects) != 1 {
					t.Errorf("reconnects = %+v", rep.Reconnects)
				}
				if st := em.Stats(); st.Drops != 1 || st.Inits != 2 {
					t.Errorf("stats = %+v", st)
				}
			}},
		{name: "drop, no reconnect", em: emulator.Config{DropAfter: 20 * time.Millisecond},
			cfg:     func(c *Config) { c.Hold = 5 * time.Second; c.NoReconnect = true },
			outcome: OutcomeDisconnected, states: []State{StateConnecting, StateConnected, StateDisconnecting, StateDisconnected},
			events: nil, cause: CauseNetwork},
		{name: "offload", em: emulator.Config{OffloadAfter: 20 * time.Millisecond, OffloadBackoff: 30 * time.Millisecond}, until: reconnected,
			cfg:     func(c *Config) { c.Hold = time.Hour },
			outcome: OutcomeConnected,
			states:  []State{StateConnecting, StateConnected, StateDisconnecting, StateConnecting, StateConnected, StateDisconnecting, StateDisconnected},
			check: func(t *testing.T, rep *Report, em *emulator.Server) {
				if len(rep.Reconnects) != 1 || rep.Reconnects[0].DelayMS != 30 {
					t.Errorf("reconnects = %+v, want one after the offload's 30ms", rep.Reconnects)
				}
				if st := em.Stats(); st.Offloads != 1 || st.Acks < 1 {
					t.Errorf("stats = %+v: the close must be acked", st)
				}
			}},
		{name: "refused upgrades", em: emulator.Config{RefuseUpgrades: 2},
			outcome: OutcomeConnected, states: full, events: []string{EventConnectionError, EventConnectionError},
			check: func(t *testing.T, rep *Report, _ *emulator.Server) {
				if len(rep.Reconnects) != 2 || !strings.Contains(rep.Reconnects[0].Error, "503") {
					t.Errorf("reconnects = %+v", rep.Reconnects)
				}
			}},
		{name: "refused upgrades, no reconnect", em: emulator.Config{RefuseUpgrades: 2},
			cfg:     func(c *Config) { c.NoReconnect = true },
			outcome: OutcomeUnreachable, states: []State{StateConnecting, StateDisconnecting, StateDisconnected}, events: []string{EventConnectionError},
			cause: CauseNetwork, status: 503, phase: PhaseUpgrade,
			check: func(t *testing.T, rep *Report, _ *emulator.Server) {
				if rep.Upgrade == nil || rep.Upgrade.Headers["Retry-After"] != "1" {
					t.Errorf("upgrade failure = %+v", rep.Upgrade)
				}
			}},
		{name: "init never answered", em: emulator.Config{InitDelay: time.Hour},
			cfg:     func(c *Config) { c.Timeout = 250 * time.Millisecond },
			outcome: OutcomeTimeout, states: []State{StateConnecting, StateDisconnecting, StateDisconnected},
			cause: CauseTimeout, phase: PhaseInit},
	} {
		t.Run(sc.name, func(t *testing.T) {
			if sc.expLeft > 0 {
				sc.em.Clock = nearExpiry(hourExp, sc.expLeft)
			}
			em, url := startEmulator(t, sc.em)
			cfg := fastConfig(url, hourToken)
			if sc.cfg != nil {
				sc.cfg(&cfg)
			}
			ctx := context.Background()
			if sc.until != nil {
				ctx = stopWhen(t, &cfg, sc.until())
			}
			rep := runProbeCtx(t, ctx, cfg)
			wantOutcome(t, rep, sc.outcome)
			if sc.until != nil && !rep.Interrupted {
				t.Errorf("the run ended before what the test waits for")
			}
			wantStates(t, rep, sc.states...)
			if got := eventNames(rep); !reflect.DeepEqual(got, sc.events) {
				t.Errorf("events = %v, want %v", got, sc.events)
			}
			if sc.cause == "" {
				if rep.Cause != nil {
					t.Errorf("cause = %+v, want none", rep.Cause)
				}
			} else {
				wantCause(t, rep, sc.cause, sc.status, sc.twilio)
				if rep.Cause.Phase != sc.phase {
					t.Errorf("cause phase = %q, want %q", rep.Cause.Phase, sc.phase)
				}
			}
			if sc.check != nil {
				sc.check(t, rep, em)
			}
		})
	}
}
