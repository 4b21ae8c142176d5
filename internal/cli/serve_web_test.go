package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

func TestServeWebUsageErrors(t *testing.T) {
	getenv := func(k string) string {
		switch k {
		case "SERVE_SECRET":
			return serveTestSecret
		case "SPACED":
			return "two words"
		}
		return ""
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--account-sid", "AC00000000000000000000000000000001"}, "add --token-endpoint"},
		{[]string{"--ttl", "5m"}, "--ttl shapes the tokens of the token endpoint"},
		{[]string{"--token-endpoint", "--account-sid", "SK00000000000000000000000000000001"}, "API Key SID"},
		{[]string{"--token-endpoint", "--ttl", "48h"}, "--token-endpoint"},
		{[]string{"--token-endpoint", "--product", "voice"}, "mints Conversations tokens"},
		{[]string{"--control-token-env", "UNSET"}, "UNSET: the variable is empty or not set"},
		{[]string{"--control-token-env", "SPACED"}, "printable ASCII"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			io, _, out, errOut := TestIO()
			code := Run(context.Background(), append([]string{"serve", "--secret-env", "SERVE_SECRET"}, tt.args...), io, getenv)
			if code != exitUsage || !strings.Contains(errOut.String(), tt.want) || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and stderr saying %q", code, out, errOut, exitUsage, tt.want)
			}
		})
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:0": true, "127.1.2.3:80": true, "[::1]:4567": true, "localhost:4567": true, "LOCALHOST:1": true,
		"0.0.0.0:4567": false, ":4567": false, "[::]:1": false, "192.168.1.5:4567": false, "myhost:4567": false, "bad": false,
	} {
		if got := isLoopbackAddr(addr); got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}

// webServed is serve started through its command with a listener the test
// chooses: loopback always, whatever --addr says.
type webServed struct {
	url, base string
	stderr    *testpeer.Buffer
}

func startWebServed(t *testing.T, getenv func(string) string, args ...string) *webServed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &webServed{stderr: &testpeer.Buffer{}}
	f := &Factory{IO: &IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: p.stderr}, Getenv: getenv}
	cmd := NewCmdServe(f, func(ctx context.Context, o *ServeOptions) error {
		o.listen = func(ctx context.Context, network, _ string) (net.Listener, error) {
			return (&net.ListenConfig{}).Listen(ctx, network, "127.0.0.1:0")
		}
		return runServe(ctx, o)
	})
	cmd.SetArgs(append([]string{"--secret-env", "SERVE_SECRET"}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(p.stderr)
	done := make(chan error, 1)
	go func() {
		done <- cmd.ExecuteContext(ctx)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pr)
		line, _ := br.ReadString('\n')
		lines <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, br)
	}()
	select {
	case p.url = <-lines:
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("no URL on stdout; stderr:\n%s", p.stderr)
	}
	p.base = "http" + strings.TrimSuffix(strings.TrimPrefix(p.url, "ws"), "/v3/wsconnect")
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("convctl serve did not stop")
		}
	})
	return p
}

func webGet(t *testing.T, url string, header map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Off loopback: a control token, printed as the contract words it, guards
// everything but the WebSocket; the printed URLs name 127.0.0.1 for 0.0.0.0.
func TestServeOffLoopbackControlToken(t *testing.T) {
	p := startWebServed(t, serveGetenv, "--addr", "0.0.0.0:0", "--token-endpoint")
	if !strings.HasPrefix(p.url, "ws://127.0.0.1:") {
		t.Fatalf("URL %q: want the loopback host for 0.0.0.0", p.url)
	}
	line := regexp.MustCompile(`(?m)^control token: ([0-9a-f]{32}) \(open (http://\S+)/\?control_token=([0-9a-f]{32})\)$`).
		FindStringSubmatch(p.stderr.String())
	if line == nil || line[1] != line[3] || line[2] != p.base {
		t.Fatalf("stderr lacks `control token: TOKEN (open %s/?control_token=TOKEN)`:\n%s", p.base, p.stderr)
	}
	token := line[1]

	for _, path := range []string{"/control/connections", "/token?identity=alice", "/"} {
		if resp := webGet(t, p.base+path, map[string]string{"Accept": "text/html"}); resp.StatusCode != 401 {
			t.Errorf("GET %s without the control token: %d, want 401", path, resp.StatusCode)
		}
	}
	if resp := webGet(t, p.base+"/control/connections", map[string]string{"Authorization": "Bearer " + token}); resp.StatusCode != 200 {
		t.Errorf("with the bearer token: %d", resp.StatusCode)
	}
	resp := webGet(t, p.base+"/?control_token="+token, map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || !resp.Cookies()[0].HttpOnly {
		t.Errorf("the printed URL: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp = webGet(t, p.base+"/token?identity=alice", map[string]string{"Authorization": "Bearer " + token})
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/token off loopback: %d, CORS %q (want none)", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// The WebSocket endpoint stays open.
	ws := serveDial(t, p.url)
	if r := serveExchange(t, ws, twilsock.NewInit(serveToken(t, serveTestSecret, time.Hour), nil, twilsock.Metadata{}, nil)); !r.Header.Status.OK() {
		t.Errorf("init off loopback: %s", r.RawHeader)
	}
}

func TestServeControlTokenFromEnv(t *testing.T) {
	getenv := func(k string) string {
		if k == "CONTROL" {
			return "my-control-token"
		}
		return serveGetenv(k)
	}
	p := startWebServed(t, getenv, "--addr", "127.0.0.1:0", "--control-token-env", "CONTROL")
	// The user's own secret is not printed; the URL names the variable, for
	// a shell to expand.
	if want := "control token: $CONTROL (open " + p.base + "/?control_token=$CONTROL)\n"; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "my-control-token") {
		t.Errorf("stderr shows the control token read from the environment:\n%s", p.stderr)
	}
	if resp := webGet(t, p.base+"/control/stats", nil); resp.StatusCode != 401 {
		t.Errorf("without the token: %d", resp.StatusCode)
	}
	if resp := webGet(t, p.base+"/control/stats", map[string]string{"Authorization": "Bearer my-control-token"}); resp.StatusCode != 200 {
		t.Errorf("with the token: %d", resp.StatusCode)
	}
}

// With --log-format json every stderr line is JSON, the control token too.
func TestServeControlTokenJSONLog(t *testing.T) {
	p := startWebServed(t, serveGetenv, "--addr", "0.0.0.0:0", "--log-format", "json")
	found := false
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		var rec struct {
			Msg   string `json:"msg"`
			Attrs struct {
				ControlToken string `json:"control_token"`
				Open         string `json:"open"`
			} `json:"attrs"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a stderr line is not JSON: %q", line)
			continue
		}
		if rec.Msg == "control token" {
			found = len(rec.Attrs.ControlToken) == 32 && rec.Attrs.Open == p.base+"/?control_token="+rec.Attrs.ControlToken
		}
	}
	if !found {
		t.Errorf("no JSON record gives the control token and its URL:\n%s", p.stderr)
	}
}

// On loopback: no control token, and the token endpoint serves any origin.
func TestServeTokenEndpointOnLoopback(t *testing.T) {
	p := startWebServed(t, serveGetenv, "--addr", "127.0.0.1:0", "--token-endpoint", "--ttl", "10m",
		"--account-sid", "AC0123456789abcdef0123456789abcdef")
	if strings.Contains(p.stderr.String(), "control token") {
		t.Errorf("a control token on loopback:\n%s", p.stderr)
	}
	if !strings.Contains(p.stderr.String(), `token_endpoint="`+p.base+`/token?identity=NAME"`) ||
		!strings.Contains(p.stderr.String(), "dashboard="+p.base+"/") {
		t.Errorf("the start line does not name the dashboard and the token endpoint:\n%s", p.stderr)
	}
	resp := webGet(t, p.base+"/token?identity=alice", map[string]string{"Origin": "http://localhost:3000"})
	var ans struct{ Identity, Token string }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("/token: %d %v CORS %q", resp.StatusCode, err, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	rep := inspect.Inspect(ans.Token, inspect.WithSecret([]byte(serveTestSecret)))
	if !rep.Valid || rep.Identity != "alice" || rep.LifetimeSeconds == nil || *rep.LifetimeSeconds != 600 ||
		rep.AccountSID != "AC0123456789abcdef0123456789abcdef" || rep.APIKeySID != devAPIKeySID {
		t.Errorf("minted token: valid %v identity %q lifetime %v account %q key %q", rep.Valid, rep.Identity, rep.LifetimeSeconds, rep.AccountSID, rep.APIKeySID)
	}
	if resp := webGet(t, p.base+"/", map[string]string{"Accept": "text/html"}); resp.StatusCode != 200 {
		t.Errorf("the dashboard on loopback: %d", resp.StatusCode)
	}
}
