package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/internal/tinyproxy"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
	"github.com/convctl/convctl/pkg/twilsock"
)

// BenchmarkTimeToConnectedThroughProxy: time to connected (the probe's
// Timing.Connected; the bare client's dial plus one init round trip) direct
// and through a local HTTP proxy, for the probe (netpath does the CONNECT)
// and for a bare gorilla dial given the same proxy (gorilla's own CONNECT).
// The proxy is the in-process one (low noise) and, when installed,
// tinyproxy. "connect-ns" is the figure to compare.
func BenchmarkTimeToConnectedThroughProxy(b *testing.B) {
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Bench CA"}, tlsca.Validity{})
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := ca.Issue([]string{"127.0.0.1"}, tlsca.Validity{})
	em := emulator.New(emulator.Config{Secret: testSecret})
	srv := httptest.NewUnstartedServer(em)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	wss := "wss" + strings.TrimPrefix(srv.URL, "https") + emulator.PathWS
	tok := mintToken(b, testSecret, time.Hour, "")
	roots := ca.Pool()

	proxies := map[string]string{"inproc": "http://" + connectProxy(b, "", false)}
	if tp := startTinyproxyForBench(b); tp != "" {
		proxies["tinyproxy"] = tp
	}
	probeRun := func(b *testing.B, proxy string) {
		nc := netpath.Config{Roots: roots, Getenv: func(string) string { return "" }}
		if proxy != "" {
			u, _ := url.Parse(proxy)
			nc.Proxy = u
		}
		d, err := netpath.New(nc)
		if err != nil {
			b.Fatal(err)
		}
		cfg := fastConfig(wss, tok)
		cfg.Secret, cfg.Network = nil, d
		var total time.Duration
		b.ReportAllocs()
		for b.Loop() {
			rep, err := Run(context.Background(), cfg)
			if err != nil || rep.Outcome != OutcomeConnected || rep.Timing.Connected == nil {
				b.Fatalf("run: %v %+v", err, rep)
			}
			total += time.Duration(*rep.Timing.Connected * float64(time.Millisecond))
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "connect-ns")
	}
	bareRun := func(b *testing.B, proxy string) {
		d := &websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots}, HandshakeTimeout: 5 * time.Second}
		if proxy != "" {
			u, _ := url.Parse(proxy)
			d.Proxy = http.ProxyURL(u)
		}
		md := (&run{cfg: Config{Version: "dev"}}).metadata()
		regs := []twilsock.Registration{{Product: twilsock.ProductConversations, Type: "ers", MessageTypes: conversationsMessageTypes}}
		var total time.Duration
		b.ReportAllocs()
		for b.Loop() {
			start := time.Now()
			ws, _, err := d.Dial(wss, http.Header{})
			if err != nil {
				b.Fatal(err)
			}
			frame, _ := twilsock.Encode(twilsock.NewInit(tok, nil, md, regs), nil)
			if err := ws.WriteMessage(websocket.BinaryMessage, frame); err != nil {
				b.Fatal(err)
			}
			_, msg, err := ws.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if f, err := twilsock.Decode(msg); err != nil || !f.Header.Status.OK() {
				b.Fatalf("init reply: %v", err)
			}
			total += time.Since(start)
			closeFrame, _ := twilsock.Encode(twilsock.NewClientClose(), nil)
			_ = ws.WriteMessage(websocket.BinaryMessage, closeFrame)
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					break
				}
			}
			ws.Close()
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "connect-ns")
	}
	b.Run("direct/probe", func(b *testing.B) { probeRun(b, "") })
	b.Run("direct/bare", func(b *testing.B) { bareRun(b, "") })
	for _, name := range []string{"inproc", "tinyproxy"} {
		p, ok := proxies[name]
		if !ok {
			continue
		}
		b.Run(name+"/probe", func(b *testing.B) { probeRun(b, p) })
		b.Run(name+"/bare", func(b *testing.B) { bareRun(b, p) })
	}
}

// startTinyproxyForBench starts tinyproxy, or returns "" when it is not
// installed (the in-process proxy still runs).
func startTinyproxyForBench(b *testing.B) string {
	b.Helper()
	if _, err := exec.LookPath("tinyproxy"); err != nil {
		b.Log("tinyproxy not installed: only the in-process proxy is measured")
		return ""
	}
	return tinyproxy.Start(b, tinyproxy.Options{}).URL("")
}

// BenchmarkChainVerification is the cost the two verifications add to each
// TLS connection: the chain checked against this machine's roots (here a
// pool holding the test CA) and against the public Web PKI (Mozilla's ~150
// roots; the test CA added, so the chain verifies there as a public one
// would), measured through netpath's handshake hook on an in-memory chain.
func BenchmarkChainVerification(b *testing.B) {
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Bench CA"}, tlsca.Validity{})
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := ca.Issue([]string{"tsock.us1.twilio.com"}, tlsca.Validity{})
	leaf := cert.Leaf
	public := netpath.PublicRoots().Clone()
	public.AddCert(ca.Cert)
	opts := func(roots *x509.CertPool) x509.VerifyOptions {
		return x509.VerifyOptions{DNSName: "tsock.us1.twilio.com", Roots: roots, Intermediates: x509.NewCertPool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	}
	local := ca.Pool()
	b.Run("here", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := leaf.Verify(opts(local)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("public", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := leaf.Verify(opts(public)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("public-untrusted", func(b *testing.B) {
		// An intercepted chain: the public check fails, which is the
		// verdict netpath wants.
		pub := netpath.PublicRoots()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := leaf.Verify(opts(pub)); err == nil {
				b.Fatal("verified")
			}
		}
	})
}
