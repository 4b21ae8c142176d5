package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/twilsock"
)

var ctRE = regexp.MustCompile(`^CT-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// The init reply carries every field the SDK reads, shaped as in the transcript.
func TestInitReply(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	r := c.init(mint(t), nil)
	h := r.Header
	if h.Status == nil || h.Status.Code != 200 || h.Status.Status != "OK" || h.PayloadType != "application/json" || r.Payload != nil {
		t.Errorf("status %+v payload_type %q payload %q", h.Status, h.PayloadType, r.Payload)
	}
	if h.ContinuationToken == nil || !ctRE.MatchString(*h.ContinuationToken) {
		t.Errorf("continuation_token %v is not CT-<uuid>", h.ContinuationToken)
	}
	if s := h.ContinuationTokenStatus; s == nil || s.Reused || s.Restored || s.Invalid || s.Expired || s.RestoreError != nil {
		t.Errorf("continuation_token_status %+v on a first connection", s)
	}
	if !slices.Equal(h.Capabilities, []string{"client_update", "offline_storage", "telemetry.v1"}) {
		t.Errorf("capabilities %v", h.Capabilities)
	}
	if id := h.OfflineStorage["ip_messaging"].StorageID; !strings.HasPrefix(id, "ST") || len(id) != 34 {
		t.Errorf("offline_storage %+v", h.OfflineStorage)
	}
	if len(h.InitRegistrations) != 1 || h.InitRegistrations[0].Product != "ip_messaging" || len(h.InitRegistrations[0].MessageTypes) != 5 {
		t.Errorf("init_registrations %+v, want the init's registrations echoed", h.InitRegistrations)
	}
	var dbg struct {
		Host string `json:"host"`
		Conn int    `json:"conn"`
	}
	if err := json.Unmarshal(h.DebugInfo, &dbg); err != nil || dbg.Conn != 1 || dbg.Host != "convctl-emulator" {
		t.Errorf("debug_info %s", h.DebugInfo)
	}
	// The same identity gets the same storage on another connection; another identity another.
	c2 := dial(t, ts.url)
	r2 := c2.init(mint(t), nil)
	c3 := dial(t, ts.url)
	r3 := c3.init(mint(t, identity("bob")), nil)
	if a, b := r2.Header.OfflineStorage["ip_messaging"], h.OfflineStorage["ip_messaging"]; a != b {
		t.Errorf("alice's storage differs between connections: %v %v", a, b)
	}
	if r3.Header.OfflineStorage["ip_messaging"] == h.OfflineStorage["ip_messaging"] {
		t.Error("bob got alice's storage")
	}
	if *r2.Header.ContinuationToken == *h.ContinuationToken {
		t.Error("two connections got the same continuation token")
	}
}

// The plain TwilsockClient registers nothing: init_registrations is [] (not
// absent), and only the capabilities it asked for are confirmed.
func TestInitReplyPlainClient(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	in := twilsock.NewInit(mint(t), nil, twilsock.Metadata{Ver: "1.0.2", SDK: "js-default"}, nil)
	in.Capabilities = []string{"client_update", "frobnicate"}
	c.send(in, nil)
	r := c.recvMethod("reply")
	if !strings.Contains(string(r.RawHeader), `"init_registrations":[]`) {
		t.Errorf("init_registrations not [] in %s", r.RawHeader)
	}
	if !slices.Equal(r.Header.Capabilities, []string{"client_update"}) {
		t.Errorf("capabilities %v, want only what the client asked for and the server has", r.Header.Capabilities)
	}
}

// Telemetry and acks are accepted silently: the next thing the client hears
// is the answer to its next request.
func TestTelemetryAndAcksAreNotAnswered(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	c.send(&twilsock.Header{Base: twilsock.Base{ID: twilsock.NewID(), Method: twilsock.MethodTelemetry},
		Events: []twilsock.TelemetryEvent{{Start: -52, End: 0, Title: "Establish WebSocket connection"}}}, nil)
	c.send(twilsock.NewAck("TM04737660235f408d97d2954af4baa01d"), nil)
	c.roundTrip()
	c.hangUp()
	ts.stop()
	st := ts.Stats()
	if st.Telemetry != 1 || st.Acks != 1 || st.Messages != 1 || st.Ignored != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestInitDenied(t *testing.T) {
	tests := []struct {
		name  string
		token func(t *testing.T) string
		code  int
		desc  string
	}{
		{"bad signature", func(t *testing.T) string { return mint(t, signedWith("another secret entirely")) }, 20107, "Invalid Access Token signature"},
		{"expired", func(t *testing.T) string { return mint(t, mintedAt(base.Add(-2*time.Hour))) }, 20104, "Access Token expired or expiration date invalid"},
		{"not yet valid", func(t *testing.T) string {
			return mint(t, mintedAt(base), notBefore(base.Add(30*time.Minute)))
		}, 20105, "Access Token not yet valid"},
		{"not a JWT", func(*testing.T) string { return "not-a-token" }, 20101, "Invalid Access Token"},
		{"no chat grant", func(t *testing.T) string { return mint(t, syncOnly()) }, 20106, "Invalid Access Token grants"},
		{"empty token", func(*testing.T) string { return "" }, 20101, "Invalid Access Token"},
	}
	ts := startServer(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ts.url)
			r := c.init(tt.token(t), nil)
			want := twilsock.Status{Code: 401, Status: "Unauthorized", ErrorCode: tt.code, Description: tt.desc}
			if r.Header.Status == nil || *r.Header.Status != want {
				t.Fatalf("status %+v, want %+v", r.Header.Status, want)
			}
			if r.Header.ContinuationToken != nil || r.Header.Capabilities != nil {
				t.Errorf("a denial carries session fields: %s", r.RawHeader)
			}
			// As the SDK does: close, then the server closes the socket.
			c.send(twilsock.NewClientClose(), nil)
			if err := c.ended(); !isCloseCode(err, websocket.CloseNormalClosure) {
				t.Errorf("after the client's close: %v, want a WebSocket close 1000", err)
			}
		})
	}
	ts.stop()
	if st := ts.Stats(); st.Denied != int64(len(tests)) || st.Inits != 0 || st.ClientCloses != int64(len(tests)) {
		t.Errorf("stats %+v", st)
	}
	if strings.Contains(ts.log.String(), string(testSecret)) {
		t.Error("the secret appears in the log")
	}
}

func TestDenyFault(t *testing.T) {
	ts := startServer(t, Config{Deny: 20151})
	c := dial(t, ts.url)
	r := c.init(mint(t), nil)
	if s := r.Header.Status; s.Code != 401 || s.ErrorCode != 20151 || s.Description != "Authentication Failed" {
		t.Errorf("status %+v", s)
	}
}

// A client that is denied but never closes is closed by the server after CloseGrace.
func TestDeniedClientThatStaysIsClosed(t *testing.T) {
	ts := startServer(t, Config{Deny: 20107, CloseGrace: 50 * time.Millisecond})
	c := dial(t, ts.url)
	c.init(mint(t), nil)
	if err := c.ended(); !isCloseCode(err, websocket.CloseNormalClosure) {
		t.Errorf("got %v, want the server's close 1000 after the grace period", err)
	}
}

func TestContinuationToken(t *testing.T) {
	ts := startServer(t, Config{})
	c, r := connect(t, ts.url)
	ct := *r.Header.ContinuationToken
	c.send(twilsock.NewClientClose(), nil)
	c.ended()

	// A reconnect presenting the token resumes the session.
	c2 := dial(t, ts.url)
	r2 := c2.init(mint(t), &ct)
	if got := r2.Header.ContinuationToken; got == nil || *got != ct {
		t.Errorf("continuation_token %v, want %s back", got, ct)
	}
	if s := r2.Header.ContinuationTokenStatus; !s.Reused || !s.Restored || s.Invalid || s.RestoreError != nil {
		t.Errorf("status %+v, want reused and restored", s)
	}

	for _, tc := range []struct {
		name, ct, identity, why string
	}{
		{"unknown", "CT-00000000-0000-4000-8000-000000000000", "alice", "unknown continuation token"},
		{"another identity's", ct, "mallory", "continuation token belongs to another identity"},
	} {
		c := dial(t, ts.url)
		r := c.init(mint(t, identity(tc.identity)), &tc.ct)
		got := r.Header.ContinuationToken
		s := r.Header.ContinuationTokenStatus
		if !r.Header.Status.OK() || got == nil || *got == tc.ct || !ctRE.MatchString(*got) {
			t.Errorf("%s: status %+v token %v, want a fresh one", tc.name, r.Header.Status, got)
		}
		if !s.Invalid || s.Reused || s.RestoreError == nil || *s.RestoreError != tc.why {
			t.Errorf("%s: continuation_token_status %+v", tc.name, s)
		}
	}
}

func TestUpstreamMessage(t *testing.T) {
	for _, tc := range []struct {
		status   int
		text     string
		twilioCo int
	}{{0, "Not Found", 20404}, {503, "Service Unavailable", 20503}} {
		ts := startServer(t, Config{UpstreamStatus: tc.status})
		c, _ := connect(t, ts.url)
		r := c.roundTrip()
		want := tc.status
		if want == 0 {
			want = 404
		}
		h := r.Header
		if !h.Status.OK() || h.HTTPStatus == nil || *h.HTTPStatus != (twilsock.HTTPStatus{Code: want, Status: tc.text}) ||
			h.HTTPHeaders["Content-Type"] != "application/json" || h.PayloadType != "application/json" {
			t.Errorf("reply %s", r.RawHeader)
		}
		var body twilsock.RESTError
		if err := json.Unmarshal(r.Payload, &body); err != nil {
			t.Fatal(err)
		}
		if body.Status != want || body.Code != tc.twilioCo || body.MoreInfo == "" ||
			body.Message != "convctl emulator: no upstream for GET aim.us1.twilio.com/Client/v2/Configuration" {
			t.Errorf("body %+v", body)
		}
	}
}

// A message before init is refused with 400, as an update is: the SDK holds
// its requests until init is answered, and the server never serves a
// connection that has not authenticated.
func TestUpstreamMessageBeforeInit(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	r := c.roundTrip()
	if st := r.Header.Status; st == nil || st.Code != 400 || r.Header.HTTPStatus != nil {
		t.Errorf("reply %s, want a 400 status and no http_status", r.RawHeader)
	}
	ts.stop()
	if st := ts.Stats(); st.Messages != 0 {
		t.Errorf("stats %+v: a message before init was served", st)
	}
}

func TestUpdate(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	u := twilsock.NewUpdate(mint(t, ttl(2*time.Hour)))
	c.send(u, nil)
	r := c.recvMethod("reply")
	if r.Header.ID != u.ID || *r.Header.Status != twilsock.OKStatus() || r.Header.ContinuationToken != nil {
		t.Errorf("update reply %s", r.RawHeader)
	}
	var list struct{ Connections []ConnInfo }
	ts.control(t, "GET", "/control/connections", &list)
	if len(list.Connections) != 1 || !list.Connections[0].TokenExpiresAt.Equal(base.Add(2*time.Hour)) {
		t.Errorf("after update the server holds %+v, want the new token's expiry", list.Connections)
	}

	bad := twilsock.NewUpdate(mint(t, signedWith("wrong secret, wrong secret")))
	c.send(bad, nil)
	r = c.recvMethod("reply")
	if s := r.Header.Status; r.Header.ID != bad.ID || s.Code != 401 || s.ErrorCode != 20107 {
		t.Errorf("bad update answered %s", r.RawHeader)
	}
	ts.control(t, "GET", "/control/connections", &list)
	if list.Connections[0].State != "denied" {
		t.Errorf("state after a denied update: %s", list.Connections[0].State)
	}
	// An update on a connection that is not connected is a client bug: 400.
	again := twilsock.NewUpdate(mint(t))
	c.send(again, nil)
	if r := c.recvMethod("reply"); r.Header.Status.Code != 400 || r.Header.ID != again.ID {
		t.Errorf("update while denied: %s", r.RawHeader)
	}
	c.hangUp()
	ts.stop()
	if st := ts.Stats(); st.Updates != 1 || st.Denied != 1 {
		t.Errorf("stats %+v", st)
	}
}

// The token enters its final window: client_update token_about_to_expire;
// it expires: close 410 as the SDK expects, and the client's ack and close
// end the connection.
func TestAboutToExpireThenExpiry(t *testing.T) {
	tok := mint(t, ttl(time.Hour))
	exp := base.Add(time.Hour)
	// The server's clock stands 300 ms before exp; the window is 150 ms.
	// The stopwatch starts before that clock does: timed from after the
	// dial instead, a slow dial (a loaded machine) made the timers look early.
	start := time.Now()
	ts := startServer(t, Config{Clock: clockFrom(exp.Add(-300 * time.Millisecond)), AboutToExpire: 150 * time.Millisecond})
	c := dial(t, ts.url)
	if r := c.init(tok, nil); !r.Header.Status.OK() {
		t.Fatalf("init: %s", r.RawHeader)
	}
	u := c.recvMethod("client_update")
	atU := time.Since(start)
	if u.Header.ClientUpdateType != "token_about_to_expire" || !strings.HasPrefix(u.Header.ID, "TM") {
		t.Errorf("client_update %s", u.RawHeader)
	}
	c.ack(u)
	cl := c.recvMethod("close")
	atC := time.Since(start)
	want := twilsock.Status{Code: 410, Status: "Token expired", ErrorCode: 20104, Description: "Access Token expired or expiration date invalid"}
	if *cl.Header.Status != want || cl.Payload != nil {
		t.Errorf("close %s", cl.RawHeader)
	}
	// Lower bounds only: the timers must not fire early.
	if atU < 150*time.Millisecond || atC < 300*time.Millisecond {
		t.Errorf("client_update after %v (want >= 150ms), close after %v (want >= 300ms)", atU, atC)
	}
	c.ack(cl)
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNoStatusReceived, ""), time.Now().Add(time.Second))
	c.ended()
	ts.stop()
	if st := ts.Stats(); st.AboutToExpire != 1 || st.Expired != 1 || st.ServerCloses != 1 || st.Acks != 2 {
		t.Errorf("stats %+v", st)
	}
}

// A token already inside the window gets its client_update right after the
// init reply.
func TestAboutToExpireAtOnce(t *testing.T) {
	ts := startServer(t, Config{}) // default 3-minute window
	c := dial(t, ts.url)
	c.init(mint(t, ttl(2*time.Minute)), nil)
	if u := c.recvMethod("client_update"); u.Header.ClientUpdateType != twilsock.ClientUpdateTokenAboutToExpire {
		t.Errorf("got %s", u.RawHeader)
	}
	c.roundTrip() // and nothing else, such as a premature close
}

// An update with a later token before expiry cancels the close 410 of the
// token it replaces and schedules the new token's.
func TestUpdateReschedulesExpiry(t *testing.T) {
	exp1 := base.Add(time.Hour)
	start := time.Now() // before the server's clock starts, as above
	ts := startServer(t, Config{Clock: clockFrom(exp1.Add(-200 * time.Millisecond)), AboutToExpire: 1100 * time.Millisecond})
	c := dial(t, ts.url)
	c.init(mint(t), nil)
	c.ack(c.recvMethod("client_update")) // inside the 1.1 s window at once
	// The second token expires one second later (tokens count whole seconds).
	c.send(twilsock.NewUpdate(mint(t, ttl(time.Hour+time.Second))), nil)
	if r := c.recvMethod("reply"); !r.Header.Status.OK() {
		t.Fatalf("update: %s", r.RawHeader)
	}
	// Token 2's window opens 100 ms from start, its expiry at 1.2 s. Had
	// token 1's timer survived, a close would come at 200 ms, before both.
	c.ack(c.recvMethod("client_update"))
	cl := c.recvMethod("close")
	if el := time.Since(start); el < 1200*time.Millisecond || cl.Header.Status.Code != 410 {
		t.Errorf("close %d after %v, want 410 at the second token's expiry (1.2 s)", cl.Header.Status.Code, el)
	}
}

func TestClientClose(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	c.send(twilsock.NewClientClose(), nil)
	if err := c.ended(); !isCloseCode(err, websocket.CloseNormalClosure) {
		t.Errorf("got %v, want a WebSocket close 1000", err)
	}
	ts.stop()
	if st := ts.Stats(); st.ClientCloses != 1 || st.Active != 0 || st.Connected != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Garbage of every kind is logged and ignored on a live connection, which
// then initialises normally.
func TestBadFramesKeepServing(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	c.sendRaw(websocket.TextMessage, []byte("TWILSOCK V3.0 2\r\n{}\r\n"))
	c.sendRaw(websocket.BinaryMessage, []byte("hello"))
	c.sendRaw(websocket.BinaryMessage, []byte("TWILSOCK V3.0 70000\r\n{"))
	c.sendRaw(websocket.BinaryMessage, []byte("TWILSOCK V3.0 26\r\n{\"id\":\"TM1\",\"method\":\"x\"}\r\n"))
	c.sendRaw(websocket.BinaryMessage, []byte(nil))
	c.sendRaw(websocket.BinaryMessage, []byte("TWILSOCK V3.0 29\r\n{\"id\":\"TM1\",\"method\":5,\"\":0}\r\n"))
	c.send(&twilsock.Header{Base: twilsock.Base{ID: "TM2", Method: twilsock.MethodNotification}}, nil)
	// Out of place: an update before init is answered 400.
	u := twilsock.NewUpdate(mint(t))
	c.send(u, nil)
	if r := c.recvMethod("reply"); r.Header.ID != u.ID || r.Header.Status.Code != 400 {
		t.Errorf("update before init: %s", r.RawHeader)
	}
	if r := c.init(mint(t), nil); !r.Header.Status.OK() {
		t.Fatalf("init after garbage: %s", r.RawHeader)
	}
	// A second init on a connected session: 400, session intact.
	if r := c.init(mint(t), nil); r.Header.Status.Code != 400 {
		t.Errorf("second init: %s", r.RawHeader)
	}
	c.roundTrip()
	c.hangUp()
	ts.stop()
	st := ts.Stats()
	if st.TextFrames != 1 || st.Malformed != 5 || st.Ignored != 1 || st.Inits != 1 {
		t.Errorf("stats %+v", st)
	}
	log := ts.log.String()
	for _, want := range []string{"text message ignored", "malformed frame ignored", "byte 0", "byte 14", "exceeds the limit", "frame ignored: clients do not send this method"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

// A message over the read limit ends that connection with 1009; the server
// goes on serving the next client.
func TestOversizedMessage(t *testing.T) {
	ts := startServer(t, Config{})
	c := dial(t, ts.url)
	// The server may close before reading it all; a failed write is fine.
	_ = c.ws.SetWriteDeadline(time.Now().Add(ioWait))
	_ = c.ws.WriteMessage(websocket.BinaryMessage, make([]byte, MaxMessageSize+1))
	if err := c.ended(); !isCloseCode(err, websocket.CloseMessageTooBig) {
		t.Errorf("got %v, want close 1009", err)
	}
	c2, _ := connect(t, ts.url)
	c2.roundTrip()
}

// The server pings; a client that answers stays, one that never reads (so
// never pongs) is closed after twice the ping interval.
func TestPings(t *testing.T) {
	ts := startServer(t, Config{PingInterval: 30 * time.Millisecond})
	c, _ := connect(t, ts.url)
	pinged := make(chan struct{}, 1)
	c.ws.SetPingHandler(func(data string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	// Reading drives the ping handler; the read itself times out harmlessly
	// only if no ping came, which fails the test.
	go func() { _, _, _ = c.ws.ReadMessage() }()
	select {
	case <-pinged:
	case <-time.After(ioWait):
		t.Fatal("no ping within", ioWait)
	}

	silent := dial(t, ts.url)
	silent.init(mint(t), nil)
	// silent stops reading: gorilla answers pings only while reading.
	raw := silent.ws.NetConn()
	_ = raw.SetReadDeadline(time.Now().Add(ioWait))
	buf := make([]byte, 4096)
	for {
		_, err := raw.Read(buf) // the pings pile up unanswered, then the server gives up
		if err != nil {
			break
		}
	}
	_ = c.ws.Close()
	ts.stop()
	if !strings.Contains(ts.log.String(), "nothing received, not even a pong") {
		t.Error("log does not say why the silent client was closed")
	}
}

func TestSecretNeverLogged(t *testing.T) {
	ts := startServer(t, Config{})
	c, _ := connect(t, ts.url)
	tok := mint(t, ttl(2*time.Hour))
	c.send(twilsock.NewUpdate(tok), nil)
	c.recvMethod("reply")
	c.hangUp()
	ts.stop()
	log := ts.log.String()
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	if !strings.Contains(log, "frame received") || !strings.Contains(log, `update`) || !strings.Contains(log, tok[:strings.LastIndexByte(tok, '.')]) {
		t.Fatalf("debug log has no frames:\n%s", log)
	}
	if strings.Contains(log, sig) {
		t.Error("a token signature appears in the debug log")
	}
	if strings.Contains(log, string(testSecret)) {
		t.Error("the secret appears in the log")
	}
}

func TestNoSecretSaysSo(t *testing.T) {
	ts := startServer(t, Config{Secret: []byte{}})
	c := dial(t, ts.url)
	if r := c.init(mint(t, signedWith("any secret at all will do here")), nil); !r.Header.Status.OK() {
		t.Errorf("with no secret, a well-formed token is accepted: %s", r.RawHeader)
	}
	if !strings.Contains(ts.log.String(), "signatures are not verified") {
		t.Error("the log does not say signatures are not verified")
	}
}

func TestNotAWebSocket(t *testing.T) {
	ts := startServer(t, Config{})
	resp, err := http.Get(ts.http + PathWS)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %d", resp.StatusCode)
	}
	resp, err = http.Get(ts.http + "/v2/wsconnect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("other path: %d", resp.StatusCode)
	}
}

// The server declines permessage-deflate, which the SDK offers.
func TestDeclinesCompression(t *testing.T) {
	ts := startServer(t, Config{})
	ws, resp, err := (&websocket.Dialer{EnableCompression: true}).Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ext := resp.Header.Get("Sec-Websocket-Extensions"); ext != "" {
		t.Errorf("server accepted extensions %q", ext)
	}
}

// A client denied once may send init again on the same socket; accepted, it
// is not closed when the denial's grace period runs out.
func TestInitAgainAfterDenial(t *testing.T) {
	ts := startServer(t, Config{CloseGrace: 30 * time.Millisecond})
	c := dial(t, ts.url)
	if r := c.init(mint(t, signedWith("not the server's secret at all")), nil); r.Header.Status.Code != 401 {
		t.Fatalf("first init: %s", r.RawHeader)
	}
	if r := c.init(mint(t), nil); !r.Header.Status.OK() {
		t.Fatalf("second init: %s", r.RawHeader)
	}
	if _, err := c.next(150 * time.Millisecond); !isTimeout(err) {
		t.Errorf("after a successful init: %v, want the connection left open", err)
	}
}
