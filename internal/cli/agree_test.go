package cli

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/twilsock"
)

// Behaviour that connect and check must agree on (issue 8), one test each.

// cancelWhenHolding wraps the probe's observer so ctx is cancelled (as
// SIGINT or SIGTERM cancel Main's) once the connection is up and holding.
func cancelWhenHolding(cancel context.CancelFunc, then func(*probe.Config)) func(*probe.Config) {
	return func(c *probe.Config) {
		if then != nil {
			then(c)
		}
		obs := c.Observer
		c.Observer = func(u probe.Update) {
			if obs != nil {
				obs(u)
			}
			if u.Kind == probe.UpdateState && u.Inner == probe.InnerConnected {
				cancel()
			}
		}
	}
}

// An interrupt during the hold is the user ending it early: a clean
// disconnect and exit 0, in connect and in check alike.
func TestInterruptDuringHoldEndsItCleanly(t *testing.T) {
	url := startConnEmulator(t, emulator.Config{})
	tok := mintConn(t, connSecret, time.Now(), time.Hour)

	t.Run("connect", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		io, _, out, _ := TestIO()
		opts := &ConnectOptions{IO: io, Source: staticSource(tok), URL: url, Timeout: time.Minute, Hold: time.Minute,
			Expect: probe.OutcomeConnected, Output: "json", Version: "test", Now: time.Now,
			tune: cancelWhenHolding(cancel, compress)}
		err := runConnect(ctx, opts)
		if code := exitCodeOf(err); code != exitOK {
			t.Fatalf("exit %d (%v), want 0", code, err)
		}
		if rep := decodeReport(t, out.String()); rep.Outcome != probe.OutcomeConnected || !rep.Interrupted {
			t.Errorf("outcome %s, interrupted %v; want connected, interrupted", rep.Outcome, rep.Interrupted)
		}
	})
	t.Run("check", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts, out, _ := ckOptions(staticSource(tok), url)
		opts.Hold, opts.Timeout, opts.Output = time.Minute, 2*time.Minute, "json"
		opts.tune = cancelWhenHolding(cancel, opts.tune)
		code, msg := ckRunOpts(t, ctx, opts)
		if code != exitOK {
			t.Fatalf("exit %d (%s), want 0; report %s", code, msg, out)
		}
		r := ckDecode(t, out.Bytes())
		if got, want := r.statuses(), ckStatuses("pass", "pass", "pass", "skip", "pass", "pass"); got != want {
			t.Errorf("statuses %s, want %s", got, want)
		}
		if h := r.check(t, checkHold); !strings.Contains(h.Message, "ended early by an interrupt") {
			t.Errorf("hold message %q does not say the interrupt ended it", h.Message)
		}
	})
}

// --hold and --timeout: one rule. Left out, the timeout is the hold plus
// 30s; given and not longer than the hold, a usage error, in both commands.
func TestHoldAndTimeoutOneRule(t *testing.T) {
	for _, name := range []string{"connect", "check"} {
		for _, tc := range []struct {
			args    []string
			timeout time.Duration
			err     string
		}{
			{args: []string{"--hold", "10m"}, timeout: 10*time.Minute + 30*time.Second},
			{args: []string{"--hold", "10m", "--timeout", "11m"}, timeout: 11 * time.Minute},
			{args: []string{"--hold", "10m", "--timeout", "30s"}, err: "--hold 10m0s needs a longer --timeout (now 30s)"},
			{args: []string{"--hold", "1m", "--timeout", "1m"}, err: "needs a longer --timeout"},
		} {
			t.Run(name+" "+strings.Join(tc.args, " "), func(t *testing.T) {
				var got time.Duration
				code, stderr := runFlagsOnly(t, name, append(tc.args, "--token-env", "T"), func(d time.Duration) { got = d })
				if tc.err != "" {
					if code != exitUsage || !strings.Contains(stderr, tc.err) {
						t.Errorf("exit %d, stderr %q; want 2 saying %q", code, stderr, tc.err)
					}
					return
				}
				if code != exitOK || got != tc.timeout {
					t.Errorf("exit %d, timeout %v (stderr %q); want 0 and %v", code, got, stderr, tc.timeout)
				}
			})
		}
	}
}

// runFlagsOnly runs connect or check through the root, as a user would,
// stopping at the options; timeout receives the run's timeout.
func runFlagsOnly(t *testing.T, name string, args []string, timeout func(time.Duration)) (int, string) {
	t.Helper()
	io, _, _, errOut := TestIO()
	io.SetStdinTTY(true)
	f := NewFactory(io, func(string) string { return "a.b.c" })
	root := NewCmdRoot(f)
	for _, c := range root.Commands() {
		if c.Name() == name {
			root.RemoveCommand(c)
		}
	}
	switch name {
	case "connect":
		root.AddCommand(NewCmdConnect(f, func(_ context.Context, o *ConnectOptions) error { timeout(o.Timeout); return nil }))
	case "check":
		root.AddCommand(NewCmdCheck(f, func(_ context.Context, o *CheckOptions) error { timeout(o.Timeout); return nil }))
	}
	root.SetArgs(append([]string{name}, args...))
	err := root.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return exitCodeOf(err), errOut.String()
}

// `piped | convctl connect` reads the token from stdin when no other source
// is given, as token inspect does.
func TestConnectReadsPipedToken(t *testing.T) {
	url := startConnEmulator(t, emulator.Config{})
	io, in, out, errOut := TestIO()
	in.WriteString(mintConn(t, connSecret, time.Now(), time.Hour) + "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := Run(ctx, []string{"connect", "--url", url, "--ping", "0", "-o", "json"}, io, func(string) string { return "" })
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if rep := decodeReport(t, out.String()); rep.Outcome != probe.OutcomeConnected {
		t.Errorf("outcome %s, want connected", rep.Outcome)
	}
}

// A token source flag given empty is named as such, not "give a token".
func TestEmptyTokenSourceFlag(t *testing.T) {
	for _, args := range [][]string{
		{"check", "--local", "--token-url", ""},
		{"connect", "--token-url", ""},
		{"token", "inspect", "--token-file", ""},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			io, _, _, errOut := TestIO()
			io.SetStdinTTY(true)
			code := Run(context.Background(), args, io, func(string) string { return "" })
			if code != exitUsage || !strings.Contains(errOut.String(), "is empty: give it a value, or leave it out") || strings.Contains(errOut.String(), "give a token") {
				t.Errorf("exit %d, stderr %q; want 2 naming the empty flag", code, errOut)
			}
		})
	}
}

// One region rule: a region is two letters and a digit, for token mint
// --region as for connect and check --region.
func TestOneRegionRule(t *testing.T) {
	mint := []string{"token", "mint", "--account-sid", connAccount, "--api-key", connKey, "--secret-env", "S",
		"--identity", "alice", "--chat-service-sid", connService}
	for _, args := range [][]string{
		append(append([]string{}, mint...), "--region", "mars"),
		{"connect", "--region", "mars", "a.b.c"},
		{"check", "--region", "mars", "a.b.c"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			io, _, out, errOut := TestIO()
			code := Run(context.Background(), args, io, func(string) string { return connSecret })
			if code != exitUsage || !strings.Contains(errOut.String(), `invalid argument "mars" for "--region" flag: not a Twilio region`) || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and the one region wording", code, out, errOut)
			}
		})
	}
	io, _, out, errOut := TestIO()
	if code := Run(context.Background(), append(append([]string{}, mint...), "--region", "ie1"), io, func(string) string { return connSecret }); code != exitOK || out.Len() == 0 {
		t.Errorf("mint --region ie1: exit %d, stderr %q", code, errOut)
	}
}

// check -o json writes hints as they are: "Account > API keys", not
// "Account \u003e API keys". One JSON writer for every report.
func TestCheckJSONNotHTMLEscaped(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	now := time.Now().Unix()
	// iss is not an API Key SID: the bad_issuer hint names "Account > API keys".
	tok := enc(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`) + "." +
		enc(`{"jti":"x-1","iss":"XX0123456789abcdef0123456789abcdef","sub":"`+connAccount+`","iat":`+itoa(now)+`,"exp":`+itoa(now+3600)+
			`,"grants":{"identity":"alice","chat":{"service_sid":"`+connService+`"}}}`) + "." + enc("sig")
	io, _, out, _ := TestIO()
	code := Run(context.Background(), []string{"check", "--local", "-o", "json", tok}, io, func(string) string { return "" })
	if code != exitFailed {
		t.Fatalf("exit %d, want 1; stdout %s", code, out)
	}
	if s := out.String(); strings.Contains(s, `\u003e`) || !strings.Contains(s, "Account > API keys") {
		t.Errorf("JSON is HTML-escaped or lacks the hint:\n%s", s)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Peer text never reaches a terminal raw: a server that puts escape
// sequences (retitle the window, clear the screen) in its status text and
// error description has them shown escaped, in connect's and check's reports.
func TestPeerTextEscaped(t *testing.T) {
	const hostile = "\x1b]0;pwned\x07\x1b[2J"
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		f, err := twilsock.Decode(b)
		if err != nil {
			return
		}
		reply, _ := twilsock.Encode(twilsock.NewReply(f.Header.ID, twilsock.Status{Code: 401, Status: hostile,
			ErrorCode: twilsock.ErrInvalidSignature, Description: hostile}), nil)
		_ = c.WriteMessage(websocket.BinaryMessage, reply)
		_, _, _ = c.ReadMessage() // until the client closes
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS
	tok := mintConn(t, connSecret, time.Now(), time.Hour)

	for _, args := range [][]string{
		{"connect", "--url", url, "--no-reconnect", "--ping", "0", "--timeout", "5s", tok},
		{"check", "--url", url, "--timeout", "5s", tok},
	} {
		t.Run(args[0], func(t *testing.T) {
			io, _, out, errOut := TestIO()
			io.SetTTY(true) // a person's terminal
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := Run(ctx, append(args, "--no-color"), io, func(string) string { return "" })
			if code != exitFailed {
				t.Errorf("exit %d, want 1 (denied)", code)
			}
			for name, s := range map[string]string{"stdout": out.String(), "stderr": errOut.String()} {
				s = strings.ReplaceAll(s, "\r\x1b[K", "") // the status line's own rewrite
				if strings.ContainsAny(s, "\x1b\x07") {
					t.Errorf("%s carries the server's raw escape sequences:\n%q", name, s)
				}
			}
			if !strings.Contains(out.String(), `\x1b]0;pwned\a`) {
				t.Errorf("stdout does not show the server's text escaped:\n%s", out)
			}
		})
	}
}

// The probe reports a region mismatch as a fact; the render layer words it
// as the flags that fix it.
func TestCauseFlagsWordsRegionMismatch(t *testing.T) {
	c := &probe.Cause{Kind: probe.CauseTokenRejected, Message: "m", Hint: "h",
		RegionMismatch: &probe.RegionMismatch{Token: "ie1", URL: "us1"}}
	var b strings.Builder
	writeCause(&b, newColorScheme(false), "", "Cause", c)
	if want := "  try: --region ie1 (the token's region), or mint the token with 'convctl token mint --region us1'\n"; !strings.HasSuffix(b.String(), want) {
		t.Errorf("cause block:\n%s\nwant it to end with %q", b.String(), want)
	}
	if !strings.Contains(causeText(c), "\ntry: --region ie1") {
		t.Errorf("JUnit body %q lacks the flag advice", causeText(c))
	}
}

// The Phases block names the attempt it shows when there were several.
func TestPhasesNameTheirAttempt(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  probe.Report
		want string
	}{
		{"one attempt", probe.Report{Attempts: 1, InnerStates: []probe.InnerChange{{State: probe.InnerConnected, AtMS: 2}}}, "Phases\n"},
		{"connected on the third", probe.Report{Attempts: 4, Reconnects: make([]probe.Reconnect, 3), InnerStates: []probe.InnerChange{
			{State: probe.InnerRetrying, AtMS: 1}, {State: probe.InnerRetrying, AtMS: 2}, {State: probe.InnerConnected, AtMS: 3},
			{State: probe.InnerRetrying, AtMS: 4}, {State: probe.InnerConnected, AtMS: 5}}},
			"Phases (attempt 3 of 4, the first to connect)\n"},
		{"never connected", probe.Report{Attempts: 3, Reconnects: make([]probe.Reconnect, 2)}, "Phases (attempt 3 of 3, the last)\n"},
	} {
		var b strings.Builder
		writePhases(&b, newColorScheme(false), &tc.rep)
		if !strings.HasPrefix(b.String(), tc.want) {
			t.Errorf("%s: %q, want it to start %q", tc.name, b.String(), tc.want)
		}
	}
}

// Flag values complete in the shell, through the one enum helper.
func TestFlagValueCompletion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"connect", "-o", ""}, []string{"text", "json"}},
		{[]string{"connect", "--expect", ""}, []string{"connected", "denied"}},
		{[]string{"check", "--product", ""}, []string{"conversations", "sync", "voice", "video", "any"}},
		{[]string{"check", "--region", ""}, []string{"us1", "ie1", "au1"}},
		{[]string{"serve", "--log-format", ""}, []string{"text", "json"}},
		{[]string{"token", "mint", "--alg", ""}, []string{"HS256", "HS384", "HS512"}},
		{[]string{"token", "inspect", "--color", ""}, []string{"auto", "always", "never"}},
	} {
		io, _, out, errOut := TestIO()
		if code := Run(context.Background(), append([]string{"__complete"}, tc.args...), io, func(string) string { return "" }); code != 0 {
			t.Fatalf("%v: exit %d, %s", tc.args, code, errOut)
		}
		lines := strings.Split(out.String(), "\n")
		for _, w := range tc.want {
			if !slices.Contains(lines, w) {
				t.Errorf("%v: completions %q lack %q", tc.args, lines, w)
			}
		}
	}
}
