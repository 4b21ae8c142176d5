package exporter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
)

func probePath(target string, extra ...string) string {
	q := url.Values{"target": {target}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/probe?" + q.Encode()
}

var allOutcomes = []string{"connected", "denied", "disconnected", "timeout", "unreachable"}

// wantOutcome checks convctl_probe_outcome: 1 for want, 0 for every other outcome.
func wantOutcome(t *testing.T, a answer, want string) {
	t.Helper()
	for _, o := range allOutcomes {
		v := 0.0
		if o == want {
			v = 1
		}
		a.want(t, "convctl_probe_outcome", v, "outcome", o)
	}
}

func TestProbeGood(t *testing.T) {
	ws := startEmulator(t, emulator.Config{})
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t), Hold: 300 * time.Millisecond, PingInterval: 50 * time.Millisecond}, Options{})

	a := get(t, base, probePath(ws), "")
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	a.want(t, "convctl_probe_success", 1)
	wantOutcome(t, a, "connected")
	a.want(t, "convctl_probe_http_status", 0)
	a.want(t, "convctl_probe_twilio_error", 0)
	a.want(t, "convctl_token_fetch_success", 1)
	for _, p := range []string{"tcp", "upgrade", "init", "connected"} {
		if v, ok := a.value("convctl_probe_phase_duration_seconds", "phase", p); !ok || v <= 0 || v > 5 {
			t.Errorf("phase %s = %v (present %v), want a few milliseconds", p, v, ok)
		}
	}
	for _, p := range []string{"dns", "tls"} { // an IP literal over ws://
		if _, ok := a.value("convctl_probe_phase_duration_seconds", "phase", p); ok {
			t.Errorf("phase %s is present; it did not happen", p)
		}
	}
	if v, ok := a.value("convctl_token_expiry_seconds"); !ok || v < 3500 || v > 3600 {
		t.Errorf("convctl_token_expiry_seconds = %v (present %v), want about 3600", v, ok)
	}
	if v, ok := a.value("convctl_probe_ping_rtt_seconds"); !ok || v <= 0 || v > 1 {
		t.Errorf("convctl_probe_ping_rtt_seconds = %v (present %v), want a round trip", v, ok)
	}
	if v, ok := a.value("convctl_probe_duration_seconds"); !ok || v < 0.3 || v > 5 {
		t.Errorf("convctl_probe_duration_seconds = %v (present %v), want the hold and a little", v, ok)
	}
	a.absent(t, "convctl_tls_cert_expiry_seconds") // ws://
	a.absent(t, "convctl_tls_intercepted")
}

func TestProbeFailures(t *testing.T) {
	good := startEmulator(t, emulator.Config{})
	refused := func() string { // a port nothing listens on
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "ws://" + addr + emulator.PathWS
	}()
	tests := []struct {
		name    string
		target  string
		token   func(context.Context) (string, error)
		outcome string // "" for none (no token)
		status  float64
		twilio  float64
		check   func(*testing.T, answer)
	}{
		{"denied 20107", good, staticToken(mint(t, []byte("not the secret of this API key!!"), time.Now())),
			"denied", 401, 20107, func(t *testing.T, a answer) {
				a.want(t, "convctl_token_fetch_success", 1)
				if _, ok := a.value("convctl_probe_phase_duration_seconds", "phase", "init"); !ok {
					t.Error("the init phase happened (and was answered 401) but is absent")
				}
			}},
		{"expired 20104", good, staticToken(mint(t, testSecret, time.Now().Add(-2*time.Hour))),
			"denied", 401, 20104, func(t *testing.T, a answer) {
				if v, ok := a.value("convctl_token_expiry_seconds"); !ok || v > -3500 || v < -3700 {
					t.Errorf("convctl_token_expiry_seconds = %v (present %v), want about -3600", v, ok)
				}
			}},
		{"unreachable", refused, freshTokens(t), "unreachable", 0, 0, func(t *testing.T, a answer) {
			if _, ok := a.value("convctl_probe_phase_duration_seconds", "phase", "upgrade"); ok {
				t.Error("phase upgrade is present; TCP was refused")
			}
		}},
		{"token endpoint failing", good, func(context.Context) (string, error) { return "", errTokenEndpoint },
			"", 0, 0, func(t *testing.T, a answer) {
				a.want(t, "convctl_token_fetch_success", 0)
				a.absent(t, "convctl_probe_phase_duration_seconds")
				a.absent(t, "convctl_token_expiry_seconds")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, base := startExporter(t, ConnectConfig{Token: tt.token}, Options{})
			a := get(t, base, probePath(tt.target), "")
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			a.want(t, "convctl_probe_success", 0)
			wantOutcome(t, a, tt.outcome)
			a.want(t, "convctl_probe_http_status", tt.status)
			a.want(t, "convctl_probe_twilio_error", tt.twilio)
			tt.check(t, a)
			counted := tt.outcome
			if counted == "" {
				counted = OutcomeTokenError
			}
			if got := testutil.ToFloat64(h.probes.WithLabelValues("connect", counted)); got != 1 {
				t.Errorf("convctl_exporter_probes_total{outcome=%q} = %v, want 1", counted, got)
			}
		})
	}
}

// The module on its own, checked with testutil against a registry.
func TestConnectModuleMetrics(t *testing.T) {
	ws := startEmulator(t, emulator.Config{Deny: 20107})
	mod := Connect(ConnectConfig{Token: freshTokens(t), tune: fastTune})
	target, err := ParseTarget(ws)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := mod.Probe(ctx, target, reg, debuglog.Discard())
	if res != (Result{Outcome: "denied"}) {
		t.Errorf("result %+v, want denied, not successful", res)
	}
	want := `
# HELP convctl_probe_http_status HTTP status of the failure's cause (401 on a rejected token, 503 on a refused upgrade); 0 when none.
# TYPE convctl_probe_http_status gauge
convctl_probe_http_status 401
# HELP convctl_probe_outcome 1 for the probe's outcome (connected, denied, disconnected, timeout, unreachable), 0 for the others; all 0 when no token could be had.
# TYPE convctl_probe_outcome gauge
convctl_probe_outcome{outcome="connected"} 0
convctl_probe_outcome{outcome="denied"} 1
convctl_probe_outcome{outcome="disconnected"} 0
convctl_probe_outcome{outcome="timeout"} 0
convctl_probe_outcome{outcome="unreachable"} 0
# HELP convctl_probe_twilio_error Twilio error code of the failure's cause (20104 expired, 20107 bad signature); 0 when none.
# TYPE convctl_probe_twilio_error gauge
convctl_probe_twilio_error 20107
# HELP convctl_token_fetch_success 1 when the token source gave a token for this probe, 0 when it failed.
# TYPE convctl_token_fetch_success gauge
convctl_token_fetch_success 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "convctl_probe_outcome", "convctl_probe_http_status",
		"convctl_probe_twilio_error", "convctl_token_fetch_success"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "convctl_probe_phase_duration_seconds"); err != nil || n != 3 {
		t.Errorf("%d phases (err %v), want tcp, upgrade, init", n, err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestProbeTLSCertExpiry(t *testing.T) {
	em := emulator.New(emulator.Config{Secret: testSecret})
	srv := httptest.NewUnstartedServer(em)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	wss := "wss" + strings.TrimPrefix(srv.URL, "https") + emulator.PathWS
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t), TLSConfig: &tls.Config{RootCAs: roots}}, Options{})

	a := get(t, base, probePath(wss), "")
	a.want(t, "convctl_probe_success", 1)
	want := time.Until(srv.Certificate().NotAfter).Seconds()
	if v, ok := a.value("convctl_tls_cert_expiry_seconds"); !ok || v > want+1 || v < want-10 {
		t.Errorf("convctl_tls_cert_expiry_seconds = %v (present %v), want about %.0f", v, ok, want)
	}
	if _, ok := a.value("convctl_probe_phase_duration_seconds", "phase", "tls"); !ok {
		t.Error("phase tls is absent on wss://")
	}

	// Without the test CA the certificate does not verify: unreachable, and
	// the expiry is still told, from the chain as presented.
	_, base = startExporter(t, ConnectConfig{Token: freshTokens(t)}, Options{})
	a = get(t, base, probePath(wss), "")
	a.want(t, "convctl_probe_success", 0)
	wantOutcome(t, a, "unreachable")
	if v, ok := a.value("convctl_tls_cert_expiry_seconds"); !ok || v > want+1 || v < want-10 {
		t.Errorf("unverified: convctl_tls_cert_expiry_seconds = %v (present %v), want about %.0f", v, ok, want)
	}
}

// A probe of us1 through a network whose TLS is re-signed by a company CA
// (trusted here, not publicly) connects and says so, with the expiry of the
// re-signed certificate: the connect module through netpath's dialer.
func TestProbeTLSInterception(t *testing.T) {
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Contoso Inspection CA", Organization: []string{"Contoso"}}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	notAfter := time.Now().Add(5 * 24 * time.Hour).Truncate(time.Second)
	cert, err := ca.Issue([]string{"tsock.us1.twilio.com"}, tlsca.Validity{NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	em := emulator.New(emulator.Config{Secret: testSecret})
	srv := httptest.NewUnstartedServer(em)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	d, err := netpath.New(netpath.Config{NoProxyEnv: true, ExtraRoots: []*x509.Certificate{ca.Cert},
		ConnectTo: []netpath.ConnectTo{{FromHost: "tsock.us1.twilio.com", FromPort: "443", ToHost: host, ToPort: port}}})
	if err != nil {
		t.Fatal(err)
	}
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t), Network: d}, Options{})
	a := get(t, base, probePath("us1"), "5")
	a.want(t, "convctl_probe_success", 1)
	a.want(t, "convctl_tls_intercepted", 1)
	if v, ok := a.value("convctl_tls_cert_expiry_seconds"); !ok || v > time.Until(notAfter).Seconds()+1 || v < time.Until(notAfter).Seconds()-10 {
		t.Errorf("convctl_tls_cert_expiry_seconds = %v (present %v), want about 5 days", v, ok)
	}
	for _, p := range []string{"tcp", "tls", "upgrade", "init"} {
		if _, ok := a.value("convctl_probe_phase_duration_seconds", "phase", p); !ok {
			t.Errorf("phase %s absent", p)
		}
	}
}

func TestBadParameters(t *testing.T) {
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t)}, Options{})
	tests := []struct {
		path, header, param string
	}{
		{"/probe", "", "target: missing"},
		{"/probe?module=connect", "", "target: missing"},
		{probePath("eu"), "", "target:"},
		{probePath("https://tsock.us1.twilio.com/v3/wsconnect"), "", "target:"},
		{probePath("ftp://example.com"), "", "target:"},
		{probePath("wss://"), "", "target:"},
		{probePath("wss://bob:hunter2@tsock.us1.twilio.com/v3/wsconnect"), "", "target:"},
		{probePath("us1", "module", "http_2xx"), "", `module: unknown module "http_2xx" (known: connect, netcheck)`},
		{probePath("us1", "debug", "yes"), "", "debug:"},
		{probePath("us1"), "soon", timeoutHeader + ":"},
		{probePath("us1"), "-3", timeoutHeader + ":"},
		{probePath("us1"), "NaN", timeoutHeader + ":"},
		{probePath("us1"), "1e-9", timeoutHeader + ":"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.header, func(t *testing.T) {
			a := get(t, base, tt.path, tt.header)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", a.status, a.body)
			}
			line := strings.TrimSuffix(a.body, "\n")
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, tt.param) {
				t.Errorf("answer %q: want one line starting %q", a.body, tt.param)
			}
			if strings.Contains(a.body, "hunter2") {
				t.Errorf("answer %q repeats the password", a.body)
			}
		})
	}
}

func TestProbeTimeout(t *testing.T) {
	h := &Handler{timeout: DefaultTimeout, margin: DefaultTimeoutMargin}
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{{"", 10 * time.Second}, {"10", 9500 * time.Millisecond}, {"1.5", time.Second}, {" 4 ", 3500 * time.Millisecond}, {"0.4", 200 * time.Millisecond}} {
		r := httptest.NewRequest(http.MethodGet, "/probe", nil)
		if tt.header != "" {
			r.Header.Set(timeoutHeader, tt.header)
		}
		if got, err := h.probeTimeout(r); err != nil || got != tt.want {
			t.Errorf("header %q: %v, %v; want %v", tt.header, got, err, tt.want)
		}
	}
}

// A server that never answers init: the probe ends as a timeout within the
// scrape timeout less the margin, and answers before Prometheus gives up.
func TestTimeoutHeaderHonoured(t *testing.T) {
	ws := startEmulator(t, emulator.Config{InitDelay: time.Minute, CloseGrace: 100 * time.Millisecond})
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t)}, Options{DefaultTimeout: 700 * time.Millisecond})
	for _, tt := range []struct {
		header   string
		min, max time.Duration
	}{{"1.5", time.Second, 1500 * time.Millisecond}, {"", 700 * time.Millisecond, 1200 * time.Millisecond}} {
		t.Run("header "+tt.header, func(t *testing.T) {
			t0 := time.Now()
			a := get(t, base, probePath(ws), tt.header)
			took := time.Since(t0)
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			wantOutcome(t, a, "timeout")
			if took < tt.min || took >= tt.max {
				t.Errorf("the answer took %v, want [%v, %v)", took, tt.min, tt.max)
			}
			if v, _ := a.value("convctl_probe_duration_seconds"); v < tt.min.Seconds() || v >= tt.max.Seconds() {
				t.Errorf("convctl_probe_duration_seconds = %v, want [%v, %v)", v, tt.min, tt.max)
			}
		})
	}
}

func TestDebugAnswersTheLogRedacted(t *testing.T) {
	ws := startEmulator(t, emulator.Config{})
	tok := mint(t, testSecret, time.Now())
	_, base := startExporter(t, ConnectConfig{Token: staticToken(tok)}, Options{})
	a := get(t, base, probePath(ws, "debug", "true"), "")
	if a.status != http.StatusOK || !strings.HasPrefix(a.ctype, "text/plain") {
		t.Fatalf("status %d, %s: %s", a.status, a.ctype, a.body)
	}
	for _, want := range []string{"[exporter] probe", "[frame] send", "method=init", "[probe]", "outcome=connected"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the log does not say %q:\n%s", want, a.body)
		}
	}
	sig := tok[strings.LastIndex(tok, ".")+1:]
	if strings.Contains(a.body, sig) {
		t.Errorf("the log holds the token's signature:\n%s", a.body)
	}
	if strings.Contains(a.body, "# TYPE") {
		t.Errorf("debug answered metrics too:\n%s", a.body)
	}
}

// Probes of a good and a denied target at once each answer their own target's facts.
func TestConcurrentProbesAreIndependent(t *testing.T) {
	good := startEmulator(t, emulator.Config{})
	denied := startEmulator(t, emulator.Config{Deny: 20107})
	h, base := startExporter(t, ConnectConfig{Token: freshTokens(t), Hold: 100 * time.Millisecond}, Options{})
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		for _, tc := range []struct {
			url     string
			success float64
			twilio  float64
		}{{good, 1, 0}, {denied, 0, 20107}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := get(t, base, probePath(tc.url), "")
				s, _ := a.value("convctl_probe_success")
				e, _ := a.value("convctl_probe_twilio_error")
				if s != tc.success || e != tc.twilio {
					errs <- fmt.Errorf("%s: success %v twilio %v, want %v %v", tc.url, s, e, tc.success, tc.twilio)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := testutil.ToFloat64(h.probes.WithLabelValues("connect", "connected")); got != n {
		t.Errorf("connected probes counted %v, want %d", got, n)
	}
	if got := testutil.ToFloat64(h.probes.WithLabelValues("connect", "denied")); got != n {
		t.Errorf("denied probes counted %v, want %d", got, n)
	}
	if got := testutil.ToFloat64(h.inFlight); got != 0 {
		t.Errorf("in flight %v after every probe answered", got)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	ws := startEmulator(t, emulator.Config{})
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t)}, Options{})
	for i := 0; i < 2; i++ {
		get(t, base, probePath(ws), "")
	}
	a := get(t, base, "/metrics", "")
	a.want(t, "convctl_exporter_probes_total", 2, "module", "connect", "outcome", "connected")
	a.want(t, "convctl_exporter_probes_total", 0, "module", "connect", "outcome", "denied")
	a.want(t, "convctl_exporter_probes_total", 0, "module", "connect", "outcome", OutcomeTokenError)
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "convctl_exporter_probes_in_flight"} {
		if _, ok := a.mfs[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
	want := `
# HELP convctl_exporter_probes_total Probes run by this exporter, by module and outcome.
# TYPE convctl_exporter_probes_total counter
convctl_exporter_probes_total{module="connect",outcome="connected"} 2
convctl_exporter_probes_total{module="connect",outcome="denied"} 0
convctl_exporter_probes_total{module="connect",outcome="disconnected"} 0
convctl_exporter_probes_total{module="connect",outcome="timeout"} 0
convctl_exporter_probes_total{module="connect",outcome="token_error"} 0
convctl_exporter_probes_total{module="connect",outcome="unreachable"} 0
convctl_exporter_probes_total{module="netcheck",outcome="failed"} 0
convctl_exporter_probes_total{module="netcheck",outcome="ok"} 0
`
	if err := testutil.ScrapeAndCompare(base+"/metrics", strings.NewReader(want), "convctl_exporter_probes_total"); err != nil {
		t.Error(err)
	}
}

func TestIndexAndLogs(t *testing.T) {
	ws := startEmulator(t, emulator.Config{})
	_, base := startExporter(t, ConnectConfig{Token: freshTokens(t)}, Options{History: 3})
	if a := get(t, base, "/", ""); a.status != http.StatusOK || !strings.Contains(a.body, "No probes yet") {
		t.Errorf("empty index: %d %s", a.status, a.body)
	}
	for i := 0; i < 5; i++ {
		get(t, base, probePath(ws, "module", "connect"), "")
	}
	a := get(t, base, "/", "")
	if !strings.HasPrefix(a.ctype, "text/html") {
		t.Errorf("index content type %q", a.ctype)
	}
	if got := strings.Count(a.body, "data-probe-id="); got != 3 {
		t.Errorf("the index lists %d probes, want the last 3:\n%s", got, a.body)
	}
	for _, want := range []string{`href="logs/4"`, `href="logs/2"`, ">connected<", ">connect<", strings.ReplaceAll(ws, "/", "/")} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the index does not hold %q:\n%s", want, a.body)
		}
	}
	if strings.Contains(a.body, `href="logs/1"`) {
		t.Errorf("the index still lists probe 1")
	}
	l := get(t, base, "/logs/4", "")
	if l.status != http.StatusOK || !strings.Contains(l.body, "[exporter] probe done") || !strings.Contains(l.body, "convctl_probe_success 1") {
		t.Errorf("/logs/4: %d\n%s", l.status, l.body)
	}
	if l := get(t, base, "/logs/1", ""); l.status != http.StatusNotFound {
		t.Errorf("/logs/1 (dropped): status %d", l.status)
	}
	if l := get(t, base, "/logs/x", ""); l.status != http.StatusBadRequest {
		t.Errorf("/logs/x: status %d", l.status)
	}
	if l := get(t, base, "/nothing", ""); l.status != http.StatusNotFound {
		t.Errorf("/nothing: status %d", l.status)
	}
}

// A probe whose scrape is cancelled (Prometheus gave up, or the exporter is
// stopping) stops at once and is not counted as a verdict.
func TestCancelledProbeStops(t *testing.T) {
	ws := startEmulator(t, emulator.Config{InitDelay: time.Minute, CloseGrace: 100 * time.Millisecond})
	var logs strings.Builder
	var mu sync.Mutex
	fetched := make(chan struct{})
	var once sync.Once
	token := func(ctx context.Context) (string, error) {
		once.Do(func() { close(fetched) })
		return mint(t, testSecret, time.Now()), nil
	}
	h, err := New(Options{
		Modules: Modules(ModuleConfig{Connect: ConnectConfig{Token: token, tune: fastTune}}),
		Logger:  slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logs}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodGet, probePath(ws), nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { defer close(done); h.ServeHTTP(rec, req) }()
	// Cancel once the probe has its token and is on its way to init.
	select {
	case <-fetched:
	case <-time.After(5 * time.Second):
		t.Fatal("the probe never asked for a token")
	}
	t0 := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the probe did not stop within 2s of its scrape being cancelled")
	}
	if took := time.Since(t0); took > time.Second {
		t.Errorf("stopped %v after the cancel", took)
	}
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	for _, o := range append(allOutcomes, OutcomeTokenError) {
		if got := testutil.ToFloat64(h.probes.WithLabelValues("connect", o)); got != 0 {
			t.Errorf("an interrupted probe was counted as %s", o)
		}
	}
	if e := h.history.recent(); len(e) != 1 || e[0].Outcome != outcomeInterrupted {
		t.Errorf("history %+v, want one interrupted probe", e)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
