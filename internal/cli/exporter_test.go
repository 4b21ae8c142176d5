package cli

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
)

var exporterSecret = []byte("exporter-cli-test-secret-0123456")

// Flags to options, without listening.
func TestExporterFlags(t *testing.T) {
	io, _, _, _ := TestIO()
	f := &Factory{IO: io, Getenv: func(string) string { return "" }, HTTPClient: http.DefaultClient}
	var got *ExporterOptions
	cmd := NewCmdExporter(f, func(_ context.Context, o *ExporterOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--token-url", "http://127.0.0.1:1/token", "--listen", ":9999", "--hold", "2s", "--ping", "0",
		"--history", "7", "--debug", "--log-format", "json", "-4", "--proxy", "http://u:pw@127.0.0.1:3128",
		"--connect-to", "tsock.us1.twilio.com:443:127.0.0.1:4443"})
	cmd.SetOut(io.Out)
	cmd.SetErr(io.ErrOut)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Listen != ":9999" || got.Hold != 2*time.Second || got.Ping != 0 || got.History != 7 || !got.Debug || !got.LogJSON ||
		got.Source == nil || got.Source.Name() == "" {
		t.Errorf("options %+v", *got)
	}
	if got.Net.Family != netpath.FamilyIPv4 || got.Net.Proxy == nil || got.Net.Proxy.Host != "127.0.0.1:3128" || len(got.Net.ConnectTo) != 1 {
		t.Errorf("network options %+v", got.Net)
	}

	got = nil
	cmd = NewCmdExporter(f, func(_ context.Context, o *ExporterOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--token-cmd", "echo x"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Listen != "127.0.0.1:9469" || got.Hold != time.Second || got.Ping != 250*time.Millisecond || got.History != 100 || got.Debug {
		t.Errorf("defaults %+v", *got)
	}
}

func TestExporterUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"exporter", "--token-cmd", ""}, "--token-cmd is empty"},
		{[]string{"exporter", "--token-cmd", "echo x", "--proxy", "ftp://x"}, "--proxy"},
		{[]string{"exporter", "--token-cmd", "echo x", "--listen", "9469"}, "want HOST:PORT"},
		{[]string{"exporter", "--token-cmd", "echo x", "--hold", "-1s"}, "cannot be negative"},
		{[]string{"exporter", "--token-cmd", "echo x", "--history", "0"}, "--history 0"},
		{[]string{"exporter", "--token-cmd", "echo x", "--log-format", "xml"}, "--log-format"},
		{[]string{"exporter", "--token-cmd", "echo x", "us1"}, "unknown command"},
	} {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			io, _, out, errOut := TestIO()
			if code := Run(context.Background(), tt.args, io, func(string) string { return "" }); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, exitUsage, errOut)
			}
			if !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("stderr %q does not say %q", errOut, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

// tokenEndpoint serves freshly minted tokens (signed with secret) at its
// URL, as an app's token endpoint does; fetched is signalled on each GET.
func tokenEndpoint(t testing.TB, secret []byte, fetched chan<- struct{}) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := inspect.Mint(inspect.MintOptions{
			AccountSID: "AC00000000000000000000000000000001", APIKeySID: "SK00000000000000000000000000000001",
			Secret: secret, Identity: "probe", ChatServiceSID: "IS00000000000000000000000000000001",
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"identity": "probe", "token": tok})
		if fetched != nil {
			select {
			case fetched <- struct{}{}:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token"
}

func exporterEmulator(t testing.TB, cfg emulator.Config) string {
	t.Helper()
	cfg.Secret = exporterSecret
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS
}

// runningExporter is `convctl exporter` run in this process, with the
// exporter linked in as in convctl-exporter.
type runningExporter struct {
	url    string // http://127.0.0.1:PORT/
	stderr *testpeer.Buffer
	cancel context.CancelFunc
	done   chan int // the exit code
}

// startExporterCLI runs the exporter with args on a free loopback port and
// returns once its URL is on stdout.
func startExporterCLI(t *testing.T, args ...string) *runningExporter {
	t.Helper()
	pr, pw := io.Pipe()
	errOut := &testpeer.Buffer{}
	streams := &IOStreams{In: strings.NewReader(""), Out: pw, ErrOut: errOut}
	ctx, cancel := context.WithCancel(context.Background())
	e := &runningExporter{stderr: errOut, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := LinkedForTest.Run(ctx, append([]string{"exporter", "--listen", "127.0.0.1:0"}, args...), streams, func(string) string { return "" })
		pw.Close()
		e.done <- code
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "http://127.0.0.1:") {
			cancel()
			t.Fatalf("first line %q; stderr:\n%s", line, errOut)
		}
		e.url = line
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("the exporter did not print its URL within 10s; stderr:\n%s", errOut)
	}
	t.Cleanup(func() { e.stop(t) })
	return e
}

// stop cancels the exporter (as SIGINT does through Main) and returns its
// exit code and how long it took to stop.
func (e *runningExporter) stop(t *testing.T) (int, time.Duration) {
	t.Helper()
	t0 := time.Now()
	e.cancel()
	select {
	case code, ok := <-e.done:
		if !ok {
			return -1, 0
		}
		close(e.done)
		return code, time.Since(t0)
	case <-time.After(5 * time.Second):
		t.Fatalf("the exporter did not stop within 5s; stderr:\n%s", e.stderr)
	}
	return -1, 0
}

func probeURL(base, target string) string {
	return base + "probe?" + url.Values{"target": {target}}.Encode()
}

// A probe in flight when the exporter is told to stop is cancelled, and the
// exporter is gone within 2 s.
func TestExporterStopsWithProbeInFlight(t *testing.T) {
	slow := exporterEmulator(t, emulator.Config{InitDelay: time.Minute, CloseGrace: 100 * time.Millisecond})
	fetched := make(chan struct{}, 1)
	e := startExporterCLI(t, "--token-url", tokenEndpoint(t, exporterSecret, fetched))

	answered := make(chan int, 1)
	go func() {
		resp, err := http.Get(probeURL(e.url, slow))
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case <-fetched:
	case <-time.After(10 * time.Second):
		t.Fatal("the probe never fetched its token")
	}
	code, took := e.stop(t)
	if code != exitOK {
		t.Errorf("exit %d, want 0; stderr:\n%s", code, e.stderr)
	}
	if took > 2*time.Second {
		t.Errorf("stopped after %v, want within 2s", took)
	}
	select {
	case status := <-answered:
		if status != http.StatusServiceUnavailable && status != -1 {
			t.Errorf("the probe in flight was answered %d, want 503 or a closed connection", status)
		}
	case <-time.After(2 * time.Second):
		t.Error("the probe in flight was never answered or closed")
	}
	for _, want := range []string{"serving probes", "probe interrupted", "stopped"} {
		if !strings.Contains(e.stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, e.stderr)
		}
	}
}

// Without a token source the exporter starts, says what it cannot do, and
// answers module=connect with the reason (module=netcheck needs no token).
func TestExporterWithoutTokenSource(t *testing.T) {
	e := startExporterCLI(t)
	if !strings.Contains(e.stderr.String(), "no token source: module=connect answers 400") {
		t.Errorf("stderr does not warn:\n%s", e.stderr)
	}
	resp, err := http.Get(probeURL(e.url, "us1"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "no token source") {
		t.Errorf("module=connect: %d %q, want 400 naming the missing token source", resp.StatusCode, body)
	}
}

// freePort returns a loopback address nothing listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A real Prometheus scrapes the exporter for a good and a denied target with
// the documented relabelling; the series are read back from its query API.
func TestExporterWithPrometheus(t *testing.T) {
	promBin := testpeer.Need(t, "prometheus", "prometheus")
	good := exporterEmulator(t, emulator.Config{})
	denied := exporterEmulator(t, emulator.Config{Deny: 20107})
	e := startExporterCLI(t, "--token-url", tokenEndpoint(t, exporterSecret, nil), "--hold", "0")
	exporterAddr := strings.TrimSuffix(strings.TrimPrefix(e.url, "http://"), "/")

	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: convctl
    metrics_path: /probe
    params:
      module: [connect]
    static_configs:
      - targets: [%q, %q]
        labels: {site: here, __exporter: %q}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - source_labels: [__exporter]
        target_label: __address__
  - job_name: convctl_exporter
    static_configs:
      - targets: [%q]
`, good, denied, exporterAddr, exporterAddr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr := freePort(t)
	var promLog testpeer.Buffer
	cmd := exec.Command(promBin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &promLog, &promLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	// query returns the value of each series of q, by its instance label.
	query := func(q string) (map[string]string, error) {
		resp, err := http.Get("http://" + promAddr + "/api/v1/query?" + url.Values{"query": {q}}.Encode())
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var ans struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
			return nil, err
		}
		if ans.Status != "success" {
			return nil, fmt.Errorf("query %s: %s", q, ans.Error)
		}
		out := map[string]string{}
		for _, r := range ans.Data.Result {
			v, _ := r.Value[1].(string)
			out[r.Metric["instance"]] = v
		}
		return out, nil
	}
	// waitFor polls Prometheus until cond holds for q's answer, for at most 60 s.
	waitFor := func(q string, cond func(map[string]string) bool) map[string]string {
		t.Helper()
		deadline := time.NewTimer(60 * time.Second)
		defer deadline.Stop()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		var last map[string]string
		var lastErr error
		for {
			if last, lastErr = query(q); lastErr == nil && cond(last) {
				return last
			}
			select {
			case <-deadline.C:
				t.Fatalf("Prometheus never answered %s as wanted: last %v, err %v\nprometheus log:\n%s\nexporter log:\n%s",
					q, last, lastErr, promLog.String(), e.stderr)
			case err := <-exited:
				t.Fatalf("prometheus exited: %v\n%s", err, promLog.String())
			case <-tick.C:
			}
		}
	}
	both := func(m map[string]string) bool { return m[good] != "" && m[denied] != "" }

	// The multi-site relabelling of docs/prometheus.md: the site label stays.
	success := waitFor(`convctl_probe_success{job="convctl",site="here"}`, both)
	if success[good] != "1" || success[denied] != "0" {
		t.Errorf("convctl_probe_success: good %s, denied %s; want 1, 0", success[good], success[denied])
	}
	if up := waitFor(`up{job="convctl"}`, both); up[good] != "1" || up[denied] != "1" {
		t.Errorf("up: %v, want 1 for both (the scrape itself works when the probe fails)", up)
	}
	if te := waitFor(`convctl_probe_twilio_error{job="convctl"}`, both); te[good] != "0" || te[denied] != "20107" {
		t.Errorf("convctl_probe_twilio_error: %v, want 0 and 20107", te)
	}
	if o := waitFor(`convctl_probe_outcome{job="convctl",outcome="denied"}`, both); o[good] != "0" || o[denied] != "1" {
		t.Errorf(`convctl_probe_outcome{outcome="denied"}: %v`, o)
	}
	waitFor(`convctl_probe_phase_duration_seconds{job="convctl",phase="init"}`, both)
	waitFor(`convctl_token_expiry_seconds{job="convctl"} > 3000`, both)
	counted := waitFor(`sum by (instance) (convctl_exporter_probes_total{job="convctl_exporter",outcome=~"connected|denied"})`,
		func(m map[string]string) bool { return m[exporterAddr] != "" && m[exporterAddr] != "0" })
	t.Logf("probes counted by the exporter: %s", counted[exporterAddr])
}

// --ca-file reaches module=connect: a wss:// server whose certificate comes
// from a company CA is trusted with the CA's PEM, and its expiry is answered.
func TestExporterCAFile(t *testing.T) {
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Contoso Root"}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue([]string{"127.0.0.1"}, tlsca.Validity{NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	em := emulator.New(emulator.Config{Secret: exporterSecret})
	srv := httptest.NewUnstartedServer(em)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	wss := "wss" + strings.TrimPrefix(srv.URL, "https") + emulator.PathWS
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteCertPEM(caFile); err != nil {
		t.Fatal(err)
	}
	tokens := tokenEndpoint(t, exporterSecret, nil)
	for _, tt := range []struct {
		name   string
		args   []string
		want   string
		expiry bool
	}{
		{"with --ca-file", []string{"--ca-file", caFile}, "convctl_probe_success 1", true},
		// Untrusted: unreachable, and the expiry as presented all the same.
		{"without", nil, `convctl_probe_outcome{outcome="unreachable"} 1`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := startExporterCLI(t, append([]string{"--token-url", tokens, "--hold", "0"}, tt.args...)...)
			resp, err := http.Get(probeURL(e.url, wss))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), tt.want+"\n") {
				t.Errorf("the answer does not say %q:\n%s", tt.want, b)
			}
			if got := strings.Contains(string(b), "\nconvctl_tls_cert_expiry_seconds 8"); got != tt.expiry {
				t.Errorf("certificate expiry (about 864000 s) present %v, want %v:\n%s", got, tt.expiry, b)
			}
		})
	}
}
