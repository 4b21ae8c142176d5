package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.uber.org/goleak"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/tokensource"
)

// Test credentials: the same values the help's offline example uses.
const (
	ckAccount = "AC0123456789abcdef0123456789abcdef"
	ckKey     = "SK0123456789abcdef0123456789abcdef"
	ckService = "IS0123456789abcdef0123456789abcdef"
	ckSecret  = "0123456789abcdef0123456789abcdef"
)

// ckMint mints a Conversations token for alice, valid for an hour from now
// and signed with ckSecret, unless mods say otherwise.
func ckMint(t testing.TB, mods ...func(*inspect.MintOptions)) string {
	t.Helper()
	o := inspect.MintOptions{AccountSID: ckAccount, APIKeySID: ckKey, Secret: []byte(ckSecret),
		Identity: "alice", ChatServiceSID: ckService, TTL: time.Hour}
	for _, m := range mods {
		m(&o)
	}
	tok, err := inspect.Mint(o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ckExpired(o *inspect.MintOptions) { o.Now = time.Now().Add(-2 * time.Hour) }

func ckSignedWith(secret string) func(*inspect.MintOptions) {
	return func(o *inspect.MintOptions) { o.Secret = []byte(secret) }
}

// ckEndpoint is an app's token endpoint on 127.0.0.1: each request gets the
// next answer (the last one repeats). An answer is a token (served as JSON,
// as apps usually do), or a special value below.
type ckEndpoint struct {
	*httptest.Server
	mu       sync.Mutex
	answers  []string
	requests atomic.Int64
	release  chan struct{} // closed at cleanup: frees a "slow" handler
	got      chan struct{} // receives once per request, if anyone listens
}

const (
	ckAnswer500  = "<500>"
	ckAnswerJunk = "<junk>"
	ckAnswerSlow = "<slow>" // never answers until the client gives up
)

func newCkEndpoint(t *testing.T, answers ...string) *ckEndpoint {
	t.Helper()
	e := &ckEndpoint{answers: answers, release: make(chan struct{}), got: make(chan struct{}, 16)}
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	t.Cleanup(func() { close(e.release) }) // runs before Close: Close waits for handlers
	return e
}

func (e *ckEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	n := int(e.requests.Add(1))
	select {
	case e.got <- struct{}{}:
	default:
	}
	e.mu.Lock()
	a := e.answers[min(n, len(e.answers))-1]
	e.mu.Unlock()
	switch a {
	case ckAnswer500:
		http.Error(w, "token service exploded", http.StatusInternalServerError)
	case ckAnswerJunk:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Please log in</body></html>")
	case ckAnswerSlow:
		select {
		case <-r.Context().Done():
		case <-e.release:
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"identity":"alice","token":%q}`, a)
	}
}

func (e *ckEndpoint) source(t *testing.T) tokensource.Source {
	t.Helper()
	src, err := tokensource.Spec{URL: e.URL + "/token", Client: e.Client()}.Source()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// ckOptions are the options the flags would give, with the SDK's slow
// timings (1 s backoff, 3 s disconnecting) compressed.
func ckOptions(src tokensource.Source, url string) (*CheckOptions, *bytes.Buffer, *bytes.Buffer) {
	io, _, out, errOut := TestIO()
	return &CheckOptions{
		IO: io, Source: src, URL: url, Product: inspect.ProductConversations,
		Timeout: 10 * time.Second, Output: "text", Version: "test", Now: time.Now,
		tune: func(c *probe.Config) {
			c.Backoff = probe.Backoff{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}
			c.DisconnectWait = -1
		},
	}, out, errOut
}

// ckRunOpts runs the options-to-output layer, bounded, and returns the exit
// code and the error's message.
func ckRunOpts(t *testing.T, ctx context.Context, opts *CheckOptions) (int, string) {
	t.Helper()
	type result struct {
		err error
	}
	done := make(chan result, 1)
	go func() { done <- result{runCheck(ctx, opts)} }()
	select {
	case r := <-done:
		msg := ""
		if r.err != nil {
			msg = r.err.Error()
		}
		return exitCodeOf(r.err), msg
	case <-time.After(30 * time.Second):
		t.Fatal("runCheck did not return within 30s")
		return 0, ""
	}
}

// ckCheck is one check of ckJSON.
type ckCheck struct {
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	DurationMS *float64 `json:"duration_ms"`
	Message    string   `json:"message"`
	Cause      *struct {
		Kind        string `json:"kind"`
		HTTPStatus  *int   `json:"http_status"`
		TwilioError *int   `json:"twilio_error"`
		Message     string `json:"message"`
		Hint        string `json:"hint"`
	} `json:"cause"`
}

// ckJSON is the -o json report as a script would read it.
type ckJSON struct {
	OK     bool      `json:"ok"`
	Local  bool      `json:"local"`
	Checks []ckCheck `json:"checks"`
	Token  *struct {
		Valid     bool   `json:"valid"`
		Signature string `json:"signature"`
		Identity  string `json:"identity"`
		Findings  []struct {
			Code string `json:"code"`
		} `json:"findings"`
	} `json:"token"`
	Connection *struct {
		URL     string `json:"url"`
		Outcome string `json:"outcome"`
		Cause   *struct {
			Kind string `json:"kind"`
		} `json:"cause"`
	} `json:"connection"`
}

func ckDecode(t *testing.T, b []byte) *ckJSON {
	t.Helper()
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, b)
	}
	for _, k := range []string{"ok", "checks", "token", "connection"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON report has no %q: %s", k, b)
		}
	}
	var r ckJSON
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
		if c.DurationMS == nil {
			t.Errorf("check %s has no duration_ms", c.Name)
		}
		if c.Status == "fail" && (c.Cause == nil || c.Cause.Kind == "" || c.Cause.Message == "") {
			t.Errorf("failed check %s has no cause: %+v", c.Name, c.Cause)
		}
		if c.Status != "fail" && c.Cause != nil {
			t.Errorf("check %s is %s but has a cause", c.Name, c.Status)
		}
	}
	if got, want := strings.Join(names, " "), strings.Join(checkNames, " "); got != want {
		t.Errorf("checks = %s, want %s", got, want)
	}
	return &r
}

// statuses renders the checks' statuses as "token.fetch=pass token.inspect=fail …".
func (r *ckJSON) statuses() string {
	var parts []string
	for _, c := range r.Checks {
		parts = append(parts, c.Name+"="+c.Status)
	}
	return strings.Join(parts, " ")
}

func (r *ckJSON) check(t *testing.T, name string) *ckCheck {
	t.Helper()
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	t.Fatalf("no check %s", name)
	return nil
}

func ckStatuses(fetch, insp, conn, upd, hold, disc string) string {
	return fmt.Sprintf("token.fetch=%s token.inspect=%s connect=%s token.update=%s hold=%s disconnect=%s",
		fetch, insp, conn, upd, hold, disc)
}

// TestCheckTokenEndpoint: the usual CI setup, an app's token endpoint and
// a Twilsock server, for each kind of answer the endpoint can give.
func TestCheckTokenEndpoint(t *testing.T) {
	wsURL := serveEmulator(t, emulator.Config{Secret: []byte(ckSecret)})
	good, expired := ckMint(t), ckMint(t, ckExpired)

	tests := []struct {
		name     string
		answers  []string
		timeout  time.Duration
		code     int
		statuses string
		fail     string // the failed check's cause kind
		stderr   string // for exit 2: what the error says
	}{
		{name: "good token", answers: []string{good}, code: 0,
			statuses: ckStatuses("pass", "pass", "pass", "skip", "skip", "pass")},
		{name: "expired token", answers: []string{expired}, code: 1,
			statuses: ckStatuses("pass", "fail", "skip", "skip", "skip", "skip"), fail: "expired"},
		{name: "500", answers: []string{ckAnswer500}, code: 2, stderr: "token endpoint answered 500 Internal Server Error"},
		{name: "junk", answers: []string{ckAnswerJunk}, code: 2, stderr: "neither a JWT nor JSON"},
		{name: "slow", answers: []string{ckAnswerSlow}, timeout: 150 * time.Millisecond, code: 2,
			stderr: "no answer before the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newCkEndpoint(t, tt.answers...)
			opts, out, _ := ckOptions(ep.source(t), wsURL)
			opts.Output = "json"
			if tt.timeout > 0 {
				opts.Timeout = tt.timeout
			}
			code, msg := ckRunOpts(t, context.Background(), opts)
			if code != tt.code {
				t.Fatalf("exit %d (%s), want %d\n%s", code, msg, tt.code, out)
			}
			if tt.code == 2 {
				if out.Len() != 0 {
					t.Errorf("exit 2 but a report on stdout: %s", out)
				}
				if !strings.Contains(msg, tt.stderr) {
					t.Errorf("error %q does not say %q", msg, tt.stderr)
				}
				if strings.Contains(msg, good) {
					t.Error("the error quotes the token")
				}
				return
			}
			r := ckDecode(t, out.Bytes())
			if got := r.statuses(); got != tt.statuses {
				t.Errorf("statuses\n got %s\nwant %s", got, tt.statuses)
			}
			if r.OK != (tt.code == 0) {
				t.Errorf("ok = %v with exit %d", r.OK, tt.code)
			}
			if tt.fail != "" {
				c := r.check(t, checkTokenInspect)
				if c.Cause.Kind != tt.fail || c.Cause.TwilioError == nil || *c.Cause.TwilioError != inspect.TwilioTokenExpired || c.Cause.Hint == "" {
					t.Errorf("token.inspect cause = %+v, want %s with Twilio error 20104 and a hint", c.Cause, tt.fail)
				}
				if r.Connection != nil {
					t.Error("connected with a token inspect already rejected")
				}
			}
		})
	}
}

// TestCheckSlowEndpointInterrupted: cancelling the run (SIGINT) while the
// token endpoint hangs ends it at once, as could-not-finish.
func TestCheckSlowEndpointInterrupted(t *testing.T) {
	ep := newCkEndpoint(t, ckAnswerSlow)
	opts, out, _ := ckOptions(ep.source(t), "ws://127.0.0.1:1/v3/wsconnect")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-ep.got
		cancel()
	}()
	code, msg := ckRunOpts(t, ctx, opts)
	if code != exitCannotFinish || !strings.Contains(msg, "interrupted") {
		t.Errorf("exit %d (%s), want 3 interrupted", code, msg)
	}
	if out.Len() != 0 {
		t.Errorf("report on stdout: %s", out)
	}
}

// TestCheckConnectFailures: what the server or the network does to the
// connect check, and the exit code each stands for.
func TestCheckConnectFailures(t *testing.T) {
	good := ckMint(t)
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "ws://" + addr + "/v3/wsconnect"
	}()

	tests := []struct {
		name    string
		url     string
		token   string
		timeout time.Duration
		once    bool // no reconnects: one attempt decides
		code    int
		kind    string
		twilio  int
	}{
		{name: "bad signature denied by the server", token: ckMint(t, ckSignedWith("another-secret-0123456789abcdef0")),
			url: serveEmulator(t, emulator.Config{Secret: []byte(ckSecret)}), code: 1, kind: "token_rejected", twilio: 20107},
		{name: "server denies", token: good, url: serveEmulator(t, emulator.Config{Deny: 20151}),
			code: 1, kind: "token_rejected", twilio: 20151},
		{name: "unreachable", token: good, url: closed, once: true, code: 3, kind: "network"},
		{name: "init never answered", token: good, url: serveEmulator(t, emulator.Config{InitDelay: time.Hour}),
			timeout: 300 * time.Millisecond, code: 3, kind: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newCkEndpoint(t, tt.token)
			opts, out, _ := ckOptions(ep.source(t), tt.url)
			opts.Output = "json"
			if tt.timeout > 0 {
				opts.Timeout = tt.timeout
			}
			if tt.once {
				tune := opts.tune
				opts.tune = func(c *probe.Config) { tune(c); c.NoReconnect = true }
			}
			code, msg := ckRunOpts(t, context.Background(), opts)
			if code != tt.code {
				t.Fatalf("exit %d (%s), want %d\n%s", code, msg, tt.code, out)
			}
			r := ckDecode(t, out.Bytes())
			if got, want := r.statuses(), ckStatuses("pass", "pass", "fail", "skip", "skip", "skip"); got != want {
				t.Errorf("statuses\n got %s\nwant %s", got, want)
			}
			c := r.check(t, checkConnect)
			if c.Cause.Kind != tt.kind {
				t.Errorf("connect cause kind %q, want %q (%s)", c.Cause.Kind, tt.kind, c.Cause.Message)
			}
			if tt.twilio != 0 && (c.Cause.TwilioError == nil || *c.Cause.TwilioError != tt.twilio) {
				t.Errorf("connect cause twilio_error %v, want %d", c.Cause.TwilioError, tt.twilio)
			}
			if c.Cause.Hint == "" {
				t.Error("connect failed without a hint")
			}
			if r.Connection == nil || r.Connection.URL != tt.url {
				t.Errorf("connection report %+v, want url %s", r.Connection, tt.url)
			}
		})
	}
}

// TestCheckUpdateAndHold: --update-token and --hold, passing and failing.
func TestCheckUpdateAndHold(t *testing.T) {
	good := ckMint(t)
	wsURL := serveEmulator(t, emulator.Config{Secret: []byte(ckSecret)})
	// A server whose clock, from the moment it first reads it (the
	// connection opening), is 150ms short of this token's expiry: it will
	// close 410 while the client holds.
	mintedAt := time.Now().Truncate(time.Second)
	shortLived := ckMint(t, func(o *inspect.MintOptions) { o.Now = mintedAt })
	var (
		clockOnce   sync.Once
		serverStart time.Time
	)
	expiring := serveEmulator(t, emulator.Config{Secret: []byte(ckSecret), Clock: func() time.Time {
		clockOnce.Do(func() { serverStart = time.Now() })
		return mintedAt.Add(time.Hour - 150*time.Millisecond + time.Since(serverStart))
	}})

	tests := []struct {
		name     string
		url      string
		answers  []string
		update   bool
		hold     time.Duration
		code     int
		statuses string
		failed   string // the failed check
		kind     string
	}{
		{name: "update and hold pass", url: wsURL, answers: []string{good, ckMint(t, func(o *inspect.MintOptions) { o.TTL = 2 * time.Hour })},
			update: true, hold: 30 * time.Millisecond, statuses: ckStatuses("pass", "pass", "pass", "pass", "pass", "pass")},
		{name: "endpoint fails on the second fetch", url: wsURL, answers: []string{good, ckAnswer500}, update: true,
			code: 1, statuses: ckStatuses("pass", "pass", "pass", "fail", "skip", "pass"), failed: checkTokenUpdate, kind: "token_source"},
		{name: "fresh token rejected", url: wsURL, answers: []string{good, ckMint(t, ckSignedWith("another-secret-0123456789abcdef0"))},
			update: true, hold: time.Second, code: 1, statuses: ckStatuses("pass", "pass", "pass", "fail", "skip", "skip"),
			failed: checkTokenUpdate, kind: "token_rejected"},
		{name: "token expires while holding", url: expiring, answers: []string{shortLived}, hold: 5 * time.Second,
			code: 1, statuses: ckStatuses("pass", "pass", "pass", "skip", "fail", "skip"), failed: checkHold, kind: "token_expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newCkEndpoint(t, tt.answers...)
			opts, out, _ := ckOptions(ep.source(t), tt.url)
			opts.Output = "json"
			opts.UpdateToken, opts.Hold = tt.update, tt.hold
			code, msg := ckRunOpts(t, context.Background(), opts)
			if code != tt.code {
				t.Fatalf("exit %d (%s), want %d\n%s", code, msg, tt.code, out)
			}
			r := ckDecode(t, out.Bytes())
			if got := r.statuses(); got != tt.statuses {
				t.Errorf("statuses\n got %s\nwant %s\n%s", got, tt.statuses, out)
			}
			if tt.update {
				if n := ep.requests.Load(); n != 2 {
					t.Errorf("token endpoint asked %d times, want 2 (fetch, then update)", n)
				}
			}
			if tt.hold > 0 && r.check(t, checkHold).Status == "pass" {
				if d := *r.check(t, checkHold).DurationMS; d < float64(tt.hold.Milliseconds()) {
					t.Errorf("hold passed after %vms, less than --hold %v", d, tt.hold)
				}
			}
			if tt.failed != "" {
				c := r.check(t, tt.failed)
				if c.Cause == nil {
					t.Fatalf("%s has no cause", tt.failed)
				}
				if c.Cause.Kind != tt.kind {
					t.Errorf("%s cause kind %q, want %q (%s)", tt.failed, c.Cause.Kind, tt.kind, c.Cause.Message)
				}
			}
		})
	}
}

// TestCheckTextOutput: the same report on a terminal and through a pipe.
func TestCheckTextOutput(t *testing.T) {
	wsURL := serveEmulator(t, emulator.Config{Secret: []byte(ckSecret)})
	for _, tty := range []bool{false, true} {
		t.Run("tty="+strconv.FormatBool(tty), func(t *testing.T) {
			ep := newCkEndpoint(t, ckMint(t), ckAnswer500)
			opts, out, errOut := ckOptions(ep.source(t), wsURL)
			opts.UpdateToken = true
			opts.Secret = []byte(ckSecret)
			opts.IO.SetTTY(tty)
			code, msg := ckRunOpts(t, context.Background(), opts)
			if code != 1 {
				t.Fatalf("exit %d (%s), want 1\n%s", code, msg, out)
			}
			text := out.String()
			lines := strings.Split(text, "\n")
			marks := map[bool][3]string{false: {"PASS ", "FAIL ", "SKIP "}, true: {"✓ ", "✗ ", "- "}}[tty]
			want := []struct{ mark, name string }{
				{marks[0], checkTokenFetch}, {marks[0], checkTokenInspect}, {marks[0], checkConnect},
				{marks[1], checkTokenUpdate}, {marks[2], checkHold}, {marks[0], checkDisconnect},
			}
			for i, w := range want {
				plain := ckStripANSI(lines[i])
				if !strings.HasPrefix(plain, w.mark+w.name) {
					t.Errorf("line %d = %q, want it to start %q", i, plain, w.mark+w.name)
				}
			}
			if !strings.Contains(ckStripANSI(lines[0]), "ms") {
				t.Errorf("no duration on %q", lines[0])
			}
			for _, s := range []string{"signature verified", "token.update: token_source", "hint: the token source worked once",
				"token endpoint answered 500", "FAIL 4 passed, 1 failed, 1 skipped"} {
				if !strings.Contains(ckStripANSI(text), s) {
					t.Errorf("report lacks %q:\n%s", s, text)
				}
			}
			hasANSI := strings.Contains(text, "\x1b[")
			if hasANSI != tty {
				t.Errorf("escape codes on stdout: %v, want %v", hasANSI, tty)
			}
			if tty {
				if !strings.Contains(errOut.String(), checkConnect) || !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
					t.Errorf("progress on a terminal: %q, want check names and a cleared line at the end", errOut)
				}
			} else if errOut.Len() != 0 {
				t.Errorf("stderr through a pipe: %q, want nothing", errOut)
			}
		})
	}
}

func ckStripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// junit* mirror what CI servers read from a JUnit file.
type ckJUnit struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func ckReadJUnit(t *testing.T, path string) *ckJUnit {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("JUnit file: %v", err)
	}
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Errorf("JUnit file does not start with an XML declaration: %.40s", b)
	}
	var j ckJUnit
	if err := xml.Unmarshal(b, &j); err != nil {
		t.Fatalf("JUnit file is not XML: %v\n%s", err, b)
	}
	if len(j.Suites) != 1 || j.Suites[0].Name != "convctl check" {
		t.Fatalf("want one testsuite \"convctl check\", got %+v", j.Suites)
	}
	s := j.Suites[0]
	var names []string
	for _, c := range s.Cases {
		names = append(names, c.Name)
		if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
			t.Errorf("testcase %s time %q is not seconds", c.Name, c.Time)
		}
	}
	if got, want := strings.Join(names, " "), strings.Join(checkNames, " "); got != want {
		t.Errorf("testcases = %s, want %s", got, want)
	}
	if s.Tests != len(checkNames) {
		t.Errorf("tests=%d, want %d", s.Tests, len(checkNames))
	}
	return &j
}

// TestCheckJUnit: a failing run and a token source that fails.
func TestCheckJUnit(t *testing.T) {
	wsURL := serveEmulator(t, emulator.Config{Secret: []byte(ckSecret)})

	t.Run("connect denied", func(t *testing.T) {
		ep := newCkEndpoint(t, ckMint(t, ckSignedWith("another-secret-0123456789abcdef0")))
		opts, _, _ := ckOptions(ep.source(t), wsURL)
		opts.JUnit = filepath.Join(t.TempDir(), "report.xml")
		if code, msg := ckRunOpts(t, context.Background(), opts); code != 1 {
			t.Fatalf("exit %d (%s), want 1", code, msg)
		}
		s := ckReadJUnit(t, opts.JUnit).Suites[0]
		if s.Failures != 1 || s.Skipped != 3 {
			t.Errorf("failures=%d skipped=%d, want 1 and 3", s.Failures, s.Skipped)
		}
		for _, c := range s.Cases {
			switch c.Name {
			case checkConnect:
				if c.Failure == nil || c.Failure.Type != "token_rejected" || !strings.Contains(c.Failure.Body, "Twilio error 20107") ||
					!strings.Contains(c.Failure.Body, "hint: ") || c.Failure.Message == "" {
					t.Errorf("connect failure = %+v, want type token_rejected, 20107 and a hint in the body", c.Failure)
				}
			case checkTokenUpdate, checkHold, checkDisconnect:
				if c.Skipped == nil || c.Failure != nil {
					t.Errorf("%s: want <skipped/>", c.Name)
				}
			default:
				if c.Skipped != nil || c.Failure != nil {
					t.Errorf("%s: want a pass", c.Name)
				}
			}
		}
	})

	t.Run("token endpoint fails", func(t *testing.T) {
		ep := newCkEndpoint(t, ckAnswer500)
		opts, out, _ := ckOptions(ep.source(t), wsURL)
		opts.JUnit = filepath.Join(t.TempDir(), "report.xml")
		if code, msg := ckRunOpts(t, context.Background(), opts); code != 2 {
			t.Fatalf("exit %d (%s), want 2", code, msg)
		}
		if out.Len() != 0 {
			t.Errorf("stdout on exit 2: %s", out)
		}
		s := ckReadJUnit(t, opts.JUnit).Suites[0]
		f := s.Cases[0].Failure
		if f == nil || f.Type != "token_source" || !strings.Contains(f.Message, "500") {
			t.Errorf("token.fetch failure = %+v, want token_source naming the 500", f)
		}
		if s.Failures != 1 || s.Skipped != 5 {
			t.Errorf("failures=%d skipped=%d, want 1 and 5", s.Failures, s.Skipped)
		}
	})

	t.Run("no token given", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "report.xml")
		io, _, out, errOut := TestIO()
		code := Run(context.Background(), []string{"check", "--local", "--junit", path}, io, func(string) string { return "" })
		if code != 2 || out.Len() != 0 || !strings.Contains(errOut.String(), "give a token") {
			t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and \"give a token\" on stderr", code, out, errOut)
		}
		f := ckReadJUnit(t, path).Suites[0].Cases[0].Failure
		if f == nil || !strings.Contains(f.Message, "give a token") {
			t.Errorf("token.fetch failure = %+v", f)
		}
	})
}

// TestCheckLocal runs the whole command line, --local, through Run(): the
// token endpoint is the only server the test starts.
func TestCheckLocal(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(ckSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		token  string
		args   []string
		code   int
		status string
		sig    string
		inMsg  string
	}{
		{name: "no secret: the server takes the signature unchecked", token: ckMint(t, ckSignedWith("another-secret-0123456789abcdef0")),
			code: 0, status: ckStatuses("pass", "pass", "pass", "pass", "skip", "pass"), sig: "unchecked",
			inMsg: "convctl's local server, signature not verified"},
		{name: "secret: verified", token: ckMint(t), args: []string{"--secret-file", secretFile},
			code: 0, status: ckStatuses("pass", "pass", "pass", "pass", "skip", "pass"), sig: "verified", inMsg: "convctl's local server)"},
		{name: "secret: bad signature", token: ckMint(t, ckSignedWith("another-secret-0123456789abcdef0")), args: []string{"--secret-file", secretFile},
			code: 1, status: ckStatuses("pass", "fail", "skip", "skip", "skip", "skip"), sig: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newCkEndpoint(t, tt.token)
			io, _, out, errOut := TestIO()
			args := append([]string{"check", "--local", "--token-url", ep.URL + "/token", "--update-token", "-o", "json"}, tt.args...)
			code := Run(context.Background(), args, io, func(string) string { return "" })
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			r := ckDecode(t, out.Bytes())
			if got := r.statuses(); got != tt.status {
				t.Errorf("statuses\n got %s\nwant %s", got, tt.status)
			}
			if !r.Local || r.Token == nil || r.Token.Signature != tt.sig {
				t.Errorf("local=%v token=%+v, want local and signature %s", r.Local, r.Token, tt.sig)
			}
			if tt.code == 0 {
				c := r.check(t, checkConnect)
				if !strings.Contains(c.Message, tt.inMsg) || !strings.Contains(r.Connection.URL, "ws://127.0.0.1:") {
					t.Errorf("connect message %q (url %s), want it to say %q and a 127.0.0.1 URL", c.Message, r.Connection.URL, tt.inMsg)
				}
			}
		})
	}
}

// TestCheckLocalNoLeak: --local stops its server and every goroutine.
func TestCheckLocalNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, ckMint(t))
	}))
	defer ep.Close()
	src, err := tokensource.Spec{URL: ep.URL, Client: &http.Client{Transport: transport}}.Source()
	if err != nil {
		t.Fatal(err)
	}
	opts, out, _ := ckOptions(src, "")
	opts.Local, opts.Hold = true, 20*time.Millisecond
	if code, msg := ckRunOpts(t, context.Background(), opts); code != 0 {
		t.Fatalf("exit %d (%s)\n%s", code, msg, out)
	}
}

// TestCheckFlags: flags to options, and the usage errors (exit 2).
func TestCheckFlags(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TOKEN": "a.b.c", "SECRET": ckSecret}
	getenv := func(k string) string { return env[k] }

	type want struct {
		url      string
		local    bool
		timeout  time.Duration
		hold     time.Duration
		product  inspect.Product
		minRem   time.Duration
		output   string
		junit    string
		update   bool
		secret   string
		srcName  string
		errorHas string
	}
	tests := []struct {
		args []string
		want want
	}{
		{[]string{"--token-env", "TOKEN"}, want{url: "wss://tsock.us1.twilio.com/v3/wsconnect", timeout: 30 * time.Second,
			product: "conversations", output: "text", srcName: "--token-env TOKEN"}},
		{[]string{"--token-env", "TOKEN", "--region", "ie1", "--hold", "10s", "--timeout", "1m", "--update-token",
			"--product", "sync", "--min-remaining", "10m", "-o", "json", "--secret-env", "SECRET", "--junit", filepath.Join(dir, "j.xml")},
			want{url: "wss://tsock.ie1.twilio.com/v3/wsconnect", timeout: time.Minute, hold: 10 * time.Second, update: true,
				product: "sync", minRem: 10 * time.Minute, output: "json", secret: ckSecret, junit: filepath.Join(dir, "j.xml"), srcName: "--token-env TOKEN"}},
		{[]string{"a.b.c", "--url", "ws://127.0.0.1:4567/v3/wsconnect"}, want{url: "ws://127.0.0.1:4567/v3/wsconnect",
			timeout: 30 * time.Second, product: "conversations", output: "text", srcName: "the TOKEN argument"}},
		{[]string{"--token-url", "https://example.com/token", "--local"}, want{local: true, timeout: 30 * time.Second,
			product: "conversations", output: "text", srcName: "--token-url https://example.com"}},

		{[]string{"--token-env", "TOKEN", "--local", "--url", "ws://127.0.0.1:1/v3/wsconnect"}, want{errorHas: "--local connects to convctl's own server"}},
		{[]string{"--token-env", "TOKEN", "--local", "--region", "ie1"}, want{errorHas: "--local and --region cannot be used together"}},
		{[]string{"--token-env", "TOKEN", "--url", "ws://x/v3/wsconnect", "--region", "ie1"}, want{errorHas: "--url and --region cannot be used together"}},
		{[]string{"--token-env", "TOKEN", "--url", "https://x/v3/wsconnect"}, want{errorHas: "use ws:// or wss://"}},
		{[]string{"--token-env", "TOKEN", "--region", "Ireland"}, want{errorHas: "not a Twilio region"}},
		{[]string{"--token-env", "TOKEN", "--product", "fax"}, want{errorHas: `invalid argument "fax" for "--product" flag: want conversations, sync, voice, video or any`}},
		{[]string{"--token-env", "TOKEN", "-o", "yaml"}, want{errorHas: `invalid argument "yaml" for "-o, --output" flag: want text or json`}},
		{[]string{"--token-env", "TOKEN", "--timeout", "0s"}, want{errorHas: "--timeout must be positive"}},
		{[]string{"--token-env", "TOKEN", "--hold", "1m", "--timeout", "30s"}, want{errorHas: "--hold 1m0s needs a longer --timeout"}},
		{[]string{"--token-env", "TOKEN", "--hold", "1m"}, want{url: "wss://tsock.us1.twilio.com/v3/wsconnect", timeout: 90 * time.Second,
			hold: time.Minute, product: "conversations", output: "text", srcName: "--token-env TOKEN"}},
		{[]string{"--token-url", ""}, want{errorHas: "--token-url is empty"}},
		{[]string{"--token-env", "TOKEN", "--hold", "-1s"}, want{errorHas: "cannot be negative"}},
		{[]string{"--token-env", "TOKEN", "--junit", filepath.Join(dir, "missing", "j.xml")}, want{errorHas: "does not exist"}},
		{[]string{}, want{errorHas: "give a token"}},
		{[]string{"--token-env", "TOKEN", "--token-file", "t.jwt"}, want{errorHas: "both given"}},
		{[]string{"--token-env", "TOKEN", "--secret-env", "NOPE"}, want{errorHas: "--secret-env NOPE"}},
		{[]string{"a", "b"}, want{errorHas: "at most 1 argument"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			io, _, _, _ := TestIO()
			io.SetStdinTTY(true) // nothing piped in
			f := NewFactory(io, getenv)
			var got *CheckOptions
			cmd := NewCmdCheck(f, func(_ context.Context, o *CheckOptions) error { got = o; return nil })
			err := execFlags(cmd, tt.args)
			w := tt.want
			if w.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), w.errorHas) || exitCodeOf(err) != exitUsage {
					t.Fatalf("err = %v (exit %d), want exit 2 saying %q", err, exitCodeOf(err), w.errorHas)
				}
				if got != nil {
					t.Error("ran despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != w.url || got.Local != w.local || got.Timeout != w.timeout || got.Hold != w.hold ||
				got.Product != w.product || got.MinRemaining != w.minRem || got.Output != w.output ||
				got.JUnit != w.junit || got.UpdateToken != w.update || string(got.Secret) != w.secret {
				t.Errorf("options = %+v\nwant %+v", got, w)
			}
			if got.Source == nil || got.Source.Name() != w.srcName {
				t.Errorf("source = %v, want %s", got.Source, w.srcName)
			}
			if got.IO != io || got.Now == nil {
				t.Error("IO or clock not taken from the factory")
			}
		})
	}
}

// TestCheckHelpExamples runs every `convctl check` line of --help as
// written, with the environment it expects: the --local ones for real
// (TOKEN_URL is a test endpoint, token.jwt minted as `convctl token mint`
// would), the one that needs Twilio only as far as its flags.
func TestCheckHelpExamples(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("token.jwt", []byte(ckMint(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ep := newCkEndpoint(t, ckMint(t))
	env := map[string]string{"TWILIO_API_SECRET": ckSecret, "TOKEN_URL": ep.URL + "/token"}
	getenv := func(k string) string { return env[k] }

	io, _, _, _ := TestIO()
	example := NewCmdCheck(NewFactory(io, getenv), nil).Example
	var lines []string
	for line := range strings.Lines(example) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "convctl check ") {
			lines = append(lines, line)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("found %d example command lines, want 3:\n%s", len(lines), example)
	}
	for _, line := range lines {
		t.Run(line, func(t *testing.T) {
			args := shellWords(t, os.Expand(line, getenv))[1:]
			os.Remove("convctl-check.xml")
			if !strings.Contains(line, "--local") {
				io, _, _, _ := TestIO()
				var got *CheckOptions
				cmd := NewCmdCheck(NewFactory(io, getenv), func(_ context.Context, o *CheckOptions) error { got = o; return nil })
				cmd.SetArgs(args[1:])
				if err := cmd.Execute(); err != nil || got == nil {
					t.Fatalf("flags rejected: %v", err)
				}
				return
			}
			io, _, out, errOut := TestIO()
			if code := Run(context.Background(), args, io, getenv); code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if strings.Contains(line, "--junit convctl-check.xml") {
				ckReadJUnit(t, "convctl-check.xml")
			}
		})
	}
}

// TestCheckScripts runs testdata/check/*.txtar with the real main: the
// --help example as typed, and the exit codes a pipeline sees.
func TestCheckScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/check",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}

func ckGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	checkGolden(t, filepath.Join("testdata", "check", "golden", name), got)
}

// TestCheckRenderGolden renders one fixed report in each format, so a
// change to what a pipeline log or CI dashboard shows is a visible diff.
func TestCheckRenderGolden(t *testing.T) {
	i401, i20107 := 401, 20107
	rep := &checkReport{
		Started: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		Checks: []checkResult{
			{Name: checkTokenFetch, Status: checkPass, DurationMS: 12.345, Message: "--token-url https://app.example.com gave a token (412 bytes)"},
			{Name: checkTokenInspect, Status: checkPass, DurationMS: 0.042, Message: "valid: identity alice, grants chat, expires in 59m59s, signature not verified (no secret given)"},
			{Name: checkConnect, Status: checkFail, DurationMS: 41.2, exit: exitFailed,
				Message: "denied: the server rejected the token in init: 401 Unauthorized (Twilio error 20107: Invalid Access Token signature)",
				Cause: &probe.Cause{Kind: "token_rejected", HTTPStatus: &i401, TwilioError: &i20107, Phase: "init",
					Message: "the server rejected the token in init: 401 Unauthorized (Twilio error 20107: Invalid Access Token signature)",
					Hint:    "the token was signed with another secret than its API Key's <SK…>; give --secret-env to check"}},
			{Name: checkTokenUpdate, Status: checkSkip, Message: "not run: connect failed"},
			{Name: checkHold, Status: checkSkip, Message: "not run: connect failed"},
			{Name: checkDisconnect, Status: checkSkip, Message: "not run: connect failed"},
		},
		Connection: &probe.Report{URL: "wss://tsock.us1.twilio.com/v3/wsconnect", Outcome: probe.OutcomeDenied,
			Warnings: []string{"the token is for region ie1 (header twr) but the URL is in region us1"}},
	}
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		renderCheckText(&b, newColorScheme(tty), tty, rep)
		name := "report.txt"
		if tty {
			name = "report.tty.txt"
		}
		ckGolden(t, name, b.Bytes())
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := writeCheckJUnit(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ckGolden(t, "report.junit.xml", b)
}

// TestCheckJUnitHostileText: whatever a message holds (a token's identity
// with control characters, a CDATA terminator), the file stays readable.
func TestCheckJUnitHostileText(t *testing.T) {
	hostile := "identity a\x00b\x1b[31m ]]> <x> & \"q\" \xff"
	rep := newCheckReport(&CheckOptions{})
	rep.get(checkTokenFetch).pass(time.Millisecond, hostile)
	rep.get(checkTokenInspect).fail(time.Millisecond, exitFailed, hostile, &probe.Cause{Kind: "bad_grant", Message: hostile, Hint: hostile})
	rep.skipRest(hostile)
	path := filepath.Join(t.TempDir(), "j.xml")
	if err := writeCheckJUnit(path, rep); err != nil {
		t.Fatal(err)
	}
	s := ckReadJUnit(t, path).Suites[0]
	f := s.Cases[1].Failure
	if f == nil || !strings.Contains(f.Body, "]]> <x> & \"q\"") || !strings.Contains(f.Message, "<x> &") {
		t.Errorf("failure = %+v, want the text kept apart from the characters XML cannot carry", f)
	}
	if s.Cases[2].Skipped == nil || !strings.Contains(s.Cases[2].Skipped.Message, "a\uFFFDb") {
		t.Errorf("skipped = %+v", s.Cases[2].Skipped)
	}
}
