package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/twilsock"
)

// Nothing here dials anything but servers the tests start on 127.0.0.1:
// every run through runConnect or run() is given --url of one.

const (
	connSecret  = "connect-test-secret-0123456789abcdef"
	connAccount = "AC0123456789abcdef0123456789abcdef"
	connKey     = "SK0123456789abcdef0123456789abcdef"
	connService = "IS0123456789abcdef0123456789abcdef"
)

func mintConn(t testing.TB, secret string, now time.Time, ttl time.Duration) string {
	t.Helper()
	tok, err := inspect.Mint(inspect.MintOptions{
		AccountSID: connAccount, APIKeySID: connKey, Secret: []byte(secret), Identity: "alice",
		ChatServiceSID: connService, TTL: ttl, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startConnEmulator serves pkg/emulator, with connSecret, for one test.
func startConnEmulator(t testing.TB, cfg emulator.Config) string {
	t.Helper()
	cfg.Secret = []byte(connSecret)
	return serveEmulator(t, cfg)
}

// deadURL is a ws:// URL on 127.0.0.1 where nothing listens.
func deadURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ws://" + addr + "/v3/wsconnect"
}

// compress makes the SDK's seconds milliseconds, for runs that reconnect.
func compress(c *probe.Config) {
	c.Backoff = probe.Backoff{Min: 5 * time.Millisecond, Max: 40 * time.Millisecond}
	c.DisconnectWait = time.Millisecond
	c.Rand = func() float64 { return 0.5 } // no jitter
}

// noLeaks checks, after every cleanup (servers included), that the test left
// no goroutine behind.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func TestConnectFlags(t *testing.T) {
	env := map[string]string{"TOKEN": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", "SECRET": "s3cret"}
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o *ConnectOptions)
		exit  int // for errors
		msg   string
	}{
		{name: "defaults", args: []string{"TOKEN"}, check: func(t *testing.T, o *ConnectOptions) {
			if o.URL != "wss://tsock.us1.twilio.com/v3/wsconnect" || o.Timeout != 30*time.Second || o.Hold != 0 ||
				o.Ping != 5*time.Second || o.Expect != probe.OutcomeConnected || o.Output != "text" ||
				o.Debug || o.UpdateToken || o.Renew || o.NoReconnect || o.Secret != nil || o.Source == nil {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{name: "region", args: []string{"--region", "ie1", "TOKEN"}, check: func(t *testing.T, o *ConnectOptions) {
			if o.URL != "wss://tsock.ie1.twilio.com/v3/wsconnect" {
				t.Errorf("URL = %s", o.URL)
			}
		}},
		{name: "url", args: []string{"--url", "ws://127.0.0.1:9/v3/wsconnect", "--token-env", "TOKEN"}, check: func(t *testing.T, o *ConnectOptions) {
			if o.URL != "ws://127.0.0.1:9/v3/wsconnect" || o.Source.Name() == "" {
				t.Errorf("URL = %s, source %v", o.URL, o.Source)
			}
		}},
		{name: "everything", args: []string{"--debug", "--timeout", "1m", "--hold", "10s", "--ping", "0", "--update-token", "--renew",
			"--no-reconnect", "--expect", "denied", "-o", "json", "--secret-env", "SECRET", "TOKEN"},
			check: func(t *testing.T, o *ConnectOptions) {
				if !o.Debug || o.Timeout != time.Minute || o.Hold != 10*time.Second || o.Ping != 0 || !o.UpdateToken || !o.Renew ||
					!o.NoReconnect || o.Expect != probe.OutcomeDenied || o.Output != "json" || string(o.Secret) != "s3cret" {
					t.Errorf("options = %+v", o)
				}
			}},
		{name: "url and region", args: []string{"--url", "ws://x/", "--region", "ie1", "TOKEN"}, exit: exitUsage, msg: "--url and --region cannot be used together"},
		{name: "http url", args: []string{"--url", "https://tsock.us1.twilio.com/v3/wsconnect", "TOKEN"}, exit: exitUsage, msg: "ws:// or wss://"},
		{name: "bad region", args: []string{"--region", "US 1", "TOKEN"}, exit: exitUsage, msg: "not a Twilio region"},
		{name: "bad expect", args: []string{"--expect", "disconnected", "TOKEN"}, exit: exitUsage, msg: "connected or denied"},
		{name: "bad output", args: []string{"-o", "yaml", "TOKEN"}, exit: exitUsage, msg: "text or json"},
		{name: "zero timeout", args: []string{"--timeout", "0s", "TOKEN"}, exit: exitUsage, msg: "--timeout"},
		{name: "negative hold", args: []string{"--hold", "-1s", "TOKEN"}, exit: exitUsage, msg: "negative"},
		{name: "no token", args: nil, exit: exitUsage, msg: "give a token"},
		{name: "two tokens", args: []string{"--token-env", "TOKEN", "TOKEN"}, exit: exitUsage, msg: "pick one"},
		{name: "unset secret", args: []string{"--secret-env", "NOPE", "TOKEN"}, exit: exitUsage, msg: "NOPE"},
		{name: "too many args", args: []string{"A", "B"}, exit: exitUsage, msg: "at most 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, _, _, _ := TestIO()
			io.SetStdinTTY(true) // nothing piped in
			f := NewFactory(io, func(k string) string { return env[k] })
			var got *ConnectOptions
			cmd := NewCmdConnect(f, func(_ context.Context, o *ConnectOptions) error { got = o; return nil })
			err := execFlags(cmd, tc.args)
			if tc.check != nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				tc.check(t, got)
				return
			}
			if err == nil {
				t.Fatalf("no error; options %+v", got)
			}
			if code := exitCodeOf(err); code != tc.exit || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v (exit %d), want exit %d mentioning %q", err, code, tc.exit, tc.msg)
			}
			if got != nil {
				t.Errorf("ran despite the error")
			}
		})
	}
}

// connectCLI runs the whole program as a user would, with getenv answering TOKEN.
func connectCLI(t *testing.T, token string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := TestIO()
	getenv := func(k string) string {
		switch k {
		case "TOKEN":
			return token
		case "SECRET":
			return connSecret
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code = Run(ctx, append([]string{"connect"}, args...), io, getenv)
	return code, out.String(), errOut.String()
}

func decodeReport(t *testing.T, stdout string) *probe.Report {
	t.Helper()
	var rep probe.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
	}
	return &rep
}

func TestConnectExitCodes(t *testing.T) {
	noLeaks(t)
	now := time.Now()
	good := mintConn(t, connSecret, now, time.Hour)
	badSig := mintConn(t, "a different secret entirely, 123456", now, time.Hour)
	expired := mintConn(t, connSecret, now.Add(-2*time.Hour), time.Hour)

	url := startConnEmulator(t, emulator.Config{})
	silent := startConnEmulator(t, emulator.Config{InitDelay: time.Hour})
	for _, tc := range []struct {
		name    string
		token   string
		args    []string
		exit    int
		outcome probe.Outcome
		cause   probe.CauseKind
	}{
		{"clean", good, []string{"--url", url}, exitOK, probe.OutcomeConnected, ""},
		{"update token", good, []string{"--url", url, "--update-token"}, exitOK, probe.OutcomeConnected, ""},
		{"bad signature", badSig, []string{"--url", url, "--secret-env", "SECRET"}, exitFailed, probe.OutcomeDenied, probe.CauseTokenRejected},
		{"bad signature, denied expected", badSig, []string{"--url", url, "--expect", "denied"}, exitOK, probe.OutcomeDenied, probe.CauseTokenRejected},
		{"expired", expired, []string{"--url", url}, exitFailed, probe.OutcomeDenied, probe.CauseTokenExpired},
		{"connected, denied expected", good, []string{"--url", url, "--expect", "denied"}, exitFailed, probe.OutcomeConnected, ""},
		{"init never answered", good, []string{"--url", silent, "--timeout", "300ms"}, exitCannotFinish, probe.OutcomeTimeout, probe.CauseTimeout},
		{"init never answered, denied expected", good, []string{"--url", silent, "--timeout", "300ms", "--expect", "denied"}, exitCannotFinish, probe.OutcomeTimeout, probe.CauseTimeout},
		{"nothing listening", good, []string{"--url", deadURL(t), "--no-reconnect"}, exitCannotFinish, probe.OutcomeUnreachable, probe.CauseNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := connectCLI(t, tc.token, append([]string{"--token-env", "TOKEN", "-o", "json"}, tc.args...)...)
			if code != tc.exit {
				t.Errorf("exit = %d, want %d\nstderr: %s", code, tc.exit, stderr)
			}
			rep := decodeReport(t, stdout)
			if rep.Outcome != tc.outcome {
				t.Errorf("outcome = %s, want %s", rep.Outcome, tc.outcome)
			}
			switch {
			case tc.cause == "" && rep.Cause != nil:
				t.Errorf("cause = %+v, want null", rep.Cause)
			case tc.cause != "" && (rep.Cause == nil || rep.Cause.Kind != tc.cause):
				t.Errorf("cause = %+v, want kind %s", rep.Cause, tc.cause)
			}
			if stderr != "" {
				t.Errorf("stderr not empty on a pipe without --debug: %q", stderr)
			}
		})
	}

	t.Run("unreadable token", func(t *testing.T) {
		code, stdout, stderr := connectCLI(t, "", "--url", url, "--token-env", "NOT_SET")
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "NOT_SET") {
			t.Errorf("exit %d, stdout %q, stderr %q; want 2 naming the variable", code, stdout, stderr)
		}
	})
	t.Run("token too large for a Twilsock header", func(t *testing.T) {
		// Input no server could take: exit 2 before anything is dialed
		// (refused upgrades would show a dial), naming the size and limit.
		big, err := inspect.Mint(inspect.MintOptions{AccountSID: connAccount, APIKeySID: connKey, Secret: []byte(connSecret),
			Identity: strings.Repeat("a", 70000), ChatServiceSID: connService, TTL: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		refusing := startConnEmulator(t, emulator.Config{RefuseUpgrades: 1 << 20})
		code, stdout, stderr := connectCLI(t, big, "--url", refusing, "--token-env", "TOKEN", "-o", "json")
		if code != exitUsage || stdout != "" {
			t.Errorf("exit %d, stdout %q; want 2 and no report", code, stdout)
		}
		for _, want := range []string{fmt.Sprintf("the token is %d bytes, too large for a Twilsock header", len(big)), "65536 bytes (64 KiB)"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q: %s", want, stderr)
			}
		}
		if sig := big[strings.LastIndexByte(big, '.')+1:]; strings.Contains(stderr, sig) {
			t.Errorf("the token's signature leaked into stderr")
		}
	})
	t.Run("bad flag", func(t *testing.T) {
		code, _, stderr := connectCLI(t, good, "--url", url, "--no-such-flag")
		if code != exitUsage || !strings.Contains(stderr, "no-such-flag") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestConnectDebugRedacts(t *testing.T) {
	noLeaks(t)
	url := startConnEmulator(t, emulator.Config{})
	tok := mintConn(t, connSecret, time.Now(), time.Hour)
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	code, stdout, stderr := connectCLI(t, tok, "--url", url, "--token-env", "TOKEN", "--debug", "--update-token")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"send", "recv", "init", "update", "initialising", "close", "[frame]", "[probe]"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("debug log lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, sig) || strings.Contains(stdout, sig) {
		t.Errorf("the token's signature leaked into the output")
	}
	if strings.Contains(stdout, "send") || !strings.HasPrefix(stdout, "URL") {
		t.Errorf("stdout must hold the report only:\n%s", stdout)
	}
}

func TestConnectOutput(t *testing.T) {
	noLeaks(t)
	tok := mintConn(t, connSecret, time.Now(), time.Hour)
	for _, tty := range []bool{false, true} {
		name := map[bool]string{false: "pipe", true: "tty"}[tty]
		t.Run(name+"/text drop and reconnect", func(t *testing.T) {
			url := startConnEmulator(t, emulator.Config{DropAfter: 20 * time.Millisecond})
			io, _, out, errOut := TestIO()
			io.SetTTY(tty)
			ctx, tune := untilReconnected(1) // the report shows "Pings"
			opts := &ConnectOptions{IO: io, Source: staticSource(tok), URL: url, Timeout: 5 * time.Second, Hold: 4 * time.Second,
				Ping: 10 * time.Millisecond, Expect: probe.OutcomeConnected, Output: "text", Now: time.Now, tick: 10 * time.Millisecond, tune: tune}
			err := runConnect(ctx, opts)
			if code := exitCodeOf(err); code != exitOK {
				t.Fatalf("exit %d: %v", code, err)
			}
			stdout, stderr := out.String(), errOut.String()
			for _, want := range []string{"Outcome", "connected", "Timeline", "Reconnects", "Phases", "upgrade", "identity alice", "Pings"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("report lacks %q:\n%s", want, stdout)
				}
			}
			hasANSI := strings.Contains(stdout, "\x1b[")
			if hasANSI != tty {
				t.Errorf("ANSI color in the report = %v on tty=%v:\n%q", hasANSI, tty, stdout)
			}
			if !tty {
				if stderr != "" {
					t.Errorf("stderr on a pipe: %q", stderr)
				}
				return
			}
			for _, want := range []string{"connecting", "connected", "retry 1", "token for alice"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("live progress lacks %q:\n%q", want, stderr)
				}
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		url := startConnEmulator(t, emulator.Config{OffloadAfter: 20 * time.Millisecond, OffloadBackoff: 30 * time.Millisecond})
		io, _, out, _ := TestIO()
		io.SetTTY(true)
		ctx, tune := untilReconnected(0)
		opts := &ConnectOptions{IO: io, Source: staticSource(tok), URL: url, Timeout: 5 * time.Second, Hold: 4 * time.Second,
			Expect: probe.OutcomeConnected, Output: "json", Now: time.Now, tune: tune}
		if err := runConnect(ctx, opts); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "\x1b[") {
			t.Errorf("JSON carries ANSI on a tty")
		}
		rep := decodeReport(t, out.String())
		var got []probe.State
		for _, s := range rep.States {
			got = append(got, s.State)
		}
		want := []probe.State{"connecting", "connected", "disconnecting", "connecting", "connected", "disconnecting", "disconnected"}
		if strings.Join(toStrings(got), ",") != strings.Join(toStrings(want), ",") {
			t.Errorf("states = %v, want %v", got, want)
		}
		if len(rep.Reconnects) != 1 || rep.Reconnects[0].DelayMS != 30 {
			t.Errorf("reconnects = %+v", rep.Reconnects)
		}
	})
}

// untilReconnected compresses the SDK's timings and returns a context that
// ends once the run has connected a second time and had at least pongs
// pongs: the test holds exactly as long as it needs, whatever the machine's
// load (a ping's round trip may fall in either session, or in neither
// before the second connect).
func untilReconnected(pongs int) (context.Context, func(*probe.Config)) {
	ctx, cancel := context.WithCancel(context.Background())
	return ctx, func(c *probe.Config) {
		compress(c)
		prev, connects, pinged := c.Observer, 0, 0
		c.Observer = func(u probe.Update) {
			prev(u)
			switch {
			case u.Kind == probe.UpdateState && u.PublicChanged && u.State == probe.StateConnected:
				connects++
			case u.Kind == probe.UpdatePing:
				pinged++
			default:
				return
			}
			if connects >= 2 && pinged >= pongs {
				cancel()
			}
		}
	}
}

func TestConnectCountdown(t *testing.T) {
	noLeaks(t)
	url := startConnEmulator(t, emulator.Config{})
	tok := mintConn(t, connSecret, time.Now(), time.Hour)
	io, _, _, errOut := TestIO()
	io.SetTTY(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Stop once the countdown has been drawn twice.
	w := &watchWriter{w: errOut, want: "holding,", n: 2, seen: cancel}
	io.ErrOut = w
	opts := &ConnectOptions{IO: io, Source: staticSource(tok), URL: url, Timeout: 10 * time.Second, Hold: 9 * time.Second,
		Expect: probe.OutcomeConnected, Output: "text", Now: time.Now, tick: 5 * time.Millisecond}
	if err := runConnect(ctx, opts); err != nil {
		t.Fatal(err)
	}
	got := errOut.String()
	for _, want := range []string{"\r\x1b[K", "holding, ", "left · token expires in ", "connected"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\r\x1b[K") && !strings.HasSuffix(got, "\n") {
		t.Errorf("the countdown line was left on screen: %q", got[max(0, len(got)-80):])
	}
}

// watchWriter calls seen once want has been written n times.
type watchWriter struct {
	w    *bytes.Buffer
	want string
	n    int
	seen func()
}

func (w *watchWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.want)) {
		if w.n--; w.n == 0 {
			w.seen()
		}
	}
	return w.w.Write(p)
}

func TestConnectUpdateTokenFails(t *testing.T) {
	noLeaks(t)
	url := startConnEmulator(t, emulator.Config{})
	tok := mintConn(t, connSecret, time.Now(), time.Hour)
	io, _, out, errOut := TestIO()
	err := runConnect(context.Background(), &ConnectOptions{IO: io, Source: &failingSource{tok: tok}, URL: url, Timeout: 5 * time.Second,
		UpdateToken: true, Expect: probe.OutcomeConnected, Output: "text", Now: time.Now})
	if code := exitCodeOf(err); code != exitFailed {
		t.Errorf("exit %d, want 1: the update asked for never happened", code)
	}
	if !strings.Contains(out.String(), "no update was sent") || !strings.Contains(errOut.String(), "--update-token") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// failingSource gives a token once, then fails as a broken token endpoint would.
type failingSource struct {
	tok   string
	calls int
}

func (s *failingSource) Name() string { return "--token-url https://example.invalid" }
func (s *failingSource) Fetch(context.Context) (string, error) {
	if s.calls++; s.calls > 1 {
		return "", errors.New("token endpoint answered 500")
	}
	return s.tok, nil
}

func toStrings(s []probe.State) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

type staticSource string

func (s staticSource) Name() string                          { return "TOKEN" }
func (s staticSource) Fetch(context.Context) (string, error) { return string(s), nil }

func TestConnectExitCodeTable(t *testing.T) {
	proto := &probe.Cause{Kind: probe.CauseProtocol}
	for _, tc := range []struct {
		outcome probe.Outcome
		cause   *probe.Cause
		expect  probe.Outcome
		want    int
	}{
		{probe.OutcomeConnected, nil, probe.OutcomeConnected, exitOK},
		{probe.OutcomeDenied, nil, probe.OutcomeConnected, exitFailed},
		{probe.OutcomeDisconnected, nil, probe.OutcomeConnected, exitFailed},
		{probe.OutcomeDisconnected, proto, probe.OutcomeConnected, exitCannotFinish},
		{probe.OutcomeTimeout, nil, probe.OutcomeConnected, exitCannotFinish},
		{probe.OutcomeUnreachable, nil, probe.OutcomeConnected, exitCannotFinish},
		{probe.OutcomeDenied, nil, probe.OutcomeDenied, exitOK},
		{probe.OutcomeConnected, nil, probe.OutcomeDenied, exitFailed},
		{probe.OutcomeDisconnected, nil, probe.OutcomeDenied, exitFailed},
		{probe.OutcomeTimeout, nil, probe.OutcomeDenied, exitCannotFinish},
	} {
		if got := runExitCode(&probe.Report{Outcome: tc.outcome, Cause: tc.cause}, tc.expect); got != tc.want {
			t.Errorf("outcome %s (cause %v), expect %s: exit %d, want %d", tc.outcome, tc.cause, tc.expect, got, tc.want)
		}
	}
}

// TestConnectTextGolden pins the text report's layout, piped and on a
// terminal, for the outcomes a person most often reads.
func TestConnectTextGolden(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	exp := time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC)
	skew := 0.0
	reports := map[string]*probe.Report{
		"connected": {
			URL: "ws://127.0.0.1:4567/v3/wsconnect", Outcome: probe.OutcomeConnected,
			States: []probe.StateChange{{State: "connecting", AtMS: 0}, {State: "connected", AtMS: 41.2}, {State: "connecting", AtMS: 300.5},
				{State: "connected", AtMS: 1344.1}, {State: "disconnecting", AtMS: 4002.5}, {State: "disconnected", AtMS: 4003.1}},
			Events:     []probe.Event{{Name: "tokenAboutToExpire", AtMS: 500}},
			Reconnects: []probe.Reconnect{{Attempt: 1, DelayMS: 1043, Error: "the TCP connection was cut without a close frame"}},
			Timing:     probe.Timing{DNS: f(0.1), TCP: f(0.2), Upgrade: f(1.1), Init: f(0.9), Connected: f(2.4)},
			Token:      &probe.TokenInfo{Identity: "alice", ExpiresAt: &exp, Signature: "verified"},
			PingsMS:    []float64{0.2, 0.3, 0.4}, ClockSkewSeconds: &skew,
			Warnings: []string{"the connection was lost (the TCP connection was cut without a close frame) and came back after 1 reconnect(s)"},
		},
		"denied": {
			URL: "wss://tsock.us1.twilio.com/v3/wsconnect", Outcome: probe.OutcomeDenied,
			States: []probe.StateChange{{State: "connecting", AtMS: 0}, {State: "denied", AtMS: 88.7}},
			Events: []probe.Event{{Name: "connectionError", AtMS: 88.9, Terminal: boolPtr(true), HTTPStatus: i(401), TwilioError: i(twilsock.ErrInvalidSignature),
				Message: "Connection error: Invalid Access Token signature"}},
			Timing: probe.Timing{DNS: f(3.2), TCP: f(20.1), TLS: f(31.7), Upgrade: f(22.4), Init: f(11.3)},
			Token:  &probe.TokenInfo{Identity: "alice", ExpiresAt: &exp, Signature: "invalid"},
			Cause: &probe.Cause{Kind: probe.CauseTokenRejected, HTTPStatus: i(401), TwilioError: i(20107), Phase: probe.PhaseInit,
				Message: "the server rejected the token in init: 401 Unauthorized (Twilio error 20107: Invalid Access Token signature)",
				Hint:    "the server said 20107 because the signature does not verify with this key"},
		},
		"timeout": {
			URL: "ws://127.0.0.1:4567/v3/wsconnect", Outcome: probe.OutcomeTimeout,
			States: []probe.StateChange{{State: "connecting", AtMS: 0}, {State: "disconnecting", AtMS: 30000.2}, {State: "disconnected", AtMS: 30250.9}},
			Timing: probe.Timing{TCP: f(0.2), Upgrade: f(0.6)},
			Token:  &probe.TokenInfo{Signature: "unchecked"},
			Cause: &probe.Cause{Kind: probe.CauseTimeout, Phase: probe.PhaseInit,
				Message: "timed out after 30s during init (the WebSocket was open but no reply came)",
				Hint:    "the WebSocket opened but init was never answered: the server is not speaking Twilsock, or is overloaded"},
		},
	}
	checkConnectGoldens(t, reports, nil)
}

// checkConnectGoldens renders each report as connect's text, on a pipe
// (testdata/connect/NAME.txt) and on a terminal (NAME.tty.txt), compares it
// with its golden file, and hands the text to also, when given.
func checkConnectGoldens(t *testing.T, reports map[string]*probe.Report, also func(t *testing.T, text string)) {
	t.Helper()
	for name, rep := range reports {
		for _, tty := range []bool{false, true} {
			file := name + ".txt"
			if tty {
				file = name + ".tty.txt"
			}
			t.Run(file, func(t *testing.T) {
				var buf bytes.Buffer
				renderConnectText(&buf, newColorScheme(tty), rep, probe.OutcomeConnected)
				if also != nil {
					also(t, buf.String())
				}
				checkGolden(t, filepath.Join("testdata", "connect", file), buf.Bytes())
			})
		}
	}
}

func boolPtr(b bool) *bool { return &b }
