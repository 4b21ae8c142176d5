package cli

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

const serveTestSecret = "serve-test-secret-0123456789abcdef"

func serveGetenv(k string) string {
	if k == "SERVE_SECRET" {
		return serveTestSecret
	}
	return ""
}

// Flags to options: what each flag turns into, without starting a server.
func TestServeFlags(t *testing.T) {
	def := emulator.Config{AboutToExpire: 3 * time.Minute, OffloadBackoff: time.Second, UpstreamStatus: 404,
		PingInterval: 30 * time.Second, Product: inspect.ProductConversations, InitTimeout: 30 * time.Second}
	tests := []struct {
		name string
		args []string
		want ServeOptions
	}{
		{"defaults", []string{"--secret-env", "SERVE_SECRET"},
			ServeOptions{Addr: "127.0.0.1:0", Secret: []byte(serveTestSecret), Server: def}},
		{"every fault", []string{"--secret-env", "SERVE_SECRET", "--addr", "127.0.0.1:4567", "--about-to-expire", "30s",
			"--deny", "20107", "--init-delay", "600ms", "--drop-after", "2s", "--offload-after", "3s", "--offload-backoff", "1500ms",
			"--refuse-upgrades", "2", "--upstream-status", "503", "--product", "sync", "--debug", "--log-format", "json",
			"--init-timeout", "5s", "--max-conns", "500"},
			ServeOptions{Addr: "127.0.0.1:4567", Secret: []byte(serveTestSecret), Debug: true, LogJSON: true,
				Server: emulator.Config{AboutToExpire: 30 * time.Second, Deny: 20107, InitDelay: 600 * time.Millisecond,
					DropAfter: 2 * time.Second, OffloadAfter: 3 * time.Second, OffloadBackoff: 1500 * time.Millisecond,
					RefuseUpgrades: 2, UpstreamStatus: 503, PingInterval: 30 * time.Second, Product: inspect.ProductSync,
					InitTimeout: 5 * time.Second, MaxConns: 500}}},
		{"no verify", []string{"--no-verify", "--addr", "0.0.0.0:0"},
			ServeOptions{Addr: "0.0.0.0:0", NoVerify: true, Server: def}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			io, _, _, _ := TestIO()
			f := &Factory{IO: io, Getenv: serveGetenv}
			var got *ServeOptions
			cmd := NewCmdServe(f, func(_ context.Context, o *ServeOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Out)
			cmd.SetErr(io.ErrOut)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			got.IO = nil
			if got.Addr != tt.want.Addr || string(got.Secret) != string(tt.want.Secret) || got.NoVerify != tt.want.NoVerify ||
				got.Debug != tt.want.Debug || got.LogJSON != tt.want.LogJSON || got.Server.Logger != nil || got.Server.Clock != nil ||
				!sameConfig(got.Server, tt.want.Server) {
				t.Errorf("options\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func sameConfig(a, b emulator.Config) bool {
	a.Logger, b.Logger, a.Clock, b.Clock, a.Secret, b.Secret = nil, nil, nil, nil, nil, nil
	return a.AboutToExpire == b.AboutToExpire && a.Deny == b.Deny && a.InitDelay == b.InitDelay && a.DropAfter == b.DropAfter &&
		a.OffloadAfter == b.OffloadAfter && a.OffloadBackoff == b.OffloadBackoff && a.RefuseUpgrades == b.RefuseUpgrades &&
		a.Product == b.Product && a.UpstreamStatus == b.UpstreamStatus && a.PingInterval == b.PingInterval && a.CloseGrace == b.CloseGrace &&
		a.InitTimeout == b.InitTimeout && a.MaxConns == b.MaxConns
}

// Usage errors exit 2 with a message that says what to do; nothing starts.
func TestServeUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve"}, "openssl rand -hex 16"},
		{[]string{"serve", "--secret-env", "UNSET"}, "UNSET is not set"},
		{[]string{"serve", "--secret-file", empty}, "is empty"},
		{[]string{"serve", "--secret-env", "SERVE_SECRET", "--secret-file", empty}, "pick one"},
		{[]string{"serve", "--no-verify", "--secret-env", "SERVE_SECRET"}, "--no-verify and --secret-env or --secret-file cannot be used together"},
		{[]string{"serve", "--no-verify", "--addr", "4567"}, "want HOST:PORT"},
		{[]string{"serve", "--no-verify", "--deny", "0"}, "--deny 0"},
		{[]string{"serve", "--no-verify", "--deny", "200"}, "--deny 200: want a Twilio error code (5 digits, 10000-99999)"},
		{[]string{"serve", "--no-verify", "--addr", "127.0.0.1:99999"}, `port "99999" is not a number from 0 to 65535`},
		{[]string{"serve", "--no-verify", "--deny", "abc"}, "invalid argument"},
		{[]string{"serve", "--no-verify", "--about-to-expire", "0s"}, "more than 0"},
		{[]string{"serve", "--no-verify", "--drop-after", "-1s"}, "0 or more"},
		{[]string{"serve", "--no-verify", "--refuse-upgrades", "-1"}, "0 or more"},
		{[]string{"serve", "--no-verify", "--init-timeout", "-1s"}, "--init-timeout -1s: want a duration of 0 or more"},
		{[]string{"serve", "--no-verify", "--max-conns", "-1"}, "--max-conns -1: want 0"},
		{[]string{"serve", "--no-verify", "--upstream-status", "200"}, "400 to 599"},
		{[]string{"serve", "--no-verify", "--product", "fax"}, "want conversations, sync, voice, video or any"},
		{[]string{"serve", "--no-verify", "--log-format", "xml"}, "text or json"},
		{[]string{"serve", "--no-verify", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			io, _, out, errOut := TestIO()
			code := Run(context.Background(), tt.args, io, serveGetenv)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not say %q", errOut, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Contains(errOut.String(), serveTestSecret) {
				t.Error("the secret is echoed")
			}
		})
	}
}

func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	io, _, out, errOut := TestIO()
	code := Run(context.Background(), []string{"serve", "--secret-env", "SERVE_SECRET", "--addr", ln.Addr().String()}, io, serveGetenv)
	if code != exitCannotFinish || !strings.Contains(errOut.String(), "address already in use") || out.Len() != 0 {
		t.Errorf("exit %d, stderr %q, stdout %q", code, errOut, out)
	}
}

// servedProcess is `convctl serve` running through Run(), as main runs it.
type servedProcess struct {
	url    string
	stderr *testpeer.Buffer
	cancel context.CancelFunc
	code   chan int
}

func startServed(t *testing.T, args ...string) *servedProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	p := &servedProcess{stderr: &testpeer.Buffer{}, cancel: cancel, code: make(chan int, 1)}
	streams := &IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: p.stderr}
	go func() {
		p.code <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), streams, serveGetenv)
		pw.Close()
	}()
	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(pr)
		line, _ := br.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, br)
	}()
	select {
	case line := <-lines:
		p.url = strings.TrimSuffix(line, "\n")
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("no URL on stdout; stderr:\n%s", p.stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.code:
		case <-time.After(10 * time.Second):
			t.Error("convctl serve did not stop")
		}
	})
	return p
}

// stop cancels the context, as SIGINT does through signal.NotifyContext, and
// returns the exit code.
func (p *servedProcess) stop(t *testing.T) int {
	t.Helper()
	p.cancel()
	select {
	case code := <-p.code:
		p.code <- code
		return code
	case <-time.After(10 * time.Second):
		t.Fatal("convctl serve did not stop within 10s")
		return -1
	}
}

func serveToken(t *testing.T, secret string, ttl time.Duration) string {
	t.Helper()
	tok, err := inspect.Mint(inspect.MintOptions{AccountSID: "AC0123456789abcdef0123456789abcdef", APIKeySID: "SK0123456789abcdef0123456789abcdef",
		Secret: []byte(secret), Identity: "alice", ChatServiceSID: "IS0123456789abcdef0123456789abcdef", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func serveDial(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func serveExchange(t *testing.T, ws *websocket.Conn, m twilsock.Message) *twilsock.Frame {
	t.Helper()
	b, err := twilsock.Encode(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		t.Fatal(err)
	}
	return serveRead(t, ws)
}

func serveRead(t *testing.T, ws *websocket.Conn) *twilsock.Frame {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	mt, b, err := ws.ReadMessage()
	if err != nil || mt != websocket.BinaryMessage {
		t.Fatalf("read: %v (type %d)", err, mt)
	}
	f, err := twilsock.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Options to output: the URL first on stdout, tokens judged with the secret,
// and on the signal every connection gets a close frame and the exit is 0.
func TestServeRunsAndStopsCleanly(t *testing.T) {
	p := startServed(t, "--secret-env", "SERVE_SECRET")
	if !strings.HasPrefix(p.url, "ws://127.0.0.1:") || !strings.HasSuffix(p.url, "/v3/wsconnect") {
		t.Fatalf("first stdout line %q", p.url)
	}
	good := serveDial(t, p.url)
	r := serveExchange(t, good, twilsock.NewInit(serveToken(t, serveTestSecret, time.Hour), nil, twilsock.Metadata{SDK: "js-default"}, nil))
	if !r.Header.Status.OK() {
		t.Fatalf("init with a good token: %s", r.RawHeader)
	}
	bad := serveDial(t, p.url)
	r = serveExchange(t, bad, twilsock.NewInit(serveToken(t, "some other secret entirely", time.Hour), nil, twilsock.Metadata{}, nil))
	if r.Header.Status.Code != 401 || r.Header.Status.ErrorCode != twilsock.ErrInvalidSignature {
		t.Fatalf("init with a badly signed token: %s", r.RawHeader)
	}

	stopped := make(chan int, 1)
	go func() { stopped <- p.stop(t) }()
	// The connected client hears an offload, then the WebSocket closes 1001.
	if cl := serveRead(t, good); cl.Header.Method != "close" || cl.Header.Status.Code != 308 {
		t.Errorf("on stop: %s", cl.RawHeader)
	}
	_ = good.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := good.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("on stop: %v, want close 1001", err)
	}
	if code := <-stopped; code != exitOK {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, p.stderr)
	}
	log := p.stderr.String()
	for _, want := range []string{"serving Twilsock", p.url, "init denied", "error_code=20107", "stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, serveTestSecret) {
		t.Error("the secret is in the log")
	}
	if strings.Contains(log, "frame received") {
		t.Error("frames logged without --debug")
	}
}

func TestServeDebugLogsFramesRedacted(t *testing.T) {
	p := startServed(t, "--secret-env", "SERVE_SECRET", "--debug", "--deny", "20151")
	ws := serveDial(t, p.url)
	tok := serveToken(t, serveTestSecret, time.Hour)
	r := serveExchange(t, ws, twilsock.NewInit(tok, nil, twilsock.Metadata{}, nil))
	if r.Header.Status.ErrorCode != 20151 {
		t.Errorf("--deny 20151: %s", r.RawHeader)
	}
	p.stop(t)
	log := p.stderr.String()
	if !strings.Contains(log, "frame received") || !strings.Contains(log, "frame sent") || !strings.Contains(log, "deny=20151") {
		t.Errorf("debug log:\n%s", log)
	}
	if sig := tok[strings.LastIndexByte(tok, '.')+1:]; strings.Contains(log, sig) {
		t.Error("a token signature is in the debug log")
	}
}

func TestServeNoVerify(t *testing.T) {
	p := startServed(t, "--no-verify", "--log-format", "json")
	ws := serveDial(t, p.url)
	r := serveExchange(t, ws, twilsock.NewInit(serveToken(t, "whatever secret the app uses", time.Hour), nil, twilsock.Metadata{}, nil))
	if !r.Header.Status.OK() {
		t.Errorf("--no-verify: %s", r.RawHeader)
	}
	p.stop(t)
	if log := p.stderr.String(); !strings.Contains(log, `"level":"WARN"`) || !strings.Contains(log, "signatures are not checked") {
		t.Errorf("log does not warn in JSON:\n%s", log)
	}
}

// The printed URL reaches the server from this machine: loopback of the
// family the user named. Go answers "0.0.0.0:N" and ":N" with one
// dual-stack socket whose address reads [::]:N (serve printed ws://[::1]
// for --addr 0.0.0.0 before); no test listens off loopback, so the
// listener's addresses are written out.
func TestWSURL(t *testing.T) {
	v4 := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip).To4(), Port: 4567} }
	dual := &net.TCPAddr{IP: net.IPv6unspecified, Port: 4567}
	for _, tt := range []struct {
		requested string
		listener  net.Addr
		want      string
	}{
		{"127.0.0.1:4567", v4("127.0.0.1"), "ws://127.0.0.1:4567/v3/wsconnect"},
		{"0.0.0.0:4567", v4("0.0.0.0"), "ws://127.0.0.1:4567/v3/wsconnect"},
		{"0.0.0.0:4567", dual, "ws://127.0.0.1:4567/v3/wsconnect"},
		{":4567", dual, "ws://127.0.0.1:4567/v3/wsconnect"},
		{"[::]:4567", dual, "ws://[::1]:4567/v3/wsconnect"},
		{"[::1]:4567", &net.TCPAddr{IP: net.IPv6loopback, Port: 4567}, "ws://[::1]:4567/v3/wsconnect"},
	} {
		if got := wsURL(tt.requested, tt.listener); got != tt.want {
			t.Errorf("wsURL(%s, %s) = %s, want %s", tt.requested, tt.listener, got, tt.want)
		}
	}
}

// A client flooding without reading and sockets sending their request
// headers a byte at a time (slowloris) cannot hold up a stop: serve exits 0
// within a second of the signal.
func TestServeStopsPromptlyWhateverTheClients(t *testing.T) {
	p := startServed(t, "--secret-env", "SERVE_SECRET")
	hostport := strings.TrimSuffix(strings.TrimPrefix(p.url, "ws://"), "/v3/wsconnect")
	for range 3 {
		c, err := net.Dial("tcp", hostport)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, "GET /v3/wsconnect HTTP/1.1\r\nHost: x\r\nUpgr"); err != nil {
			t.Fatal(err)
		}
	}
	ws := serveDial(t, p.url)
	if r := serveExchange(t, ws, twilsock.NewInit(serveToken(t, serveTestSecret, time.Hour), nil, twilsock.Metadata{}, nil)); !r.Header.Status.OK() {
		t.Fatalf("init: %s", r.RawHeader)
	}
	floodUntilStalled(t, ws)

	stopped := make(chan int, 1)
	start := time.Now()
	go func() { stopped <- p.stop(t) }()
	bound := time.NewTimer(time.Second)
	defer bound.Stop()
	select {
	case code := <-stopped:
		t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
		if code != exitOK {
			t.Errorf("exit %d, want 0; stderr:\n%s", code, p.stderr)
		}
	case <-bound.C:
		t.Fatalf("serve did not stop within 1s; stderr:\n%s", p.stderr)
	}
}

// floodUntilStalled sends upstream messages without reading their replies
// until the server stops taking them (a write stalls for 100ms).
func floodUntilStalled(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	m := &twilsock.Header{Base: twilsock.Base{ID: "TM1", Method: twilsock.MethodMessage},
		HTTPRequest: &twilsock.HTTPRequest{Host: "aim.us1.twilio.com", Path: "/" + strings.Repeat("p", 8<<10), Method: "GET"}}
	b, err := twilsock.Encode(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		_ = ws.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			t.Fatalf("flood: %v", err)
		}
	}
	t.Fatal("the server kept reading for 30 s")
}
