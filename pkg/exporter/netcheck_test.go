package exporter

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/netcheck"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
)

// site serves every us1 endpoint on 127.0.0.1 (tsock by pkg/emulator, the
// others by a handler answering 404), each with a certificate for its real
// name from a test CA, and routes the real names there with connect-to
// rules, as a user would; down lists short names left unserved.
func site(t *testing.T, down ...string) NetcheckConfig {
	t.Helper()
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "exporter test CA"}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	var rules []netpath.ConnectTo
	for _, e := range netcheck.Endpoints("us1") {
		short, _, _ := strings.Cut(e.Host, ".")
		var h http.Handler = http.NotFoundHandler()
		if e.Protocol == netcheck.ProtocolWSS {
			em := emulator.New(emulator.Config{Secret: testSecret})
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				_ = em.Shutdown(ctx)
			})
			h = em
		}
		addr := ""
		if contains(down, short) {
			ln, err := net.Listen("tcp", "127.0.0.1:0") // a port nothing listens on
			if err != nil {
				t.Fatal(err)
			}
			addr = ln.Addr().String()
			ln.Close()
		} else {
			cert, err := ca.Issue([]string{e.Host}, tlsca.Validity{})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(h)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0)
			srv.StartTLS()
			t.Cleanup(srv.Close)
			addr = srv.Listener.Addr().String()
		}
		host, port, _ := net.SplitHostPort(addr)
		rules = append(rules, netpath.ConnectTo{FromHost: e.Host, FromPort: "443", ToHost: host, ToPort: port})
	}
	return NetcheckConfig{Net: netpath.Config{NoProxyEnv: true, ExtraRoots: []*x509.Certificate{ca.Cert}, ConnectTo: rules}}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func startNetcheckExporter(t *testing.T, nc NetcheckConfig) string {
	t.Helper()
	return startExporterWith(t, ModuleConfig{Connect: ConnectConfig{Token: freshTokens(t)}, Netcheck: nc})
}

func startExporterWith(t *testing.T, mc ModuleConfig) string {
	t.Helper()
	h, err := New(Options{Modules: Modules(mc)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestNetcheckModule(t *testing.T) {
	base := startNetcheckExporter(t, site(t))
	a := get(t, base, probePath("us1", "module", "netcheck"), "5")
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	a.want(t, "convctl_probe_success", 1)
	for _, e := range netcheck.Endpoints("us1") {
		a.want(t, "convctl_endpoint_up", 1, "host", e.Host, "protocol", e.Protocol)
		a.want(t, "convctl_endpoint_required", b2f(e.Required), "host", e.Host)
		// The test CA is trusted here and not publicly, for Twilio's names:
		// exactly what a TLS-inspecting proxy looks like.
		a.want(t, "convctl_tls_intercepted", 1, "host", e.Host)
		if v, ok := a.value("convctl_tls_cert_expiry_seconds", "host", e.Host); !ok || v < 3600 {
			t.Errorf("%s: cert expiry %v (present %v)", e.Host, v, ok)
		}
		if _, ok := a.value("convctl_endpoint_phase_duration_seconds", "host", e.Host, "phase", "tls"); !ok {
			t.Errorf("%s: no tls phase", e.Host)
		}
	}
	a.want(t, "convctl_endpoint_http_status", 101, "host", "tsock.us1.twilio.com")
	a.want(t, "convctl_endpoint_http_status", 404, "host", "mcs.us1.twilio.com")

	// A Twilio URL names its region too.
	if a := get(t, base, probePath("wss://tsock.us1.twilio.com/v3/wsconnect", "module", "netcheck"), "5"); a.status != http.StatusOK {
		t.Errorf("a tsock URL target: status %d: %s", a.status, a.body)
	}
	// Any other URL names no region: 400.
	if a := get(t, base, probePath("ws://127.0.0.1:1/v3/wsconnect", "module", "netcheck"), ""); a.status != http.StatusBadRequest ||
		!strings.HasPrefix(a.body, "target: netcheck checks a Twilio region") {
		t.Errorf("a non-Twilio URL: %d %q", a.status, a.body)
	}
}

func TestNetcheckModuleRequiredDown(t *testing.T) {
	base := startNetcheckExporter(t, site(t, "mcs", "aim"))
	a := get(t, base, probePath("us1", "module", "netcheck", "debug", "false"), "5")
	a.want(t, "convctl_probe_success", 0)
	a.want(t, "convctl_endpoint_up", 0, "host", "mcs.us1.twilio.com", "protocol", "https")
	a.want(t, "convctl_endpoint_up", 0, "host", "aim.us1.twilio.com", "protocol", "https")
	a.want(t, "convctl_endpoint_up", 1, "host", "tsock.us1.twilio.com", "protocol", "wss")
	a.want(t, "convctl_endpoint_http_status", 0, "host", "mcs.us1.twilio.com")

	l := get(t, base, probePath("us1", "module", "netcheck", "debug", "true"), "5")
	for _, want := range []string{"[netcheck] endpoint host=mcs.us1.twilio.com", "ok=false", "[netcheck] finished region=us1 ok=false"} {
		if !strings.Contains(l.body, want) {
			t.Errorf("the log does not say %q:\n%s", want, l.body)
		}
	}
}

// Without a token source the connect module is off, saying so in a 400 (so
// Prometheus shows the scrape failing), and netcheck, which needs no token,
// works.
func TestNoTokenSourceNetcheckOnly(t *testing.T) {
	base := startExporterWith(t, ModuleConfig{Netcheck: site(t)})
	for _, path := range []string{probePath("us1"), probePath("us1", "module", "connect")} {
		a := get(t, base, path, "")
		if want := `module: module "connect" is off: this exporter has no token source to connect with`; a.status != http.StatusBadRequest || strings.TrimSpace(a.body) != want {
			t.Errorf("%s: %d %q, want 400 %q", path, a.status, a.body, want)
		}
	}
	a := get(t, base, probePath("us1", "module", "netcheck"), "5")
	if a.status != http.StatusOK {
		t.Fatalf("netcheck: status %d: %s", a.status, a.body)
	}
	a.want(t, "convctl_probe_success", 1)
}
