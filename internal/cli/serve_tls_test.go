package cli

import (
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/tlsca"
)

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	p := startServed(t, "--secret-env", "SERVE_SECRET", "--tls", "--tls-name", "tsock.us1.twilio.com", "--tls-ca-out", caFile)
	if !strings.HasPrefix(p.url, "wss://127.0.0.1:") {
		t.Fatalf("url = %q, want wss://127.0.0.1:…", p.url)
	}
	port := p.url[len("wss://127.0.0.1:"):strings.LastIndex(p.url, "/v3")]
	tok := mintConn(t, serveTestSecret, time.Now(), time.Hour)
	env := map[string]string{"TOKEN": tok}

	// Trusting the CA it wrote: connected, by IP, by localhost, and by a
	// --tls-name through --connect-to; the chain is the one it made.
	for _, url := range []string{p.url, "wss://localhost:" + port + "/v3/wsconnect"} {
		code, stdout, stderr := netCLI(t, env, "connect", "--token-env", "TOKEN", "--url", url, "--ca-file", caFile, "-o", "json", "--ping", "0")
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", url, code, stdout, stderr)
		}
		rep := decodeReport(t, stdout)
		if tl := rep.Network.TLS; tl == nil || !tl.Verified || tl.InterceptedBy != nil || len(tl.Chain) != 1 ||
			tl.Chain[0].Issuer != "CN=convctl serve throwaway CA,O=convctl" {
			t.Errorf("%s: tls = %+v", url, rep.Network.TLS)
		}
	}
	code, stdout, stderr := netCLI(t, env, "connect", "--token-env", "TOKEN", "--url", tsockURL, "--connect-to", connectTo(port), "--ca-file", caFile)
	if code != exitOK || !strings.Contains(stdout, "chain      0 CN=localhost") || !strings.Contains(stdout, "verdict    verified by this machine's trust store, not publicly trusted, intercepted by CN=convctl serve throwaway CA,O=convctl") {
		t.Errorf("--tls-name via --connect-to: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Not trusting it: a tls cause naming the CA (local names are not
	// "interception": a public CA could not certify them anyway).
	code, stdout, _ = netCLI(t, env, "connect", "--token-env", "TOKEN", "--url", p.url, "--no-reconnect", "-o", "json")
	rep := decodeReport(t, stdout)
	if code != exitCannotFinish || rep.Cause == nil || rep.Cause.Kind != "tls" || !strings.Contains(rep.Cause.Message, "unknown authority") {
		t.Errorf("untrusted: exit %d cause %+v", code, rep.Cause)
	}
	b, err := os.ReadFile(caFile)
	if err != nil || !strings.HasPrefix(string(b), "-----BEGIN CERTIFICATE-----") || strings.Contains(string(b), "PRIVATE") {
		t.Errorf("--tls-ca-out wrote %q, %v", b, err)
	}
}

func TestServeTLSCertKey(t *testing.T) {
	dir := t.TempDir()
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Mine"}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := ca.Issue([]string{"127.0.0.1"}, tlsca.Validity{})
	cp, kp, _ := tlsca.PEM(cert)
	certFile, keyFile, caFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem"), filepath.Join(dir, "ca.pem")
	os.WriteFile(certFile, cp, 0o600)
	os.WriteFile(keyFile, kp, 0o600)
	ca.WriteCertPEM(caFile)
	p := startServed(t, "--secret-env", "SERVE_SECRET", "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(p.url, "wss://127.0.0.1:") {
		t.Fatalf("url = %q, want wss://127.0.0.1:…", p.url)
	}
	code, stdout, stderr := netCLI(t, map[string]string{"TOKEN": mintConn(t, serveTestSecret, time.Now(), time.Hour)},
		"connect", "--token-env", "TOKEN", "--url", p.url, "--ca-file", caFile, "--ping", "0")
	if !strings.HasPrefix(p.url, "wss://") || code != exitOK {
		t.Errorf("url %s exit %d\n%s\n%s", p.url, code, stdout, stderr)
	}
}

func TestServeTLSUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--tls", "--tls-cert", "c.pem", "--tls-key", "k.pem"},
		{"--tls-cert", "c.pem"},
		{"--tls-key", "k.pem"},
		{"--tls-name", "x.example"},
		{"--tls-ca-out", "ca.pem"},
		{"--tls", "--tls-name", "bad name"},
		{"--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"},
	} {
		code, _, stderr := netCLI(t, map[string]string{"SECRET": connSecret}, append([]string{"serve", "--secret-env", "SECRET"}, args...)...)
		if code != exitUsage || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 with a reason", args, code, stderr)
		}
	}
}

// A serve that cannot bind leaves --tls-ca-out alone: it must not replace
// the CA of the serve that holds the port.
func TestServeTLSCAOutOnlyOnceListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	code, _, stderr := netCLI(t, map[string]string{"SERVE_SECRET": serveTestSecret}, "serve", "--secret-env", "SERVE_SECRET",
		"--tls", "--tls-ca-out", caFile, "--addr", ln.Addr().String())
	if code != exitCannotFinish || !strings.Contains(stderr, "in use") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(caFile); !os.IsNotExist(err) {
		t.Errorf("--tls-ca-out written by a serve that did not listen (%v)", err)
	}
}
