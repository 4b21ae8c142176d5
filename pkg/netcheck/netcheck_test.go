package netcheck

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// site is a region's endpoints served on 127.0.0.1: tsock by pkg/emulator,
// the HTTPS ones by plain handlers, each with a certificate for its real
// name from the test's own CA. Rules maps each real name to its server the
// way a user would, with connect-to rules, so the real names are checked.
type site struct {
	ca      *tlsca.CA
	servers map[string]*httptest.Server // by short name: tsock, mcs, ...
	rules   []netpath.ConnectTo
}

func newSite(t *testing.T, caName string) *site {
	t.Helper()
	ca, err := tlsca.NewCA(pkix.Name{CommonName: caName, Organization: []string{"Contoso"}}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	s := &site{ca: ca, servers: map[string]*httptest.Server{}}
	for _, e := range Endpoints("us1") {
		short, _, _ := strings.Cut(e.Host, ".")
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound) // Twilio's hosts answer / with 404 or a redirect
		})
		if e.Protocol == ProtocolWSS {
			h = emulator.New(emulator.Config{})
		}
		s.serve(t, short, e.Host, h)
	}
	return s
}

// serve starts (or replaces) the server for short with handler h.
func (s *site) serve(t *testing.T, short, host string, h http.Handler) {
	t.Helper()
	cert, err := s.ca.Issue([]string{host}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.servers[short] = srv
	s.route(short, host, srv.Listener.Addr().String())
}

// route points host:443 at addr (host:port) with a connect-to rule.
func (s *site) route(short, host, addr string) {
	h, p, _ := net.SplitHostPort(addr)
	for i, r := range s.rules {
		if r.FromHost == host {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			break
		}
	}
	s.rules = append(s.rules, netpath.ConnectTo{FromHost: host, FromPort: "443", ToHost: h, ToPort: p})
}

func (s *site) config() Config {
	return Config{Region: "us1", Timeout: 5 * time.Second,
		Net: netpath.Config{NoProxyEnv: true, ExtraRoots: []*x509.Certificate{s.ca.Cert}, ConnectTo: s.rules}}
}

func result(t *testing.T, rep *Report, short string) *Result {
	t.Helper()
	for _, r := range rep.Endpoints {
		if strings.HasPrefix(r.Host, short+".") {
			return r
		}
	}
	t.Fatalf("no result for %s", short)
	return nil
}

func hasWarning(rep *Report, code, host string) bool {
	for _, w := range rep.Warnings {
		if w.Code == code && (host == "" || w.Host == host) {
			return true
		}
	}
	return false
}

func TestAllUp(t *testing.T) {
	s := newSite(t, "Contoso Inspection CA")
	rep := Run(context.Background(), s.config())
	if !rep.OK {
		t.Fatalf("not OK: %+v", rep.Endpoints)
	}
	if len(rep.Endpoints) != 5 {
		t.Fatalf("%d endpoints, want 5", len(rep.Endpoints))
	}
	if rep.Started.IsZero() || rep.Started.Location() != time.UTC {
		t.Errorf("started %v, want a time in UTC (reports carry UTC)", rep.Started)
	}
	for _, r := range rep.Endpoints {
		if !r.OK || r.HTTPStatus == nil || r.Error != nil {
			t.Errorf("%s: ok=%v status=%v err=%v", r.Host, r.OK, r.HTTPStatus, r.Error)
			continue
		}
		want := 404
		if r.Protocol == ProtocolWSS {
			want = 101
		}
		if *r.HTTPStatus != want {
			t.Errorf("%s: status %d, want %d", r.Host, *r.HTTPStatus, want)
		}
		if r.TLS == nil || !r.TLS.Verified || r.TLS.ServerName != r.Host {
			t.Errorf("%s: tls %+v", r.Host, r.TLS)
		}
		if r.Timing.TCP == nil || r.Timing.TLS == nil || r.Timing.App == nil || r.Timing.Proxy != nil {
			t.Errorf("%s: timing %+v", r.Host, r.Timing)
		}
		if used := (&netpath.Path{Addresses: r.Addresses}).Used(); used == nil {
			t.Errorf("%s: no address used: %+v", r.Host, r.Addresses)
		}
	}
	// The test CA is trusted here and by no public root: exactly what a
	// TLS-inspecting box looks like, so every endpoint is flagged.
	if !hasWarning(rep, WarnTLSIntercepted, "tsock.us1.twilio.com") {
		t.Errorf("no interception warning: %+v", rep.Warnings)
	}
}

// Observe sees every endpoint once, each before Run returns, as the
// Result the Report holds.
func TestObserve(t *testing.T) {
	s := newSite(t, "Test CA")
	s.servers["cds"].Close()
	cfg := s.config()
	var mu sync.Mutex
	seen := map[string]*Result{}
	cfg.Observe = func(r *Result) {
		mu.Lock()
		defer mu.Unlock()
		if seen[r.Host] != nil {
			t.Errorf("%s observed twice", r.Host)
		}
		seen[r.Host] = r
	}
	rep := Run(context.Background(), cfg)
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != len(rep.Endpoints) {
		t.Fatalf("observed %d endpoints, want %d", len(seen), len(rep.Endpoints))
	}
	for _, r := range rep.Endpoints {
		if seen[r.Host] != r {
			t.Errorf("%s: observed %p, the report holds %p", r.Host, seen[r.Host], r)
		}
	}
	if seen["cds.us1.twilio.com"].OK {
		t.Error("cds observed OK though its server is closed")
	}
}

func TestRequiredEndpointDown(t *testing.T) {
	s := newSite(t, "Test CA")
	s.servers["mcs"].Close() // its port now refuses
	rep := Run(context.Background(), s.config())
	if rep.OK {
		t.Fatal("OK with mcs down")
	}
	mcs := result(t, rep, "mcs")
	if mcs.OK || mcs.Phase != "tcp" || mcs.Error == nil || mcs.Hint == nil {
		t.Fatalf("mcs: %+v", mcs)
	}
	if !result(t, rep, "tsock").OK || !result(t, rep, "media").OK {
		t.Fatal("the others should still be up")
	}
	req, opt := rep.Failed()
	if len(req) != 1 || len(opt) != 0 {
		t.Fatalf("failed: %d required, %d optional", len(req), len(opt))
	}
}

func TestOptionalEndpointDownIsStillOK(t *testing.T) {
	s := newSite(t, "Test CA")
	s.servers["aim"].Close()
	rep := Run(context.Background(), s.config())
	if !rep.OK {
		t.Fatalf("an informative endpoint failing must not fail the check: %+v", result(t, rep, "aim"))
	}
	if result(t, rep, "aim").OK {
		t.Fatal("aim should have failed")
	}
}

// A server that takes the TCP connection and never says a word: its
// endpoint times out on its own deadline while the others finish.
func TestStalledEndpointDoesNotStallOthers(t *testing.T) {
	s := newSite(t, "Test CA")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-held:
				c.Close()
			default:
				return
			}
		}
	})
	s.route("media", "media.us1.twilio.com", ln.Addr().String())
	cfg := s.config()
	cfg.Timeout = 300 * time.Millisecond
	rep := Run(context.Background(), cfg)
	media := result(t, rep, "media")
	if media.OK || media.Phase != "tls" {
		t.Fatalf("media: ok=%v phase=%q kind=%q", media.OK, media.Phase, media.Kind)
	}
	for _, short := range []string{"tsock", "mcs", "cds", "aim"} {
		if r := result(t, rep, short); !r.OK {
			t.Errorf("%s failed beside the stalled one: %v", short, *r.Error)
		}
	}
}

// tsock answered by a plain HTTPS server: the upgrade is not honoured,
// which is what a middlebox that does not pass WebSockets looks like.
func TestTsockWithoutWebSocket(t *testing.T) {
	s := newSite(t, "Test CA")
	s.serve(t, "tsock", "tsock.us1.twilio.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	rep := Run(context.Background(), s.config())
	ts := result(t, rep, "tsock")
	if rep.OK || ts.OK || ts.Kind != "app_status" || ts.HTTPStatus == nil || *ts.HTTPStatus != 200 {
		t.Fatalf("tsock: %+v", ts)
	}
	if ts.Hint == nil || !strings.Contains(*ts.Hint, "WebSocket") {
		t.Fatalf("hint: %v", ts.Hint)
	}
}

// v6resolver answers every name with ::1 and 127.0.0.1, so a server bound
// to 127.0.0.1 only is a host whose IPv6 is broken.
type v6resolver struct{}

func (v6resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return []net.IPAddr{{IP: net.IPv6loopback}, {IP: net.IPv4(127, 0, 0, 1)}}, nil
}

func TestIPv6Broken(t *testing.T) {
	s := newSite(t, "Test CA")
	_, port, _ := net.SplitHostPort(s.servers["tsock"].Listener.Addr().String())
	s.route("tsock", "tsock.us1.twilio.com", "dualstack.test:"+port)
	cfg := s.config()
	cfg.Net.Resolver = v6resolver{}
	rep := Run(context.Background(), cfg)
	ts := result(t, rep, "tsock")
	if !ts.OK {
		t.Fatalf("tsock: %v", *ts.Error)
	}
	if len(ts.Addresses) != 2 || ts.Addresses[0].Family != "ipv6" || ts.Addresses[0].Error == nil || !ts.Addresses[1].Used {
		t.Fatalf("addresses: %+v", ts.Addresses)
	}
	if ts.DNS == nil || len(ts.DNS.A) != 1 || len(ts.DNS.AAAA) != 1 {
		t.Fatalf("dns: %+v", ts.DNS)
	}
	if !rep.OK || !hasWarning(rep, WarnIPv6Broken, "tsock.us1.twilio.com") {
		t.Fatalf("ok=%v warnings=%+v", rep.OK, rep.Warnings)
	}
}

// TestBlockedByRealProxy sends every endpoint through Debian's tinyproxy,
// whose filter refuses one host. Through a proxy the connect-to rule
// becomes the CONNECT target, so media is sent to a name the filter
// matches, on the same loopback server.
func TestBlockedByRealProxy(t *testing.T) {
	proxy := testpeer.Tinyproxy{Filter: []string{`^blocked\.`}}.Start(t)
	s := newSite(t, "Test CA")
	_, port, _ := net.SplitHostPort(s.servers["media"].Listener.Addr().String())
	s.route("media", "media.us1.twilio.com", "blocked.localhost:"+port)
	cfg := s.config()
	cfg.Net.Proxy = &url.URL{Scheme: "http", Host: proxy}
	rep := Run(context.Background(), cfg)
	media := result(t, rep, "media")
	if rep.OK || media.OK || media.Kind != string(netpath.KindProxyForbidden) {
		t.Fatalf("media: ok=%v kind=%q err=%v", media.OK, media.Kind, media.Error)
	}
	if media.Proxy == nil || media.Proxy.ConnectStatus == nil || *media.Proxy.ConnectStatus != 403 {
		t.Fatalf("proxy: %+v", media.Proxy)
	}
	ts := result(t, rep, "tsock")
	if !ts.OK || ts.Proxy == nil || ts.Timing.Proxy == nil || len(ts.Addresses) != 0 || ts.DNS != nil {
		t.Fatalf("tsock through the proxy: ok=%v proxy=%+v addresses=%v dns=%v err=%v", ts.OK, ts.Proxy, ts.Addresses, ts.DNS, ts.Error)
	}
	if !hasWarning(rep, WarnProxyInUse, "") {
		t.Fatalf("warnings: %+v", rep.Warnings)
	}
}

func TestCanceledContextEndsEveryCheck(t *testing.T) {
	s := newSite(t, "Test CA")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Run(ctx, s.config())
	if rep.OK {
		t.Fatal("OK on a canceled context")
	}
	for _, r := range rep.Endpoints {
		if r.OK {
			t.Errorf("%s OK on a canceled context", r.Host)
		}
	}
}

func TestEndpoints(t *testing.T) {
	for _, region := range Regions {
		eps := Endpoints(region)
		var req []string
		for _, e := range eps {
			if e.Port != "443" {
				t.Errorf("%s on %s: every endpoint is on 443", e.Host, e.Port)
			}
			if e.Required {
				req = append(req, e.Host)
			}
		}
		want := []string{"tsock." + region + ".twilio.com", "mcs." + region + ".twilio.com", "media." + region + ".twilio.com"}
		if strings.Join(req, " ") != strings.Join(want, " ") {
			t.Errorf("%s: required %v, want %v", region, req, want)
		}
	}
	rep := Run(context.Background(), Config{Region: "xx9", Endpoints: []Endpoint{}})
	if !hasWarning(rep, WarnUnknownRegion, "") {
		t.Errorf("no warning for region xx9: %+v", rep.Warnings)
	}
}

func TestSummary(t *testing.T) {
	mk := func(ok bool, total, tcp float64) *Report {
		r := &Result{Host: "tsock.us1.twilio.com", Protocol: ProtocolWSS, Required: true, OK: ok,
			Duration: time.Duration(total * float64(time.Millisecond))}
		r.Timing.TCP = &tcp
		if !ok {
			r.Kind = "tcp"
		}
		return &Report{Endpoints: []*Result{r}}
	}
	var s Summary
	for i := 1; i <= 19; i++ {
		s.Add(mk(true, float64(i), float64(i)/10))
	}
	s.Add(mk(false, 0, 99))
	if s.Rounds != 20 || len(s.Endpoints) != 1 {
		t.Fatalf("%+v", s)
	}
	e := s.Endpoints[0]
	if e.SuccessRatio != 0.95 || e.Failures["tcp"] != 1 {
		t.Fatalf("ratio %v failures %v", e.SuccessRatio, e.Failures)
	}
	if *e.P50MS != 10 || *e.P95MS != 19 {
		t.Fatalf("p50 %v p95 %v", *e.P50MS, *e.P95MS)
	}
	if got := e.Phases["tcp"]; got.P50MS != 1.0 || got.P95MS != 1.9 {
		t.Fatalf("tcp phase %+v", got)
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		vs   []float64
		p    float64
		want float64
	}{
		{nil, 50, 0}, {[]float64{5}, 95, 5}, {[]float64{3, 1, 2}, 50, 2}, {[]float64{1, 2, 3, 4}, 50, 2}, {[]float64{1, 2, 3, 4}, 95, 4},
	} {
		if got := percentile(tc.vs, tc.p); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.vs, tc.p, got, tc.want)
		}
	}
}
