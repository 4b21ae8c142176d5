package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

func TestMain(m *testing.M) {
	// The load and handshake benchmarks run a peer in a child process: the
	// test binary itself, told by the environment which part to play.
	if runChild() {
		return
	}
	goleak.VerifyTestMain(m)
}

const (
	testAccount = "AC0123456789abcdef0123456789abcdef"
	testKey     = "SK0123456789abcdef0123456789abcdef"
	testService = "IS0123456789abcdef0123456789abcdef"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef")
	// base is "now" for the server under test and for the tokens it judges;
	// the clock advances from it in real time, so timers and tokens agree.
	base = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

// clockFrom returns a clock that reads at when called now and advances in real time.
func clockFrom(at time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return at.Add(time.Since(start)) }
}

type tokenOpt func(*inspect.MintOptions)

func ttl(d time.Duration) tokenOpt  { return func(o *inspect.MintOptions) { o.TTL = d } }
func identity(id string) tokenOpt   { return func(o *inspect.MintOptions) { o.Identity = id } }
func mintedAt(t time.Time) tokenOpt { return func(o *inspect.MintOptions) { o.Now = t } }
func signedWith(secret string) tokenOpt {
	return func(o *inspect.MintOptions) { o.Secret = []byte(secret) }
}
func notBefore(t time.Time) tokenOpt { return func(o *inspect.MintOptions) { o.NotBefore = t } }
func syncOnly() tokenOpt {
	return func(o *inspect.MintOptions) { o.ChatServiceSID, o.SyncServiceSID = "", testService }
}

// mint makes a Conversations token for alice, valid for an hour from base,
// signed with testSecret, as Twilio's helper would.
func mint(t testing.TB, opts ...tokenOpt) string {
	t.Helper()
	o := inspect.MintOptions{AccountSID: testAccount, APIKeySID: testKey, Secret: testSecret, Identity: "alice",
		ChatServiceSID: testService, TTL: time.Hour, Now: base}
	for _, f := range opts {
		f(&o)
	}
	tok, err := inspect.Mint(o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// testServer is a Server behind httptest, stopped when the test ends.
type testServer struct {
	*Server
	hs   *httptest.Server
	url  string // ws://127.0.0.1:PORT/v3/wsconnect
	http string // http://127.0.0.1:PORT
	log  *testpeer.Buffer
	stop func() // Shutdown and close; idempotent
}

func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	logs := &testpeer.Buffer{}
	if cfg.Logger == nil {
		cfg.Logger = debuglog.New(logs, debuglog.Options{Level: slog.LevelDebug})
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	if cfg.Clock == nil {
		cfg.Clock = clockFrom(base)
	}
	s := New(cfg)
	hs := httptest.NewServer(s)
	ts := &testServer{Server: s, hs: hs, http: hs.URL, url: "ws" + strings.TrimPrefix(hs.URL, "http") + PathWS, log: logs}
	var once sync.Once
	ts.stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			hs.Close()
		})
	}
	t.Cleanup(func() {
		ts.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return ts
}

// client is a test's end of a WebSocket: the gorilla Dialer, as any Go
// client would use it.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

const ioWait = 5 * time.Second

func dial(t testing.TB, url string) *client {
	t.Helper()
	ws, resp, err := (&websocket.Dialer{HandshakeTimeout: ioWait}).Dial(url, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (c *client) send(m twilsock.Message, payload []byte) {
	c.t.Helper()
	b, err := twilsock.Encode(m, payload)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.BinaryMessage, b)
}

func (c *client) sendRaw(mt int, b []byte) {
	c.t.Helper()
	_ = c.ws.SetWriteDeadline(time.Now().Add(ioWait))
	if err := c.ws.WriteMessage(mt, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// recv reads the next frame, which must come within ioWait and be binary.
func (c *client) recv() *twilsock.Frame {
	c.t.Helper()
	f, err := c.next(ioWait)
	if err != nil {
		c.t.Fatalf("recv: %v", err)
	}
	return f
}

func (c *client) next(wait time.Duration) (*twilsock.Frame, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	mt, b, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	if mt != websocket.BinaryMessage {
		return nil, errors.New("server sent a text message")
	}
	return twilsock.Decode(b)
}

// recvMethod reads the next frame and checks its method.
func (c *client) recvMethod(method string) *twilsock.Frame {
	c.t.Helper()
	f := c.recv()
	if f.Header.Method != method {
		c.t.Fatalf("got %s %s, want %s", f.Header.Method, f.RawHeader, method)
	}
	return f
}

// ended waits for the server to end the connection and returns how it did.
func (c *client) ended() error {
	c.t.Helper()
	for {
		f, err := c.next(ioWait)
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("the server did not end the connection within %v", ioWait)
			}
			return err
		}
		c.t.Logf("(frame before the end: %s)", f.RawHeader)
	}
}

// init sends an init as the Conversations SDK writes it and returns the reply.
func (c *client) init(token string, continuation *string) *twilsock.Frame {
	c.t.Helper()
	md := twilsock.Metadata{Ver: "1.0.2", Env: "Node.js", EnvV: "20.20.2", OS: "Linux", OSV: "unknown", OSA: 64,
		Type: "conversations", SDK: "JS", SDKV: "3.0.1"}
	regs := []twilsock.Registration{{Product: twilsock.ProductConversations, Type: "ers", MessageTypes: []string{
		"twilio.ipmsg.typing_indicator", "twilio.sync.event", "com.twilio.rtd.cds.document", "com.twilio.rtd.cds.list", "com.twilio.rtd.cds.map"}}}
	in := twilsock.NewInit(token, continuation, md, regs)
	c.send(in, nil)
	r := c.recvMethod(twilsock.MethodReply)
	if r.Header.ID != in.ID {
		c.t.Fatalf("reply id %s, want the init's %s", r.Header.ID, in.ID)
	}
	return r
}

// connect dials and initialises with a valid token.
func connect(t testing.TB, url string) (*client, *twilsock.Frame) {
	t.Helper()
	c := dial(t, url)
	r := c.init(mint(t), nil)
	if !r.Header.Status.OK() {
		t.Fatalf("init answered %+v", r.Header.Status)
	}
	return c, r
}

// hangUp closes the WebSocket as a well-behaved client does: close frame, then TCP.
func (c *client) hangUp() {
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// ack acknowledges a pushed frame, as the SDK does.
func (c *client) ack(f *twilsock.Frame) { c.send(twilsock.NewAck(f.Header.ID), nil) }

// roundTrip sends an upstream message and returns its reply. Because the
// server writes in order, a reply that comes next proves nothing else was
// sent before it.
func (c *client) roundTrip() *twilsock.Frame {
	c.t.Helper()
	m := &twilsock.Header{Base: twilsock.Base{ID: twilsock.NewID(), Method: twilsock.MethodMessage, PayloadType: "application/json; charset=utf-8"},
		ActiveGrant: "ip_messaging", HTTPRequest: &twilsock.HTTPRequest{Host: "aim.us1.twilio.com", Path: "/Client/v2/Configuration", Method: "GET",
			Params: map[string]any{}, Headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}}
	c.send(m, nil)
	r := c.recv()
	if r.Header.Method != twilsock.MethodReply || r.Header.ID != m.ID {
		c.t.Fatalf("want the reply to message %s, got %s", m.ID, r.RawHeader)
	}
	return r
}

// control calls the control API and decodes its JSON answer into v (if not nil).
func (ts *testServer) control(t testing.TB, method, path string, v any) int {
	t.Helper()
	req, err := http.NewRequest(method, ts.http+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

func isCloseCode(err error, code int) bool {
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == code
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
