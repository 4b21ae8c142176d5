package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/twilsock"
)

// Hostile and broken clients: each must cost the server a bounded amount and
// never stop it from serving others or from stopping.

// A client that upgrades and never sends init is closed at the init timeout
// with 1008 and a reason.
func TestInitTimeoutClosesIdleClient(t *testing.T) {
	ts := startServer(t, Config{InitTimeout: 100 * time.Millisecond})
	c := dial(t, ts.url)
	err := c.ended()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "no init within 100ms") {
		t.Fatalf("got %v, want close 1008 \"no init within 100ms\"", err)
	}
	ts.stop()
	if st := ts.Stats(); st.InitTimeouts != 1 || st.Active != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Answering pings keeps a connection alive, but not one that never inits.
func TestInitTimeoutClosesPingOnlyClient(t *testing.T) {
	ts := startServer(t, Config{InitTimeout: 600 * time.Millisecond, PingInterval: 100 * time.Millisecond})
	c := dial(t, ts.url)
	pings := 0
	c.ws.SetPingHandler(func(data string) error {
		pings++
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	if err := c.ended(); !isCloseCode(err, websocket.ClosePolicyViolation) {
		t.Fatalf("got %v after %d pings answered, want close 1008", err, pings)
	}
	if pings < 2 {
		t.Errorf("%d pings answered before the close; the test wants a client kept alive by pongs", pings)
	}
}

// An init before the deadline disarms it: the connection outlives the
// timeout (a ping received after it proves the time has passed).
func TestInitTimeoutDisarmedByInit(t *testing.T) {
	ts := startServer(t, Config{InitTimeout: 200 * time.Millisecond, PingInterval: 400 * time.Millisecond})
	c, _ := connect(t, ts.url)
	pinged := make(chan struct{}, 1)
	c.ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	// The ping arrives while reading; the connection then ends because this
	// client sends no pong, which is not the init timeout's doing.
	_, err := c.next(ioWait)
	select {
	case <-pinged:
	default:
		t.Fatalf("no ping before the read ended (%v)", err)
	}
	if isCloseCode(err, websocket.ClosePolicyViolation) {
		t.Errorf("an initialised connection was closed for want of init: %v", err)
	}
	ts.stop()
	if st := ts.Stats(); st.InitTimeouts != 0 {
		t.Errorf("stats %+v: an initialised connection was timed out", st)
	}
}

// At the cap, an upgrade is answered 503 with a body that says why, the log
// says so once however many are refused, and the control API still answers.
func TestConnectionCap(t *testing.T) {
	ts := startServer(t, Config{MaxConns: 2})
	dial(t, ts.url) // idle, never inits
	c, _ := connect(t, ts.url)
	for i := range 5 {
		_, resp, err := websocket.DefaultDialer.Dial(ts.url, nil)
		if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("upgrade %d over the cap: %v, want HTTP 503", i+1, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !resp.Close {
			t.Error("a refused upgrade's connection is kept alive, holding a descriptor")
		}
		if !strings.Contains(string(body), "connection limit reached (2 WebSocket connections open)") {
			t.Errorf("503 body %q", body)
		}
	}
	var st Stats
	if code := ts.control(t, "GET", "/control/stats", &st); code != 200 {
		t.Fatalf("control API at the cap: %d", code)
	}
	if st.CapRefused != 5 || st.Refused != 5 || st.Active != 2 {
		t.Errorf("stats %+v", st)
	}
	c.roundTrip() // those admitted are served as ever
	if n := strings.Count(ts.log.String(), "connection cap reached"); n != 1 {
		t.Errorf("%d log lines for 5 refusals, want 1 (rate-limited):\n%s", n, ts.log)
	}
	ts.stop()
	if n := ts.slots.Load(); n != 0 {
		t.Errorf("%d connection slots still taken after every connection closed", n)
	}
}

func TestDefaultMaxConns(t *testing.T) {
	lim := openFileLimit()
	n := DefaultMaxConns()
	if lim > 0 && (n >= lim || n < lim/2) {
		t.Errorf("DefaultMaxConns %d with an open-file limit of %d: want below it, with headroom", n, lim)
	}
	if got := New(Config{}).cfg.MaxConns; got != n {
		t.Errorf("Config{}.MaxConns becomes %d, want DefaultMaxConns %d", got, n)
	}
	if got := New(Config{MaxConns: -1}).cfg.MaxConns; got != 0 {
		t.Errorf("MaxConns -1 becomes %d, want 0 (no cap)", got)
	}
}

// errListener fails every Accept with err.
type errListener struct{ err error }

func (l errListener) Accept() (net.Conn, error) { return nil, l.err }
func (l errListener) Close() error              { return nil }
func (l errListener) Addr() net.Addr            { return &net.TCPAddr{} }

// When accept fails for want of file descriptors, the log says so, what to
// raise, once per window; other accept errors pass through unremarked.
func TestAcceptOutOfFilesLogged(t *testing.T) {
	logs := &testpeer.Buffer{}
	s := New(Config{Logger: debuglog.New(logs, debuglog.Options{Level: slog.LevelDebug}), MaxConns: 100})
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	ln := s.Listener(errListener{emfile})
	for range 3 {
		if _, err := ln.Accept(); !errors.Is(err, syscall.EMFILE) {
			t.Fatalf("Accept: %v, want the EMFILE through", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "out of file descriptors"); n != 1 {
		t.Errorf("%d lines for 3 failed accepts, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "open-file limit (RLIMIT_NOFILE)") || !strings.Contains(out, "max_conns=100") {
		t.Errorf("the line does not say what to raise:\n%s", out)
	}
	other := s.Listener(errListener{net.ErrClosed})
	if _, err := other.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept: %v", err)
	}
	if strings.Count(logs.String(), "accept failed") != 1 {
		t.Errorf("a closed listener was logged as fd exhaustion:\n%s", logs)
	}
}

// An init whose header is over the limit is answered 413 on its id, instead
// of being ignored while the SDK waits 30 s and sends it again, forever.
func TestOversizeInitAnswered(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	huge := mint(t) + strings.Repeat("x", twilsock.MaxHeaderSize) // a token no server would take
	in := twilsock.NewInit(huge, nil, twilsock.Metadata{Ver: "1.0.2", SDK: "JS"}, nil)
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	c.sendRaw(websocket.BinaryMessage, rawFrame(raw))
	r := c.recvMethod(twilsock.MethodReply)
	if r.Header.ID != in.ID || r.Header.Status == nil || r.Header.Status.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("reply %s, want 413 to init %s", r.RawHeader, in.ID)
	}
	if d := r.Header.Status.Description; !strings.Contains(d, "exceeds the limit of 65536 bytes") {
		t.Errorf("description %q does not name the limit", d)
	}
	if strings.Contains(ts.log.String(), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") {
		t.Error("the oversize header reached the log unclipped")
	}
	c.init(mint(t), nil) // the connection serves on: a smaller init is accepted
	ts.stop()
	if st := ts.Stats(); st.Oversized != 1 || st.Inits != 1 {
		t.Errorf("stats %+v", st)
	}
}

// rawFrame wraps a header as Encode would, with no check of its size.
func rawFrame(header []byte) []byte {
	var b bytes.Buffer
	b.WriteString(twilsock.Magic)
	b.WriteString(strconv.Itoa(len(header)))
	b.WriteString("\r\n")
	b.Write(header)
	b.WriteString("\r\n")
	return b.Bytes()
}

// A message over the read limit is closed with 1009 and a reason the client
// can show, not gorilla's bare 1009.
func TestOversizeMessageClosedWithReason(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	_ = c.ws.SetWriteDeadline(time.Now().Add(ioWait))
	_ = c.ws.WriteMessage(websocket.BinaryMessage, make([]byte, MaxMessageSize+1))
	err := c.ended()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig || ce.Text != "message over 262144 bytes" {
		t.Fatalf("got %v, want close 1009 \"message over 262144 bytes\"", err)
	}
}

// Junk at full speed gives the log a bounded number of bounded lines.
func TestIgnoredFramesRateLimited(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	for range 100 {
		c.sendRaw(websocket.TextMessage, []byte(strings.Repeat("junk ", 2000)))
	}
	c.roundTrip() // every junk frame before it has been read
	out := ts.log.String()
	if n := strings.Count(out, "text message ignored"); n != frameLogBurst {
		t.Errorf("%d warnings for 100 junk frames, want %d", n, frameLogBurst)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "text message ignored") && len(line) > 600 {
			t.Errorf("a %d-byte warning: %.120s…", len(line), line)
		}
	}
	ts.stop()
	if st := ts.Stats(); st.TextFrames != 100 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(ts.log.String(), "ignored frames not logged (rate limit) count=90") {
		t.Errorf("Shutdown does not account for the lines left out:\n%s", ts.log)
	}
}

func TestLogBudget(t *testing.T) {
	now := base
	b := newLogBudget(2, time.Second)
	b.now = func() time.Time { return now }
	var got []string
	for i := range 5 {
		ok, missed := b.take()
		got = append(got, fmt.Sprintf("%d:%v/%d", i, ok, missed))
	}
	now = now.Add(time.Second)
	ok, missed := b.take()
	got = append(got, fmt.Sprintf("later:%v/%d", ok, missed))
	want := "0:true/0 1:true/0 2:false/0 3:false/0 4:false/0 later:true/3"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("got %s, want %s", s, want)
	}
	if n := b.drain(); n != 0 {
		t.Errorf("drain %d after the count was reported", n)
	}
}

// flood writes upstream messages as fast as the server takes them and never
// reads, until the server's side is backed up: a write stalls for 100ms. The
// long path makes each reply large, so that the buffers fill quickly.
func flood(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	m := &twilsock.Header{Base: twilsock.Base{ID: "TM1", Method: twilsock.MethodMessage},
		HTTPRequest: &twilsock.HTTPRequest{Host: "aim.us1.twilio.com", Path: "/" + strings.Repeat("p", 8<<10), Method: "GET"}}
	b, err := twilsock.Encode(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = ws.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		if err := ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
			if isTimeout(err) {
				t.Logf("the server stopped reading after %d messages", n)
				return
			}
			t.Fatalf("flood: %v", err)
		}
	}
	t.Fatal("the server kept reading for 30 s")
}

// A client flooding without reading cannot hold Shutdown: it returns nil
// within a second, every goroutine ended.
func TestShutdownWithFloodingClient(t *testing.T) {
	defer goleak.VerifyNone(t)
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	idle := dial(t, ts.url) // a second client, one that never inits nor reads
	_ = idle
	flood(t, c.ws)

	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(context.Background()) }()
	bound := time.NewTimer(time.Second)
	defer bound.Stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown: %v, want nil: a peer that does not answer is not the server's failure", err)
		}
	case <-bound.C:
		t.Fatal("Shutdown did not return within 1s with a flooding client")
	}
	if st := ts.Stats(); st.Active != 0 {
		t.Errorf("%d connections left after Shutdown", st.Active)
	}
	ts.stop()
}

// peekHeader never panics, and agrees with twilsock.Decode on every frame
// Decode accepts.
func FuzzPeekHeader(f *testing.F) {
	f.Add(rawFrame([]byte(`{"id":"TM1","method":"init","token":"x"}`)))
	f.Add([]byte("TWILSOCK V3.0 70000\r\n{}"))
	f.Add([]byte("TWILSOCK V3.0 999999999999\r\n"))
	f.Add([]byte("TWILSOCK V3.0 2\r\n{}\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		method, id, ok := peekHeader(b)
		fr, err := twilsock.Decode(b)
		if err != nil {
			return
		}
		if !ok || method != fr.Header.Method || id != fr.Header.ID {
			t.Errorf("peekHeader %q %q %v, Decode %q %q", method, id, ok, fr.Header.Method, fr.Header.ID)
		}
	})
}

// A crowd of clients that never init cannot flood the log either: the
// per-connection lines any client can cause are rate-limited, and counted.
func TestInitTimeoutCrowdLogsBounded(t *testing.T) {
	ts := startServer(t, Config{InitTimeout: 100 * time.Millisecond})
	const n = clientLogBurst + 5
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = dial(t, ts.url)
	}
	for _, c := range cs {
		if err := c.ended(); !isCloseCode(err, websocket.ClosePolicyViolation) {
			t.Fatalf("got %v, want close 1008", err)
		}
	}
	ts.stop()
	out := ts.log.String()
	if got := strings.Count(out, "no init within the init timeout"); got != clientLogBurst {
		t.Errorf("%d lines for %d init timeouts, want %d", got, n, clientLogBurst)
	}
	if !strings.Contains(out, "not logged (rate limit) count=5") {
		t.Errorf("Shutdown does not account for the lines left out:\n%s", out)
	}
	if st := ts.Stats(); st.InitTimeouts != n {
		t.Errorf("stats %+v", st)
	}
}
