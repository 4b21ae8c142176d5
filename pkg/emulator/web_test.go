package emulator

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// stream is a test's subscription to GET /control/events.
type stream struct {
	t      *testing.T
	lines  chan string
	cancel context.CancelFunc
}

func (ts *testServer) events(t *testing.T, header http.Header) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.http+"/control/events", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		resp.Body.Close()
		t.Fatalf("GET /control/events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{t: t, lines: make(chan string, 256), cancel: cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return s
}

// next returns the next data: line's object, failing on any other kind of
// line but the blank separators, retry: and comments.
func (s *stream) next() map[string]any {
	s.t.Helper()
	timer := time.NewTimer(ioWait)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				s.t.Fatal("the event stream ended")
			}
			switch {
			case line == "", strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry: "):
				continue
			case strings.HasPrefix(line, "data: "):
				var ev map[string]any
				if err := json.Unmarshal([]byte(line[len("data: "):]), &ev); err != nil {
					s.t.Fatalf("data line %q: %v", line, err)
				}
				return ev
			default:
				s.t.Fatalf("unexpected line on the event stream: %q (want data: lines only, no event:)", line)
			}
		case <-timer.C:
			s.t.Fatalf("no event within %v", ioWait)
		}
	}
}

// expect reads the next event and checks its kind and some of its fields.
func (s *stream) expect(kind string, fields map[string]any) map[string]any {
	s.t.Helper()
	ev := s.next()
	if ev["event"] != kind {
		s.t.Fatalf("event %v, want %q", ev, kind)
	}
	for k, want := range fields {
		if ev[k] != want {
			s.t.Errorf("%s event: %s = %v, want %v (%v)", kind, k, ev[k], want, ev)
		}
	}
	return ev
}

func TestEventStream(t *testing.T) {
	ts := startServer(t, Config{})
	es := ts.events(t, nil)
	es.expect(EventFaults, nil)

	c := dial(t, ts.url)
	es.expect(EventOpened, map[string]any{"id": "c1", "state": "open", "identity": ""})
	c.init(mint(t), nil)
	es.expect(EventState, map[string]any{"id": "c1", "state": "initialising"})
	ev := es.expect(EventState, map[string]any{"id": "c1", "state": "connected", "identity": "alice"})
	for _, k := range []string{"remote", "opened_at", "connected_at", "token_expires_at", "about_to_expire_at", "continuation_token", "at"} {
		if ev[k] == nil || ev[k] == "" {
			t.Errorf("connected event lacks %s: %v", k, ev)
		}
	}

	// A stream that starts now gets the connection as it is, then the faults.
	late := ts.events(t, nil)
	late.expect(EventOpened, map[string]any{"id": "c1", "state": "connected", "identity": "alice"})
	late.expect(EventFaults, nil)

	c.send(twilsock.NewUpdate(mint(t, identity("bob"), ttl(2*time.Hour))), nil)
	c.recvMethod("reply")
	ev = es.expect(EventToken, map[string]any{"id": "c1", "identity": "bob", "state": "connected"})
	if ev["token_expires_at"] != base.Add(2*time.Hour).Format(time.RFC3339) {
		t.Errorf("token event's expiry %v, want the new token's", ev["token_expires_at"])
	}

	if code := ts.control(t, "POST", "/control/connections/c1/about-to-expire", nil); code != 200 {
		t.Fatalf("about-to-expire: %d", code)
	}
	es.expect(EventAction, map[string]any{"id": "c1", "action": "about-to-expire", "state": "connected"})
	if code := ts.control(t, "POST", "/control/connections/all/close?code=308", nil); code != 200 {
		t.Fatalf("close: %d", code)
	}
	// The close frame was written before the action was published.
	es.expect(EventState, map[string]any{"id": "c1", "state": "closing"})
	es.expect(EventAction, map[string]any{"id": "c1", "action": "close", "code": float64(308)})
	c.hangUp()
	es.expect(EventClosed, map[string]any{"id": "c1", "state": "closed", "identity": "bob"})

	for _, s := range []*stream{es, late} {
		s.cancel()
	}
}

func TestEventStreamDrop(t *testing.T) {
	ts := startServer(t, Config{})
	es := ts.events(t, nil)
	es.expect(EventFaults, nil)
	connect(t, ts.url)
	es.expect(EventOpened, map[string]any{"id": "c1"})
	es.expect(EventState, map[string]any{"state": "initialising"})
	es.expect(EventState, map[string]any{"state": "connected"})
	ts.control(t, "POST", "/control/connections/c1/drop", nil)
	es.expect(EventAction, map[string]any{"action": "drop", "state": "connected"})
	es.expect(EventState, map[string]any{"state": "closing"})
	es.expect(EventClosed, map[string]any{"id": "c1", "state": "closed"})
}

// A stream that falls a whole buffer behind is cut, never the server blocked.
func TestEventStreamSlowSubscriberIsCut(t *testing.T) {
	s := New(Config{Secret: testSecret})
	sub, first := s.subscribe()
	if len(first) != 1 {
		t.Fatalf("opening snapshot of an idle server: %q", first)
	}
	for range subscriberBuffer + 1 {
		s.publishFaults()
	}
	select {
	case <-sub.gone:
	default:
		t.Fatal("a subscriber a whole buffer behind was not cut")
	}
	s.unsubscribe(sub)
	if n := s.web.events.n.Load(); n != 0 {
		t.Errorf("%d subscribers left", n)
	}
}

// Shutdown ends every stream, so the http.Server's own Shutdown does not
// wait on them.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	ts := startServer(t, Config{})
	es := ts.events(t, nil)
	es.expect(EventFaults, nil)
	ts.stop()
	timer := time.NewTimer(ioWait)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-es.lines:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatal("the stream did not end at Shutdown")
		}
	}
}

func TestFaultsControl(t *testing.T) {
	ts := startServer(t, Config{})
	var f Faults
	if code := ts.control(t, "POST", "/control/faults/deny?code=20151&count=1", &f); code != 200 || f.Deny == nil ||
		*f.Deny != (DenyFault{Code: 20151, Remaining: 1}) {
		t.Fatalf("deny: %d %+v", code, f)
	}
	c := dial(t, ts.url)
	if r := c.init(mint(t), nil); r.Header.Status.Code != 401 || r.Header.Status.ErrorCode != 20151 {
		t.Errorf("init after deny: %s", r.RawHeader)
	}
	if r := c.init(mint(t), nil); !r.Header.Status.OK() {
		t.Errorf("the second init, the deny used up: %s", r.RawHeader)
	}
	ts.control(t, "GET", "/control/faults", &f)
	if f.Deny != nil {
		t.Errorf("deny still armed: %+v", f.Deny)
	}

	ts.control(t, "POST", "/control/faults/refuse-upgrades?count=1", &f)
	if f.RefuseUpgrades != 1 {
		t.Errorf("refuse-upgrades: %+v", f)
	}
	resp, err := http.Get(ts.http + PathWS) // not an upgrade: does not count
	if err == nil {
		resp.Body.Close()
	}
	if _, resp, err := (&websocket.Dialer{HandshakeTimeout: ioWait}).Dial(ts.url, nil); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Errorf("upgrade with a refusal armed: err %v, resp %v", err, resp)
	}
	dial(t, ts.url) // the next is served

	ts.control(t, "POST", "/control/faults/init-delay?delay_ms=150", &f)
	if f.InitDelayMS != 150 {
		t.Errorf("init-delay: %+v", f)
	}
	start := time.Now()
	connect(t, ts.url)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("init answered after %v, want at least the 150ms delay", d)
	}

	ts.control(t, "POST", "/control/faults/deny?code=20104&count=every", &f)
	ts.control(t, "POST", "/control/faults/clear", &f)
	if f != (Faults{}) {
		t.Errorf("after clear: %+v", f)
	}
	ts.control(t, "POST", "/control/faults/deny?code=20104&count=every", &f)
	if f.Deny == nil || !f.Deny.Every {
		t.Errorf("count=every: %+v", f.Deny)
	}
	ts.control(t, "POST", "/control/faults/deny?count=0", &f)
	if f.Deny != nil {
		t.Errorf("count=0 leaves %+v", f.Deny)
	}

	for _, bad := range []string{"deny?code=abc", "deny?code=-1", "deny?code=401", "deny?code=20107&count=-2", "deny?code=20107&count=x",
		"refuse-upgrades", "refuse-upgrades?count=-1", "init-delay?delay_ms=-5", "init-delay?delay_ms=999999999", "init-delay"} {
		var e map[string]string
		if code := ts.control(t, "POST", "/control/faults/"+bad, &e); code != 400 || e["error"] == "" {
			t.Errorf("POST /control/faults/%s: %d %v, want 400 with an error", bad, code, e)
		}
	}
}

// The deny flag is the starting value of the runtime fault: every init.
func TestFaultsFromConfig(t *testing.T) {
	ts := startServer(t, Config{Deny: 20107, RefuseUpgrades: 2, InitDelay: 10 * time.Millisecond})
	var f Faults
	ts.control(t, "GET", "/control/faults", &f)
	if f.Deny == nil || *f.Deny != (DenyFault{Code: 20107, Every: true}) || f.RefuseUpgrades != 2 || f.InitDelayMS != 10 {
		t.Errorf("faults from Config: %+v %+v", f, f.Deny)
	}
}

func TestControlToken(t *testing.T) {
	const secret = "s3cret-control-token"
	ts := startServer(t, Config{Web: WebConfig{ControlToken: secret, TokenEndpoint: &TokenEndpoint{
		AccountSID: testAccount, APIKeySID: testKey, ChatServiceSID: testService}}})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.http+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	html := map[string]string{"Accept": "text/html"}
	for _, path := range []string{"/", "/control/connections", "/control/stats", "/control/events", "/token?identity=alice", "/ui/app.js", "/?control_token="} {
		if resp := get(path, html); resp.StatusCode != 401 {
			t.Errorf("GET %s without the control token: %d, want 401", path, resp.StatusCode)
		}
	}
	if resp := get("/control/connections", map[string]string{"Authorization": "Bearer wrong"}); resp.StatusCode != 401 {
		t.Errorf("a wrong bearer token: %d", resp.StatusCode)
	}
	if resp := get("/?control_token=wrong", html); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("a wrong control_token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	bearer := map[string]string{"Authorization": "Bearer " + secret}
	if resp := get("/control/connections", bearer); resp.StatusCode != 200 {
		t.Errorf("with the bearer token: %d", resp.StatusCode)
	}
	resp := get("/token?identity=alice", bearer)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("/token with a control token: %d, CORS %q (want none: the server is reachable from elsewhere)",
			resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	resp = get("/?control_token="+url.QueryEscape(secret), html)
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(cookies) != 1 ||
		!cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Value != secret {
		t.Fatalf("/?control_token=…: %d Location %q cookies %+v", resp.StatusCode, resp.Header.Get("Location"), cookies)
	}
	withCookie := map[string]string{"Accept": "text/html", "Cookie": cookies[0].Name + "=" + cookies[0].Value}
	for _, path := range []string{"/", "/ui/app.js", "/control/connections"} {
		if resp := get(path, withCookie); resp.StatusCode != 200 {
			t.Errorf("GET %s with the cookie: %d", path, resp.StatusCode)
		}
	}
	// The WebSocket endpoint stays open, as Twilio's is.
	connect(t, ts.url)
}

func TestTokenEndpoint(t *testing.T) {
	off := startServer(t, Config{})
	if resp, err := http.Get(off.http + "/token?identity=alice"); err != nil || resp.StatusCode != 404 {
		t.Errorf("/token without a TokenEndpoint: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	ts := startServer(t, Config{Web: WebConfig{TokenEndpoint: &TokenEndpoint{
		AccountSID: testAccount, APIKeySID: testKey, ChatServiceSID: testService, TTL: 10 * time.Minute}}})
	resp, err := http.Get(ts.http + "/token?identity=" + url.QueryEscape("ada lovelace"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans TokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/token: %d %v", resp.StatusCode, err)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/token headers: %v", resp.Header)
	}
	rep := inspect.Inspect(ans.Token, inspect.WithSecret(testSecret), inspect.WithClock(clockFrom(base)))
	if ans.Identity != "ada lovelace" || !rep.Valid || rep.Identity != "ada lovelace" || rep.Signature != inspect.SignatureVerified ||
		rep.ExpiresAt == nil || !rep.ExpiresAt.Equal(base.Add(10*time.Minute).Truncate(time.Second)) {
		t.Errorf("minted %+v: report valid=%v identity=%q signature=%v expires=%v", ans, rep.Valid, rep.Identity, rep.Signature, rep.ExpiresAt)
	}
	// The server accepts its own tokens.
	c := dial(t, ts.url)
	if r := c.init(ans.Token, nil); !r.Header.Status.OK() {
		t.Errorf("init with the endpoint's token: %s", r.RawHeader)
	}

	for _, q := range []string{"", "?identity=", "?identity=" + strings.Repeat("x", 257), "?identity=a%0Ab"} {
		resp, err := http.Get(ts.http + "/token" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("/token%s: %d, want 400", q, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("OPTIONS", ts.http+"/token", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Errorf("preflight: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Post(ts.http+"/token?identity=x", "", nil); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST /token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestDashboardServed(t *testing.T) {
	ts := startServer(t, Config{})
	get := func(path, accept string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.http+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/", "text/html,application/xhtml+xml,*/*;q=0.8")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("GET / as a browser: %d %v", resp.StatusCode, resp.Header)
	}
	for _, hook := range []string{`data-conn-id=""`, `data-field="state"`, `data-field="identity"`, `data-field="token-expires"`,
		`data-action="about-to-expire"`, `data-action="close"`, `data-action="drop"`, `data-field="code"`, `value="410"`,
		`data-panel="all"`, `data-action="deny"`, `data-action="refuse-upgrades"`, `data-action="init-delay"`, `data-action="mint"`,
		`rel="icon"`} {
		if !strings.Contains(page, hook) {
			t.Errorf("the page lacks %s", hook)
		}
	}
	// Every asset the page names is served, from this origin.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page names %d assets", len(refs))
	}
	for _, m := range refs {
		ref := m[1]
		if strings.Contains(ref, "//") {
			t.Errorf("the page loads %s from another origin", ref)
			continue
		}
		if resp, _ := get("/"+ref, ""); resp.StatusCode != 200 {
			t.Errorf("GET /%s: %d", ref, resp.StatusCode)
		}
	}
	if resp, _ := get("/favicon.ico", ""); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, body := get("/", ""); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(body, PathWS) {
		t.Errorf("GET / from curl: %d %q", resp.StatusCode, body)
	}
	var info ServerInfo
	ts.control(t, "GET", "/control/server", &info)
	if info.Product != "conversations" || info.TokenEndpoint || !info.VerifiesTokens || info.ControlToken || info.AboutToExpireMS != 180000 {
		t.Errorf("server info %+v", info)
	}
}

// Any request to the web side, however odd, gets an answer and never a panic or a 500.
func FuzzWebRequests(f *testing.F) {
	for _, seed := range []string{"GET /", "GET /control/events", "POST /control/faults/deny?code=1&count=every",
		"POST /control/faults/init-delay?delay_ms=9", "GET /token?identity=%00", "POST /control/connections/all/close?code=308&backoff_ms=1",
		"GET /?control_token=x", "OPTIONS /token", "GET /ui/../../etc/passwd", "POST /control/faults/refuse-upgrades?count=99999999999999999999"} {
		f.Add(seed, "Bearer x")
	}
	s := New(Config{Secret: testSecret, Web: WebConfig{TokenEndpoint: &TokenEndpoint{AccountSID: testAccount, APIKeySID: testKey, ChatServiceSID: testService}}})
	guarded := New(Config{Secret: testSecret, Web: WebConfig{ControlToken: "t"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the event stream answers its snapshot and returns
	f.Fuzz(func(t *testing.T, line, auth string) {
		method, target, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://127.0.0.1"+target, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept", "text/html")
		for _, srv := range []*Server{s, guarded} {
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code >= 500 && w.Code != http.StatusUpgradeRequired {
				t.Errorf("%s %s: %d %s", method, target, w.Code, w.Body)
			}
		}
	})
	_ = s.Shutdown(context.Background())
	_ = guarded.Shutdown(context.Background())
}

// A script follows the server through the event stream: one JSON object a
// data: line, a snapshot first (here only the faults: no connection yet).
func ExampleServer_events() {
	srv := New(Config{Secret: []byte("0123456789abcdef0123456789abcdef")})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() { _ = srv.Shutdown(context.Background()) }() // before hs.Close: it ends the stream

	resp, err := http.Get(hs.URL + "/control/events")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	next := func() (ev struct{ Event, ID, State string }) {
		for lines.Scan() {
			if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
				_ = json.Unmarshal([]byte(data), &ev)
				return ev
			}
		}
		return ev
	}
	fmt.Println(next().Event)

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+PathWS, nil)
	if err != nil {
		panic(err)
	}
	ev := next()
	fmt.Println(ev.Event, ev.ID, ev.State)
	ws.Close()
	ev = next()
	for ev.Event != EventClosed {
		ev = next() // state closing may come first
	}
	fmt.Println(ev.Event, ev.ID, ev.State)
	// Output:
	// faults
	// opened c1 open
	// closed c1 closed
}
