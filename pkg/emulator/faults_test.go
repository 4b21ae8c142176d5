package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/convctl/convctl/pkg/twilsock"
)

func TestRefuseUpgrades(t *testing.T) {
	ts := startServer(t, Config{RefuseUpgrades: 2})
	for i := range 2 {
		_, resp, err := websocket.DefaultDialer.Dial(ts.url, nil)
		if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("upgrade %d: %v, want HTTP 503", i+1, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The library names its faults; flags are the CLI's words.
		if want := fmt.Sprintf("upgrade refused (fault refuse-upgrades, %d of 2)", i+1); !strings.Contains(string(body), want) || strings.Contains(string(body), "--") {
			t.Errorf("503 body %q, want %q and no flag", body, want)
		}
	}
	c, _ := connect(t, ts.url) // the third is served
	c.roundTrip()
	c.hangUp()
	ts.stop()
	if st := ts.Stats(); st.Refused != 2 || st.Upgrades != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestInitDelay(t *testing.T) {
	ts := startServer(t, Config{InitDelay: 120 * time.Millisecond})
	c := dial(t, ts.url)
	start := time.Now()
	c.init(mint(t), nil)
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Errorf("init answered after %v, before the 120ms delay", el)
	}
	var list struct{ Connections []ConnInfo }
	ts.control(t, "GET", "/control/connections", &list)
	if list.Connections[0].State != "connected" {
		t.Errorf("state %s", list.Connections[0].State)
	}
}

// Shutdown during a delayed init does not wait out the delay.
func TestInitDelayInterruptedByShutdown(t *testing.T) {
	ts := startServer(t, Config{InitDelay: time.Hour})
	c := dial(t, ts.url)
	c.send(twilsock.NewInit(mint(t), nil, twilsock.Metadata{}, nil), nil)
	var list struct{ Connections []ConnInfo }
	for list.Connections == nil || list.Connections[0].State != "initialising" {
		ts.control(t, "GET", "/control/connections", &list) // until the server has the init
	}
	ts.stop()
	if err := c.ended(); !isCloseCode(err, websocket.CloseGoingAway) {
		t.Errorf("got %v, want close 1001", err)
	}
}

// The first initialised connection is cut without a close frame of any kind;
// the client reconnects and finds a healthy server.
func TestDropAfter(t *testing.T) {
	ts := startServer(t, Config{DropAfter: 50 * time.Millisecond})
	c, r := connect(t, ts.url)
	// gorilla reports a connection that ended without a close frame as 1006.
	if err := c.ended(); !isCloseCode(err, websocket.CloseAbnormalClosure) {
		t.Fatalf("got %v, want the TCP connection cut with no close frame (1006)", err)
	}
	ct := *r.Header.ContinuationToken
	c2 := dial(t, ts.url)
	r2 := c2.init(mint(t), &ct)
	if !r2.Header.ContinuationTokenStatus.Reused {
		t.Errorf("reconnect after a drop did not resume: %s", r2.RawHeader)
	}
	// Once per server: the second connection outlives the first's fault.
	if _, err := c2.next(200 * time.Millisecond); !isTimeout(err) {
		t.Errorf("second connection: %v, want nothing for 200ms", err)
	}
	c2.hangUp()
	ts.stop()
	if st := ts.Stats(); st.Drops != 1 || st.Inits != 2 {
		t.Errorf("stats %+v", st)
	}
	if log := ts.log.String(); !strings.Contains(log, `why="fault drop-after 50ms"`) || strings.Contains(log, "--") {
		t.Errorf("the log does not name the fault, or names a flag:\n%s", log)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestOffloadAfter(t *testing.T) {
	ts := startServer(t, Config{OffloadAfter: 50 * time.Millisecond, OffloadBackoff: 1234 * time.Millisecond})
	c, r := connect(t, ts.url)
	cl := c.recvMethod("close")
	if *cl.Header.Status != (twilsock.Status{Code: 308, Status: "Permanent Redirect"}) || cl.Header.PayloadType != "application/json" {
		t.Errorf("close %s", cl.RawHeader)
	}
	var p twilsock.ClosePayload
	if err := json.Unmarshal(cl.Payload, &p); err != nil || p.BackoffPolicy == nil || p.BackoffPolicy.ReconnectMinMS != 1234 {
		t.Errorf("payload %s: %v", cl.Payload, err)
	}
	c.ack(cl)
	_ = c.ws.Close() // the SDK closes the socket itself

	ct := *r.Header.ContinuationToken
	c2 := dial(t, ts.url)
	if r2 := c2.init(mint(t), &ct); *r2.Header.ContinuationToken != ct {
		t.Errorf("reconnect after offload: %s", r2.RawHeader)
	}
	if _, err := c2.next(200 * time.Millisecond); !isTimeout(err) {
		t.Errorf("second connection: %v, want no second offload", err)
	}
	c2.hangUp()
	ts.stop()
	if st := ts.Stats(); st.Offloads != 1 || st.Acks != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A client that ignores a server close is closed after CloseGrace.
func TestServerCloseGrace(t *testing.T) {
	ts := startServer(t, Config{OffloadAfter: time.Millisecond, CloseGrace: 50 * time.Millisecond})
	c, _ := connect(t, ts.url)
	c.recvMethod("close")
	if err := c.ended(); !isCloseCode(err, websocket.CloseNormalClosure) {
		t.Errorf("got %v, want close 1000 after the grace period", err)
	}
}

func TestControlAPI(t *testing.T) {
	ts := startServer(t, Config{})
	a, ra := connect(t, ts.url)
	b, _ := connect(t, ts.url)
	// The upgrade's answer reaches the client before the server files the
	// connection: wait for its "opened" event, not for the dial.
	es := ts.events(t, nil)
	idle := dial(t, ts.url) // upgraded, no init
	_ = idle
	for ev := es.next(); ev["event"] != EventOpened || ev["id"] != "c3"; ev = es.next() {
	}

	var list struct{ Connections []ConnInfo }
	if code := ts.control(t, "GET", "/control/connections", &list); code != 200 || len(list.Connections) != 3 {
		t.Fatalf("list: %d %+v", code, list)
	}
	c1 := list.Connections[0]
	if c1.ID != "c1" || c1.State != "connected" || c1.Identity != "alice" || c1.ConnectedAt == nil ||
		!c1.TokenExpiresAt.Equal(base.Add(time.Hour)) || !c1.AboutToExpireAt.Equal(base.Add(time.Hour-3*time.Minute)) ||
		c1.ContinuationToken != *ra.Header.ContinuationToken || !strings.HasPrefix(c1.Remote, "127.0.0.1:") {
		t.Errorf("c1 %+v", c1)
	}
	if c3 := list.Connections[2]; c3.ID != "c3" || c3.State != "open" || c3.TokenExpiresAt != nil || c3.ConnectedAt != nil {
		t.Errorf("c3 %+v", c3)
	}
	var one ConnInfo
	if code := ts.control(t, "GET", "/control/connections/c2", &one); code != 200 || one.ID != "c2" {
		t.Errorf("get c2: %d %+v", code, one)
	}

	var res struct {
		Connections []string
		Error       string
	}
	// about-to-expire on one, then on all connected.
	if code := ts.control(t, "POST", "/control/connections/c1/about-to-expire", &res); code != 200 || len(res.Connections) != 1 {
		t.Errorf("about-to-expire c1: %d %+v", code, res)
	}
	a.ack(a.recvMethod("client_update"))
	if code := ts.control(t, "POST", "/control/connections/all/about-to-expire", &res); code != 200 || strings.Join(res.Connections, ",") != "c1,c2" {
		t.Errorf("about-to-expire all: %d %+v", code, res)
	}
	a.recvMethod("client_update")
	b.recvMethod("client_update")
	// Not for a connection that is not initialised.
	if code := ts.control(t, "POST", "/control/connections/c3/about-to-expire", &res); code != 409 || !strings.Contains(res.Error, "c3 is open") {
		t.Errorf("about-to-expire c3: %d %+v", code, res)
	}

	// Bad requests.
	for path, want := range map[string]int{
		"/control/connections/c9/about-to-expire":              404,
		"/control/connections/zz/drop":                         404,
		"/control/connections/c1/close?code=abc":               400,
		"/control/connections/c1/close?code=200":               400,
		"/control/connections/c1/close?code=308&backoff_ms=-1": 400,
		"/control/connections/c1/close?error_code=x":           400,
		"/control/connections/c1/frobnicate":                   404,
	} {
		res.Error = ""
		if code := ts.control(t, "POST", path, &res); code != want || res.Error == "" {
			t.Errorf("POST %s: %d %q, want %d and an error", path, code, res.Error, want)
		}
	}
	if code := ts.control(t, "GET", "/control/connections/c9", &res); code != 404 {
		t.Errorf("GET c9: %d", code)
	}

	// close 308 with a backoff, close 401 with an error code.
	ts.control(t, "POST", "/control/connections/c1/close?code=308&backoff_ms=250", &res)
	cl := a.recvMethod("close")
	var p twilsock.ClosePayload
	_ = json.Unmarshal(cl.Payload, &p)
	if cl.Header.Status.Code != 308 || p.BackoffPolicy == nil || p.BackoffPolicy.ReconnectMinMS != 250 {
		t.Errorf("close 308: %s %s", cl.RawHeader, cl.Payload)
	}
	ts.control(t, "POST", "/control/connections/c2/close?code=401&error_code=20151", &res)
	cl = b.recvMethod("close")
	if *cl.Header.Status != (twilsock.Status{Code: 401, Status: "Unauthorized", ErrorCode: 20151, Description: "Authentication Failed"}) {
		t.Errorf("close 401: %s", cl.RawHeader)
	}
	// A closing connection takes no second close.
	if code := ts.control(t, "POST", "/control/connections/c2/close", &res); code != 409 {
		t.Errorf("second close: %d", code)
	}
	// drop cuts the idle one.
	if code := ts.control(t, "POST", "/control/connections/c3/drop", &res); code != 200 || res.Connections[0] != "c3" {
		t.Errorf("drop: %d %+v", code, res)
	}
	if err := idle.ended(); !isCloseCode(err, websocket.CloseAbnormalClosure) {
		t.Errorf("dropped connection got a close frame: %v", err)
	}

	var st Stats
	if code := ts.control(t, "GET", "/control/stats", &st); code != 200 || st.Upgrades != 3 || st.AboutToExpire != 3 || st.ServerCloses != 2 || st.Drops != 1 {
		t.Errorf("stats: %d %+v", code, st)
	}
	if code := ts.control(t, "GET", "/control/nope", &res); code != 404 {
		t.Errorf("unknown endpoint: %d", code)
	}
}

func TestControlClose410(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	var res struct{ Connections []string }
	ts.control(t, "POST", "/control/connections/all/close?code=410", &res)
	cl := c.recvMethod("close")
	if *cl.Header.Status != twilsock.CloseStatus(410) {
		t.Errorf("close %s", cl.RawHeader)
	}
	c.ack(cl)
}

// Shutdown: the connected client gets a Twilsock close 308 then a WebSocket
// close 1001; one that never sent init gets the 1001; later upgrades get 503;
// no goroutine survives.
func TestShutdown(t *testing.T) {
	defer goleak.VerifyNone(t)
	ts := startServer(t, Config{OffloadBackoff: 777 * time.Millisecond})
	connected, _ := connect(t, ts.url)
	open := dial(t, ts.url)

	ctx := ctxTimeout(t, 10*time.Second)
	done := make(chan error, 1)
	go func() { done <- ts.Shutdown(ctx) }()

	cl := connected.recvMethod("close")
	var p twilsock.ClosePayload
	_ = json.Unmarshal(cl.Payload, &p)
	if cl.Header.Status.Code != 308 || cl.Header.Status.Description != "server shutting down" || p.BackoffPolicy.ReconnectMinMS != 777 {
		t.Errorf("close %s %s", cl.RawHeader, cl.Payload)
	}
	if err := connected.ended(); !isCloseCode(err, websocket.CloseGoingAway) {
		t.Errorf("connected: %v, want close 1001", err)
	}
	if err := open.ended(); !isCloseCode(err, websocket.CloseGoingAway) {
		t.Errorf("open: %v, want close 1001", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	_, resp, err := websocket.DefaultDialer.Dial(ts.url, nil)
	if err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("upgrade after Shutdown: %v", err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	if st := ts.Stats(); st.Active != 0 || st.Connected != 0 || st.Offloads != 0 || st.ServerCloses != 1 {
		t.Errorf("stats %+v", st)
	}
	ts.stop()
}

// A peer that never answers the close frame cannot hold Shutdown past its
// context: the connection is cut and Shutdown returns the context's error.
func TestShutdownDeadline(t *testing.T) {
	defer goleak.VerifyNone(t)
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	_ = c // never reads again, so never answers the close frame
	ctx := ctxTimeout(t, 100*time.Millisecond)
	start := time.Now()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want the context's deadline", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Shutdown took %v with a 100ms context", el)
	}
	if ts.Stats().Active != 0 {
		t.Error("connections left after Shutdown")
	}
	ts.stop()
}

// No goroutine outlives a closed connection, while the server runs on.
func TestNoGoroutineOutlivesAConnection(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url) // warms up whatever the runtime starts once
	c.send(twilsock.NewClientClose(), nil)
	c.ended()
	ignore := goleak.IgnoreCurrent()
	for range 5 {
		c, _ := connect(t, ts.url)
		c.roundTrip()
		c.send(twilsock.NewClientClose(), nil)
		c.ended()
		_ = c.ws.Close()
	}
	d := dial(t, ts.url)
	_ = d.ws.NetConn().Close() // vanishes without a word
	goleak.VerifyNone(t, ignore)
}
