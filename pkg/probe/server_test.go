package probe

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/twilsock"
)

// This file is a scripted Twilsock server for the edge cases a real server
// (pkg/emulator) does not produce on demand: 429, 406, text frames, garbage.
// Each connection runs the script for its index (the last one repeats).

var testSecret = []byte("0123456789abcdef0123456789abcdef")

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testKey     = "SK0123456789abcdef0123456789abcdef"
	testService = "IS0123456789abcdef0123456789abcdef"
)

// mintToken writes a Conversations token as Twilio's helpers do; ttl may be
// negative for one that has already expired.
func mintToken(t testing.TB, secret []byte, ttl time.Duration, region string) string {
	t.Helper()
	iat := time.Now()
	if ttl < 0 {
		// Issued an hour before it expired, as a stale token usually is.
		iat = iat.Add(ttl - time.Hour)
	}
	return mintTokenAt(t, secret, iat, time.Now().Add(ttl), region)
}

func mintTokenAt(t testing.TB, secret []byte, iat, exp time.Time, region string) string {
	t.Helper()
	claims := jwt.MapClaims{
		"jti":    fmt.Sprintf("%s-%d", testKey, iat.Unix()),
		"iss":    testKey,
		"sub":    testAccount,
		"iat":    iat.Unix(),
		"exp":    exp.Unix(),
		"grants": map[string]any{"identity": "alice", "chat": map[string]any{"service_sid": testService}},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["cty"] = "twilio-fpa;v=1"
	if region != "" {
		tok.Header["twr"] = region
	}
	s, err := tok.SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type srvConn struct {
	t  testing.TB
	n  int
	ws *websocket.Conn

	mu     sync.Mutex
	frames []*twilsock.Frame
}

type fakeServer struct {
	t        testing.TB
	srv      *httptest.Server
	URL      string
	refuse   atomic.Int32 // answer this many more upgrades with 503
	upgrades atomic.Int32
	scripts  []func(*srvConn)

	mu    sync.Mutex
	conns []*srvConn
	wg    sync.WaitGroup
}

func newFakeServer(t testing.TB, scripts ...func(*srvConn)) *fakeServer {
	return startFakeServer(t, false, scripts)
}

// newFakeTLSServer is newFakeServer behind TLS (wss://), with httptest's
// self-signed certificate.
func newFakeTLSServer(t testing.TB, scripts ...func(*srvConn)) *fakeServer {
	return startFakeServer(t, true, scripts)
}

func startFakeServer(t testing.TB, useTLS bool, scripts []func(*srvConn)) *fakeServer {
	fs := &fakeServer{t: t, scripts: scripts}
	up := websocket.Upgrader{}
	fs.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v3/wsconnect" {
			http.NotFound(w, req)
			return
		}
		fs.upgrades.Add(1)
		if fs.refuse.Load() > 0 {
			fs.refuse.Add(-1)
			http.Error(w, "refused by test", http.StatusServiceUnavailable)
			return
		}
		// Twilio's front ends send Date; gorilla's Upgrader writes none of its own.
		ws, err := up.Upgrade(w, req, http.Header{"Date": {time.Now().UTC().Format(http.TimeFormat)}})
		if err != nil {
			return
		}
		fs.mu.Lock()
		c := &srvConn{t: t, n: len(fs.conns), ws: ws}
		fs.conns = append(fs.conns, c)
		script := fs.scripts[min(c.n, len(fs.scripts)-1)]
		fs.wg.Add(1)
		fs.mu.Unlock()
		defer fs.wg.Done()
		defer ws.Close()
		script(c)
	}))
	if useTLS {
		fs.srv.StartTLS()
	} else {
		fs.srv.Start()
	}
	fs.URL = "ws" + strings.TrimPrefix(fs.srv.URL, "http") + "/v3/wsconnect"
	t.Cleanup(fs.close)
	return fs
}

func (fs *fakeServer) close() {
	fs.mu.Lock()
	for _, c := range fs.conns {
		c.ws.NetConn().Close()
	}
	fs.mu.Unlock()
	fs.wg.Wait()
	fs.srv.Close()
}

// conn returns the i-th connection.
func (fs *fakeServer) conn(i int) *srvConn {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if i >= len(fs.conns) {
		fs.t.Fatalf("server saw %d connections, want at least %d", len(fs.conns), i+1)
	}
	return fs.conns[i]
}

// read returns the next frame, or nil when the client is gone.
func (c *srvConn) read() *twilsock.Frame {
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		typ, b, err := c.ws.ReadMessage()
		if err != nil {
			return nil
		}
		if typ != websocket.BinaryMessage {
			c.t.Errorf("client sent a non-binary message: %q", b)
			continue
		}
		f, err := twilsock.Decode(b)
		if err != nil {
			c.t.Errorf("client sent a bad frame: %v", err)
			return nil
		}
		c.mu.Lock()
		c.frames = append(c.frames, f)
		c.mu.Unlock()
		return f
	}
}

// expect reads until a frame of this method, skipping telemetry.
func (c *srvConn) expect(method string) *twilsock.Frame {
	for {
		f := c.read()
		if f == nil {
			c.t.Errorf("conn %d: client went away waiting for %s", c.n, method)
			return nil
		}
		if f.Header.Method == twilsock.MethodTelemetry {
			continue
		}
		if f.Header.Method != method {
			c.t.Errorf("conn %d: got %s, want %s", c.n, f.Header.Method, method)
		}
		return f
	}
}

func (c *srvConn) send(h twilsock.Message, payload []byte) {
	b, err := twilsock.Encode(h, payload)
	if err != nil {
		c.t.Errorf("encode: %v", err)
		return
	}
	_ = c.ws.WriteMessage(websocket.BinaryMessage, b)
}

// drain reads until the client closes.
func (c *srvConn) drain() {
	for c.read() != nil {
	}
}

func (c *srvConn) methods() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, f := range c.frames {
		out = append(out, f.Header.Method)
	}
	return out
}

func (c *srvConn) frame(method string) *twilsock.Frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.frames {
		if f.Header.Method == method {
			return f
		}
	}
	return nil
}

// initOK answers the init with 200 and a continuation token naming the connection.
func initOK(c *srvConn) *twilsock.Frame {
	f := c.expect(twilsock.MethodInit)
	if f == nil {
		return nil
	}
	ct := "CT-" + string(rune('a'+c.n))
	h := twilsock.NewReply(f.Header.ID, twilsock.OKStatus())
	h.ContinuationToken = &ct
	h.Capabilities = twilsock.DefaultCapabilities
	c.send(h, nil)
	return f
}

func scriptOK(c *srvConn) {
	if initOK(c) != nil {
		c.drain()
	}
}

func scriptDeny(code int) func(*srvConn) {
	return func(c *srvConn) {
		f := c.expect(twilsock.MethodInit)
		if f == nil {
			return
		}
		c.send(twilsock.NewReply(f.Header.ID, twilsock.DenyStatus(code)), nil)
		c.drain()
	}
}

// scriptClose answers init, then pushes a close with this status and policy.
func scriptClose(st twilsock.Status, policy *twilsock.BackoffPolicy) func(*srvConn) {
	return func(c *srvConn) {
		if initOK(c) == nil {
			return
		}
		h, p, err := twilsock.NewServerClose(st, policy)
		if err != nil {
			c.t.Error(err)
			return
		}
		c.send(h, p)
		c.drain()
	}
}

// scriptDrop answers init, then cuts the TCP connection without a close frame.
func scriptDrop(c *srvConn) {
	if initOK(c) == nil {
		return
	}
	c.ws.NetConn().Close()
}

// scriptSilent never answers init.
func scriptSilent(c *srvConn) { c.drain() }

func jsonPayload(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func twilsockReplyOK(id string) *twilsock.Header { return twilsock.NewReply(id, twilsock.OKStatus()) }
