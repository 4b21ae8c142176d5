package cli

import (
	"bytes"
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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/netcheck"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
)

// Every netcheck here checks the real host names of us1, each sent with
// --connect-to to a TLS server the test starts on 127.0.0.1 (tsock in front
// of pkg/emulator), with a certificate for the name from the test's own CA,
// given with --ca-file. Nothing else is dialled.

// ncSite is us1's endpoints served on 127.0.0.1.
type ncSite struct {
	ca      *tlsca.CA
	caFile  string
	servers map[string]*httptest.Server // by short name: tsock, mcs, ...
	dest    map[string]string           // real host name → host:port dialled instead
	order   []string                    // real host names, as netcheck lists them
}

func newNcSite(t *testing.T) *ncSite {
	t.Helper()
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Contoso Inspection CA", Organization: []string{"Contoso"}}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	s := &ncSite{ca: ca, caFile: filepath.Join(t.TempDir(), "ca.pem"), servers: map[string]*httptest.Server{}, dest: map[string]string{}}
	if err := ca.WriteCertPEM(s.caFile); err != nil {
		t.Fatal(err)
	}
	for _, e := range netcheck.Endpoints("us1") {
		s.order = append(s.order, e.Host)
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound) // Twilio's hosts answer / with 404 or a redirect
		})
		if e.Protocol == netcheck.ProtocolWSS {
			em := emulator.New(emulator.Config{})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				_ = em.Shutdown(ctx)
			})
			h = em
		}
		s.serve(t, e.Host, h)
	}
	return s
}

// serve starts the server for host with handler h and routes host to it.
func (s *ncSite) serve(t *testing.T, host string, h http.Handler) *httptest.Server {
	t.Helper()
	cert, err := s.ca.Issue([]string{host}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	// Handshakes the client refuses on purpose are not the server's news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	short, _, _ := strings.Cut(host, ".")
	s.servers[short] = srv
	s.dest[host] = srv.Listener.Addr().String()
	return srv
}

// port is the port the server of short listens on.
func (s *ncSite) port(short string) string {
	_, p, _ := net.SplitHostPort(s.servers[short].Listener.Addr().String())
	return p
}

// args are the flags that send every real name to its local server.
func (s *ncSite) args() []string {
	a := []string{"--ca-file", s.caFile}
	for _, h := range s.order {
		a = append(a, "--connect-to", h+":443:"+s.dest[h])
	}
	return a
}

// ncRun runs `convctl netcheck args...` through Run, as main does.
func ncRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errOut := TestIO()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = Run(ctx, append([]string{"netcheck"}, args...), ios, func(string) string { return "" })
	return code, out.String(), errOut.String()
}

// ncHooked runs the whole command tree with netcheck's options adjusted by
// hook before it runs: what Run does, with a test's hand on the options.
func ncHooked(t *testing.T, ctx context.Context, ios *IOStreams, hook func(*NetcheckOptions), args ...string) int {
	t.Helper()
	f := NewFactory(ios, func(string) string { return "" })
	root := NewCmdRoot(f)
	var old *cobra.Command
	for _, c := range root.Commands() {
		if c.Name() == "netcheck" {
			old = c
		}
	}
	root.RemoveCommand(old)
	root.AddCommand(NewCmdNetcheck(f, func(ctx context.Context, o *NetcheckOptions) error {
		hook(o)
		return runNetcheck(ctx, o)
	}))
	root.SetArgs(append([]string{"netcheck"}, args...))
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	if err != nil && !isSilent(err) {
		fmt.Fprintf(ios.ErrOut, "error: %v\n", err)
	}
	return exitCodeOf(err)
}

// trustPublicly makes the test CA part of the public Web PKI for one run,
// so its certificates are not taken for interception.
func (s *ncSite) trustPublicly(o *NetcheckOptions) {
	o.tune = func(c *netcheck.Config) { c.Net.PublicRoots = s.ca.Pool() }
}

// stabilise fixes what varies between runs (timings, ports, the clock)
// so the text can be compared with a golden file.
func stabilise(rep *netcheck.Report) { stabiliseRound(rep, 1) }

// stabiliseRounds is stabilise for --every: round n starts 10s after the
// one before and is n times as slow, so percentiles differ.
func stabiliseRounds() func(*netcheck.Report) {
	n := 0
	return func(rep *netcheck.Report) { n++; stabiliseRound(rep, n) }
}

func stabiliseRound(rep *netcheck.Report, n int) {
	f := func(v float64) *float64 { return &v }
	rep.Started = time.Date(2026, 11, 29, 19, 20, 5, 0, time.Local).Add(time.Duration(n-1) * 10 * time.Second)
	for _, r := range rep.Endpoints {
		steady := map[string]float64{"dns": 1.2, "proxy": 0.9, "tcp": 0.2, "tls": 3.1, "app": 0.6}
		for _, p := range netcheck.Phases {
			if v := r.Timing.Get(p); v != nil {
				*v = steady[p] * float64(n)
			}
		}
		if r.DNS != nil {
			r.DNS.AMS, r.DNS.AAAAMS = f(1.2), f(1.1)
		}
		r.Duration = time.Duration(n) * 4100 * time.Microsecond
		for i := range r.Addresses {
			if h, _, err := net.SplitHostPort(r.Addresses[i].Address); err == nil {
				r.Addresses[i].Address = net.JoinHostPort(h, "PORT")
			}
		}
	}
}

var portRE = regexp.MustCompile(`(127\.0\.0\.1|\[::1\]|localhost):[0-9]+`)

// checkNcGolden compares out (ports normalised) with testdata/netcheck/name.
func checkNcGolden(t *testing.T, name, out string) {
	t.Helper()
	got := []byte(portRE.ReplaceAllString(out, "$1:PORT"))
	path := filepath.Join("testdata", "netcheck", name)
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./internal/cli -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func decodeNetcheck(t *testing.T, stdout string) *netcheck.Report {
	t.Helper()
	var rep netcheck.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON report: %v\n%s", err, stdout)
	}
	return &rep
}

func ncResult(t *testing.T, rep *netcheck.Report, short string) *netcheck.Result {
	t.Helper()
	for _, r := range rep.Endpoints {
		if strings.HasPrefix(r.Host, short+".") {
			return r
		}
	}
	t.Fatalf("no result for %s", short)
	return nil
}

func hasNcWarning(rep *netcheck.Report, code, host string) bool {
	for _, w := range rep.Warnings {
		if w.Code == code && (host == "" || w.Host == host) {
			return true
		}
	}
	return false
}

func TestNetcheckAllUp(t *testing.T) {
	noLeaks(t)
	s := newNcSite(t)
	code, stdout, stderr := ncRun(t, append(s.args(), "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstderr: %s\nstdout: %s", code, stderr, stdout)
	}
	if stderr != "" {
		t.Errorf("stderr is not empty off a terminal: %q", stderr)
	}
	rep := decodeNetcheck(t, stdout)
	if !rep.OK || rep.Region != "us1" || len(rep.Endpoints) != 5 {
		t.Fatalf("report: ok=%v region=%s endpoints=%d", rep.OK, rep.Region, len(rep.Endpoints))
	}
	for _, r := range rep.Endpoints {
		want := 404
		if r.Protocol == "wss" {
			want = 101
		}
		if !r.OK || r.HTTPStatus == nil || *r.HTTPStatus != want || r.Error != nil || r.Hint != nil || r.Port != 443 {
			t.Errorf("%s: ok=%v status=%v error=%v", r.Host, r.OK, r.HTTPStatus, r.Error)
		}
		if r.TLS == nil || !r.TLS.Verified || r.Timing.TCP == nil || r.Timing.TLS == nil || r.Timing.App == nil {
			t.Errorf("%s: tls %+v timing %+v", r.Host, r.TLS, r.Timing)
		}
	}
	// The test CA is trusted with --ca-file but by no public root: it looks
	// exactly like a TLS-inspecting box, and the report says so.
	if !hasNcWarning(rep, netcheck.WarnTLSIntercepted, "tsock.us1.twilio.com") {
		t.Errorf("no interception warning: %+v", rep.Warnings)
	}

	// The same in text: a line per endpoint, and the verdict.
	code, stdout, _ = ncRun(t, s.args()...)
	if code != exitOK {
		t.Fatalf("text: exit %d", code)
	}
	for _, want := range []string{"PASS tsock.us1.twilio.com  wss", "HTTP 101", "HTTP 404  (informative)",
		"! TLS is intercepted: the certificate is signed by CN=Contoso Inspection CA,O=Contoso", "on every endpoint",
		"ok every required endpoint is reachable (3 of 3), 1 warning above"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
}

func TestNetcheckEndpointDown(t *testing.T) {
	s := newNcSite(t)
	s.servers["mcs"].Close() // its port now refuses
	s.servers["aim"].Close() // informative: does not fail the check
	code, stdout, stderr := ncRun(t, append(s.args(), "-o", "json")...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstderr: %s", code, stderr)
	}
	rep := decodeNetcheck(t, stdout)
	mcs := ncResult(t, rep, "mcs")
	if rep.OK || mcs.OK || mcs.Phase != "tcp" || mcs.Error == nil || mcs.Hint == nil || mcs.HTTPStatus != nil {
		t.Fatalf("mcs: %+v", mcs)
	}
	if aim := ncResult(t, rep, "aim"); aim.OK || aim.Required {
		t.Fatalf("aim: %+v", aim)
	}
	for _, short := range []string{"tsock", "media", "cds"} {
		if !ncResult(t, rep, short).OK {
			t.Errorf("%s failed beside mcs", short)
		}
	}

	code, stdout, _ = ncRun(t, s.args()...)
	if code != exitFailed {
		t.Fatalf("text: exit %d", code)
	}
	for _, want := range []string{"FAIL mcs.us1.twilio.com    https", "FAIL mcs.us1.twilio.com is not reachable (2 of 3 required endpoints are)",
		"  mcs.us1.twilio.com (failed at tcp)", "connection refused", "hint: ", "aim.us1.twilio.com (informative, failed at tcp)",
		"Ask IT to allow what failed; the list for the ticket: convctl netcheck --allowlist"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
}

// TestNetcheckBlockedByProxy sends every endpoint through Debian's
// tinyproxy, whose filter refuses one name. Through a proxy --connect-to
// sets the CONNECT target, so media goes to a name the filter matches,
// on its own loopback server.
func TestNetcheckBlockedByProxy(t *testing.T) {
	proxy := testpeer.Tinyproxy{Filter: []string{`^blocked\.`}}.Start(t)
	s := newNcSite(t)
	s.dest["media.us1.twilio.com"] = "blocked.localhost:" + s.port("media")
	args := append(s.args(), "--proxy", "http://"+proxy)
	code, stdout, stderr := ncRun(t, append(args, "-o", "json")...)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstderr: %s", code, stderr)
	}
	rep := decodeNetcheck(t, stdout)
	media := ncResult(t, rep, "media")
	if media.OK || media.Kind != string(netpath.KindProxyForbidden) || media.Proxy == nil ||
		media.Proxy.ConnectStatus == nil || *media.Proxy.ConnectStatus != 403 {
		t.Fatalf("media: ok=%v kind=%q proxy=%+v", media.OK, media.Kind, media.Proxy)
	}
	ts := ncResult(t, rep, "tsock")
	if !ts.OK || ts.Proxy == nil || ts.Proxy.Source != "flag" || ts.Timing.Proxy == nil || ts.Addresses == nil || len(ts.Addresses) != 0 {
		t.Fatalf("tsock through the proxy: ok=%v proxy=%+v addresses=%v", ts.OK, ts.Proxy, ts.Addresses)
	}
	// addresses is [] through a proxy, never null.
	if !strings.Contains(stdout, `"addresses": []`) || strings.Contains(stdout, `"addresses": null`) {
		t.Errorf("addresses through a proxy should be []:\n%s", stdout)
	}
	if !hasNcWarning(rep, netcheck.WarnProxyInUse, "") {
		t.Errorf("warnings: %+v", rep.Warnings)
	}

	code, stdout, _ = ncRun(t, args...)
	if code != exitFailed {
		t.Fatalf("text: exit %d", code)
	}
	for _, want := range []string{"via proxy", "proxy_forbidden (proxy 403)", "! connections go through the proxy http://127.0.0.1:",
		"media.us1.twilio.com (failed at proxy)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, stdout)
		}
	}
}

// TestNetcheckIPv6Broken: tsock's --connect-to destination resolves (with
// --resolve) to [::1] and 127.0.0.1, and its server listens on 127.0.0.1
// only, so IPv6 refuses and IPv4 carries the connection.
func TestNetcheckIPv6Broken(t *testing.T) {
	s := newNcSite(t)
	port := s.port("tsock")
	s.dest["tsock.us1.twilio.com"] = "dualstack.test:" + port
	args := append(s.args(), "--resolve", "dualstack.test:"+port+":[::1],127.0.0.1", "-o", "json")
	code, stdout, stderr := ncRun(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d, want 0 (a warning is not a failure)\nstderr: %s", code, stderr)
	}
	rep := decodeNetcheck(t, stdout)
	ts := ncResult(t, rep, "tsock")
	if !ts.OK || len(ts.Addresses) != 2 || ts.Addresses[0].Family != "ipv6" || ts.Addresses[0].Error == nil || !ts.Addresses[1].Used {
		t.Fatalf("tsock addresses: %+v", ts.Addresses)
	}
	if !hasNcWarning(rep, netcheck.WarnIPv6Broken, "tsock.us1.twilio.com") {
		t.Fatalf("no ipv6_broken warning: %+v", rep.Warnings)
	}
	// -4 keeps IPv4 only: nothing to warn about.
	code, stdout, _ = ncRun(t, append(args, "-4")...)
	rep = decodeNetcheck(t, stdout)
	if code != exitOK || hasNcWarning(rep, netcheck.WarnIPv6Broken, "") || len(ncResult(t, rep, "tsock").Addresses) != 1 {
		t.Fatalf("-4: exit %d, warnings %+v, addresses %+v", code, rep.Warnings, ncResult(t, rep, "tsock").Addresses)
	}
}

// TestNetcheckInterception: trusted here (--ca-file), not publicly: the
// warning names the issuer; trusted publicly too (as Twilio's real chain
// is), no warning.
func TestNetcheckInterception(t *testing.T) {
	s := newNcSite(t)
	ios, _, out, _ := TestIO()
	if code := ncHooked(t, context.Background(), ios, func(*NetcheckOptions) {}, append(s.args(), "-o", "json")...); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	rep := decodeNetcheck(t, out.String())
	for _, r := range rep.Endpoints {
		if r.TLS == nil || r.TLS.InterceptedBy == nil || *r.TLS.InterceptedBy != "CN=Contoso Inspection CA,O=Contoso" ||
			!hasNcWarning(rep, netcheck.WarnTLSIntercepted, r.Host) {
			t.Errorf("%s: tls %+v", r.Host, r.TLS)
		}
	}

	ios, _, out, _ = TestIO()
	if code := ncHooked(t, context.Background(), ios, s.trustPublicly, append(s.args(), "-o", "json")...); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	rep = decodeNetcheck(t, out.String())
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings with a publicly trusted chain: %+v", rep.Warnings)
	}

	// Not trusted at all (no --ca-file): every endpoint fails at TLS, and
	// the message names the issuer.
	code, stdout, _ := ncRun(t, s.args()[2:]...)
	if code != exitFailed || !strings.Contains(stdout, "Contoso Inspection CA") || !strings.Contains(stdout, "(failed at tls)") {
		t.Errorf("without --ca-file: exit %d\n%s", code, stdout)
	}
}

func TestNetcheckEveryRounds(t *testing.T) {
	noLeaks(t)
	s := newNcSite(t)
	code, stdout, stderr := ncRun(t, append(s.args(), "--every", "1ms", "--count", "3", "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 3 rounds and a summary:\n%s", len(lines), stdout)
	}
	for _, l := range lines[:3] {
		if rep := decodeNetcheck(t, l); !rep.OK || len(rep.Endpoints) != 5 {
			t.Errorf("round: %s", l)
		}
	}
	var sum struct {
		Summary *netcheck.Summary `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[3]), &sum); err != nil || sum.Summary == nil {
		t.Fatalf("last line is not a summary: %v\n%s", err, lines[3])
	}
	if sum.Summary.Rounds != 3 || len(sum.Summary.Endpoints) != 5 {
		t.Fatalf("summary: %+v", sum.Summary)
	}
	for _, e := range sum.Summary.Endpoints {
		if e.SuccessRatio != 1 || e.P50MS == nil || e.P95MS == nil || e.Phases["tls"].P95MS <= 0 {
			t.Errorf("%s: %+v", e.Host, e)
		}
	}
}

// A round that fails makes the whole --every run fail (exit 1), and the
// summary shows which endpoint and how often; the clock between rounds is
// the test's.
func TestNetcheckEveryFailedRound(t *testing.T) {
	s := newNcSite(t)
	ios, _, out, _ := TestIO()
	waits := 0
	hook := func(o *NetcheckOptions) {
		o.stable = stabiliseRounds()
		s.trustPublicly(o)
		o.after = func(time.Duration) <-chan time.Time {
			waits++
			if waits == 1 {
				s.servers["mcs"].Close() // rounds 2 and 3 find it down
			}
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		}
	}
	code := ncHooked(t, context.Background(), ios, hook, append(s.args(), "--every", "1h", "--count", "3")...)
	if code != exitFailed || waits != 2 {
		t.Fatalf("exit %d after %d waits, want 1 after 2", code, waits)
	}
	checkNcGolden(t, "every.txt", out.String())
}

// On a terminal, --every shows on stderr which round is being checked and
// when the next one starts, and clears it before each line of the report.
func TestNetcheckEveryProgress(t *testing.T) {
	s := newNcSite(t)
	ios, _, out, errOut := TestIO()
	ios.SetTTY(true)
	hook := func(o *NetcheckOptions) {
		o.after = func(time.Duration) <-chan time.Time {
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		}
	}
	if code := ncHooked(t, context.Background(), ios, hook, append(s.args(), "--every", "1m", "--count", "2")...); code != exitOK {
		t.Fatalf("exit %d\nstderr: %q", code, errOut)
	}
	for _, want := range []string{"checking us1 (round 1)", "checking us1 (round 2)", "round 2 at ", "Ctrl-C: stop and summarise"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("progress lacks %q: %q", want, errOut)
		}
	}
	if !strings.HasSuffix(errOut.String(), "\r\x1b[K") {
		t.Errorf("the status line is left on screen: %q", errOut)
	}
	if !strings.HasPrefix(out.String(), "round 1 ") || strings.Count(out.String(), "\nround ") != 1 || !strings.Contains(out.String(), "✓\x1b[0m tsock") {
		t.Errorf("round lines:\n%s", out)
	}
}

// Ctrl-C (the context ending) during the wait between rounds ends the run
// with the summary of the rounds that finished, and the exit code they
// earn.
func TestNetcheckEveryInterrupted(t *testing.T) {
	noLeaks(t)
	s := newNcSite(t)
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			ios, _, out, errOut := TestIO()
			waits := 0
			hook := func(o *NetcheckOptions) {
				o.after = func(time.Duration) <-chan time.Time {
					waits++
					switch waits {
					case 1: // round 2 starts at once
						ch := make(chan time.Time, 1)
						ch <- time.Time{}
						return ch
					case 2: // the user presses Ctrl-C while waiting for round 3
						cancel()
					default:
						t.Errorf("waited again after the interrupt")
					}
					return make(chan time.Time) // never fires: only the interrupt ends the wait
				}
			}
			code := ncHooked(t, ctx, ios, hook, append(s.args(), "--every", "1h", "-o", output)...)
			if code != exitOK {
				t.Fatalf("exit %d, want 0 (two good rounds)\nstderr: %s", code, errOut)
			}
			switch output {
			case "json":
				lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
				if len(lines) != 3 || !strings.HasPrefix(lines[2], `{"summary":{"rounds":2,`) {
					t.Fatalf("want 2 rounds and a summary:\n%s", out)
				}
			default:
				if !strings.Contains(out.String(), "Summary of 2 rounds") || strings.Count(out.String(), "\nround ") != 1 {
					t.Fatalf("want 2 round lines and a summary:\n%s", out)
				}
			}
		})
	}
}

// An interrupt before the first round finished leaves nothing to
// summarise: exit 3.
func TestNetcheckInterruptedFirstRound(t *testing.T) {
	s := newNcSite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, extra := range [][]string{nil, {"--every", "1s"}} {
		ios, _, _, errOut := TestIO()
		code := ncHooked(t, ctx, ios, func(*NetcheckOptions) {}, append(s.args(), extra...)...)
		if code != exitCannotFinish || !strings.Contains(errOut.String(), "interrupted") {
			t.Errorf("%v: exit %d, want 3\nstderr: %s", extra, code, errOut)
		}
	}
}

func TestNetcheckTextGolden(t *testing.T) {
	s := newNcSite(t)
	run := func(t *testing.T, tty bool, hook func(*NetcheckOptions), args ...string) (int, string, string) {
		ios, _, out, errOut := TestIO()
		ios.SetTTY(tty)
		code := ncHooked(t, context.Background(), ios, func(o *NetcheckOptions) {
			o.stable = stabilise
			hook(o)
		}, args...)
		return code, out.String(), errOut.String()
	}
	t.Run("up", func(t *testing.T) {
		code, out, errOut := run(t, false, s.trustPublicly, s.args()...)
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		checkNcGolden(t, "up.txt", out)
	})
	t.Run("up on a terminal", func(t *testing.T) {
		code, out, errOut := run(t, true, s.trustPublicly, s.args()...)
		if code != exitOK {
			t.Fatalf("exit %d", code)
		}
		if !strings.Contains(out, "\x1b[") || !strings.Contains(out, "✓") {
			t.Errorf("no color or marks on a terminal:\n%q", out)
		}
		// Progress on stderr, cleared before the report.
		if !strings.Contains(errOut, "checking us1") || !strings.HasSuffix(errOut, "\r\x1b[K") {
			t.Errorf("progress on stderr: %q", errOut)
		}
		checkNcGolden(t, "up.tty.txt", out)
	})

	// Intercepted everywhere (the test CA is not public), IPv6 broken on
	// tsock, mcs down (required), aim down (informative).
	bad := newNcSite(t)
	port := bad.port("tsock")
	bad.dest["tsock.us1.twilio.com"] = "dualstack.test:" + port
	bad.servers["mcs"].Close()
	bad.servers["aim"].Close()
	t.Run("problems", func(t *testing.T) {
		code, out, _ := run(t, false, func(*NetcheckOptions) {}, append(bad.args(), "--resolve", "dualstack.test:"+port+":[::1],127.0.0.1")...)
		if code != exitFailed {
			t.Fatalf("exit %d", code)
		}
		checkNcGolden(t, "problems.txt", out)
	})
}

// TestNetcheckEscapesPeerText: a proxy's reason phrase is the peer's; a
// hostile one must not reach the terminal raw.
func TestNetcheckEscapesPeerText(t *testing.T) {
	var b bytes.Buffer
	msg := "the proxy refused CONNECT: 403 \x1b]0;pwned\x07"
	hint := "ask IT\x1b[2J"
	rep := &netcheck.Report{Region: "us1", Endpoints: []*netcheck.Result{{Host: "tsock.us1.twilio.com", Port: 443, Protocol: "wss",
		Required: true, Phase: "proxy", Kind: "proxy_forbidden", Error: &msg, Hint: &hint}},
		Warnings: []netcheck.Warning{{Code: "tls_intercepted", Message: "signed by CN=\x1b[31mEvil", Host: "tsock.us1.twilio.com"}}}
	renderNetcheckText(&b, newColorScheme(false), false, rep)
	renderNetcheckRound(&b, newColorScheme(false), false, 1, rep)
	if strings.ContainsAny(b.String(), "\x1b\x07") {
		t.Fatalf("raw control characters in the output:\n%q", b.String())
	}
}

func TestNetcheckAllowlistGolden(t *testing.T) {
	for _, region := range []string{"us1", "ie1"} {
		t.Run(region, func(t *testing.T) {
			// A proxy that does not exist: --allowlist touches no network.
			code, stdout, stderr := ncRun(t, "--allowlist", "--region", region, "--proxy", "http://127.0.0.1:1")
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			checkNcGolden(t, "allowlist-"+region+".txt", stdout)
		})
	}
	code, stdout, _ := ncRun(t, "--allowlist", "--region", "au1")
	if code != exitOK || !strings.Contains(stdout, "au1 is not one of them") {
		t.Errorf("unknown region: exit %d\n%s", code, stdout)
	}
}

func TestNetcheckFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o *NetcheckOptions)
		msg   string // for usage errors (exit 2)
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, o *NetcheckOptions) {
			if o.Region != "us1" || o.Timeout != 10*time.Second || o.Output != "text" || o.Allowlist || o.Every != 0 || o.Count != 0 || o.Debug ||
				o.Net.Proxy != nil || o.Net.NoProxyEnv || o.Net.Getenv == nil {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{name: "everything", args: []string{"--region", "ie1", "--timeout", "3s", "-o", "json", "--every", "5s", "--count", "4", "--debug",
			"--proxy", "http://u:p@127.0.0.1:3128", "--resolve", "a.test:443:127.0.0.1", "--connect-to", "a:443:b:8443", "-6"},
			check: func(t *testing.T, o *NetcheckOptions) {
				if o.Region != "ie1" || o.Timeout != 3*time.Second || o.Output != "json" || o.Every != 5*time.Second || o.Count != 4 || !o.Debug ||
					o.Net.Proxy == nil || o.Net.ProxySource != "flag" || len(o.Net.Resolve) != 1 || len(o.Net.ConnectTo) != 1 || o.Net.Family != netpath.FamilyIPv6 {
					t.Errorf("options = %+v", o)
				}
			}},
		{name: "allowlist", args: []string{"--allowlist", "--region", "ie1"}, check: func(t *testing.T, o *NetcheckOptions) {
			if !o.Allowlist || o.Region != "ie1" {
				t.Errorf("options = %+v", o)
			}
		}},
		{name: "count without every", args: []string{"--count", "3"}, msg: "--count needs --every"},
		{name: "zero every", args: []string{"--every", "0s"}, msg: "--every must be positive"},
		{name: "negative every", args: []string{"--every", "-1s"}, msg: "--every must be positive"},
		{name: "negative count", args: []string{"--every", "1s", "--count", "-1"}, msg: "--count cannot be negative"},
		{name: "zero timeout", args: []string{"--timeout", "0s"}, msg: "--timeout must be positive"},
		{name: "allowlist and every", args: []string{"--allowlist", "--every", "1s"}, msg: "--allowlist and --every cannot be used together"},
		{name: "allowlist and json", args: []string{"--allowlist", "-o", "json"}, msg: "--allowlist and --output cannot be used together"},
		{name: "bad output", args: []string{"-o", "yaml"}, msg: "text or json"},
		{name: "bad region", args: []string{"--region", "US 1"}, msg: "not a Twilio region"},
		{name: "bad proxy", args: []string{"--proxy", "socks5://u:hunter2@p:1080"}, msg: "--proxy"},
		{name: "missing ca file", args: []string{"--ca-file", "/nonexistent/ca.pem"}, msg: "--ca-file"},
		{name: "bad resolve", args: []string{"--resolve", "nonsense"}, msg: "--resolve"},
		{name: "bad connect-to", args: []string{"--connect-to", "a:b"}, msg: "--connect-to"},
		{name: "both families", args: []string{"-4", "-6"}, msg: "--ipv4 and --ipv6 cannot be used together"},
		{name: "proxy and no-proxy", args: []string{"--proxy", "http://p:1", "--no-proxy"}, msg: "--proxy and --no-proxy cannot be used together"},
		{name: "an argument", args: []string{"us1"}, msg: "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _, _ := TestIO()
			f := NewFactory(ios, func(string) string { return "" })
			var got *NetcheckOptions
			cmd := NewCmdNetcheck(f, func(_ context.Context, o *NetcheckOptions) error { got = o; return nil })
			cmd.SetFlagErrorFunc(flagError)
			cmd.SetArgs(append([]string{}, tc.args...))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tc.check != nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				tc.check(t, got)
				return
			}
			if code := exitCodeOf(err); err == nil || code != exitUsage || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v (exit %d), want exit 2 mentioning %q", err, code, tc.msg)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the proxy password: %v", err)
			}
			if got != nil {
				t.Errorf("ran despite the error")
			}
		})
	}

	// Through Run, as a user: exit 2, nothing on stdout, the reason on stderr.
	code, stdout, stderr := ncRun(t, "--count", "2")
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "error: --count needs --every") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestNetcheckDebug: --debug logs each step to stderr, and a proxy
// password appears nowhere, neither in the log nor in the report.
func TestNetcheckDebug(t *testing.T) {
	proxy := testpeer.Tinyproxy{BasicAuth: "alice:s3cretpw"}.Start(t)
	s := newNcSite(t)
	code, stdout, stderr := ncRun(t, append(s.args(), "--debug", "--proxy", "http://alice:s3cretpw@"+proxy, "-o", "json")...)
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"[net] proxy: CONNECT", "tls", "[netcheck] checked", "endpoint=tsock.us1.twilio.com", "alice:***@"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the log lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stdout+stderr, "s3cretpw") {
		t.Errorf("the proxy password was printed")
	}
	rep := decodeNetcheck(t, stdout)
	if p := ncResult(t, rep, "tsock").Proxy; p == nil || p.URL != "http://alice:***@"+proxy || !p.Credentials || p.Source != "flag" {
		t.Errorf("proxy: %+v", p)
	}
	// Without --debug, nothing on stderr off a terminal.
	_, _, stderr = ncRun(t, append(s.args(), "--proxy", "http://alice:s3cretpw@"+proxy)...)
	if stderr != "" {
		t.Errorf("stderr without --debug: %q", stderr)
	}
}
