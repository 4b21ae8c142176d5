package netpath

import (
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/internal/tinyproxy"
)

// Real proxy, real answers: Debian's tinyproxy on a loopback port, one
// configuration per case. The target is always tsock.us1.twilio.com, sent
// by ConnectTo to a TLS server on 127.0.0.1 whose certificate (for the
// real name) comes from a test CA, so the name is checked end to end.
func TestTinyproxy(t *testing.T) {
	ca := newCA(t, "Test CA", "Test")
	srv := newTLSServer(t, issue(t, ca, tlsValidity(), twilioHost))
	trust := []*x509.Certificate{ca.Cert}
	for _, tc := range []struct {
		name     string
		opts     tinyproxy.Options
		userinfo string
		connect  string // connect-to rule; default: to srv
		kind     Kind
		status   int
		schemes  []string
	}{
		{name: "open"},
		{name: "basic auth", opts: tinyproxy.Options{User: "alice", Password: "s3cret"}, userinfo: "alice:s3cret"},
		{name: "basic auth missing", opts: tinyproxy.Options{User: "alice", Password: "s3cret"}, kind: KindProxyAuth, status: 407, schemes: []string{"Basic"}},
		{name: "basic auth wrong", opts: tinyproxy.Options{User: "alice", Password: "s3cret"}, userinfo: "alice:wrong", kind: KindProxyAuth, status: 401}, // tinyproxy answers 401, not 407
		{name: "connect only to 443", opts: tinyproxy.Options{ConnectPorts: []int{443}}, kind: KindProxyForbidden, status: 403},
		// tinyproxy answers 500 "Unable to connect" when the target refuses.
		{name: "target refuses", connect: twilioHost + ":443:127.0.0.1:" + deadPort(t), kind: KindProxyUpstream, status: 500},
		// The connect-to target is under .invalid (RFC 6761: never resolves),
		// so nothing leaves the machine even if the filter failed.
		{name: "filtered host", opts: tinyproxy.Options{Filter: []string{`twilio`}},
			connect: twilioHost + ":443:blocked.twilio.invalid:" + srv.port, kind: KindProxyForbidden, status: 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := tinyproxy.Start(t, tc.opts)
			ct := connectTo(t, srv.port)
			if tc.connect != "" {
				r, err := ParseConnectTo(tc.connect)
				if err != nil {
					t.Fatal(err)
				}
				ct = []ConnectTo{r}
			}
			d := mustDialer(t, Config{Getenv: noEnv, Proxy: proxyURL(t, tp.URL(tc.userinfo)), Roots: x509.NewCertPool(),
				ExtraRoots: trust, ConnectTo: ct})
			c, p, err := d.Dial(ctxT(t, 10*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
			if p.Proxy == nil || p.Timing.Proxy == nil || p.Proxy.ConnectStatus == nil {
				t.Fatalf("path = %+v (proxy %+v), err %v\n%s", p, p.Proxy, err, tp.Log())
			}
			if strings.Contains(p.Proxy.URL, "s3cret") || strings.Contains(p.Proxy.URL, "wrong") {
				t.Errorf("password in %s", p.Proxy.URL)
			}
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("%v\n%s", err, tp.Log())
				}
				defer c.Close()
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
					t.Errorf("through tinyproxy: %q, %v", buf, err)
				}
				if *p.Proxy.ConnectStatus != 200 || p.TLS == nil || !p.TLS.Verified {
					t.Errorf("proxy %+v tls %+v", p.Proxy, p.TLS)
				}
				return
			}
			e := asError(t, err)
			if e.Kind != tc.kind || e.Status != tc.status || *p.Proxy.ConnectStatus != tc.status {
				t.Errorf("err = %s %d (%v), want %s %d\n%s", e.Kind, e.Status, e, tc.kind, tc.status, tp.Log())
			}
			if tc.schemes != nil && strings.Join(e.Schemes, ",") != strings.Join(tc.schemes, ",") {
				t.Errorf("schemes = %q, want %q (headers %q)", e.Schemes, tc.schemes, p.Proxy.ProxyAuthenticate)
			}
		})
	}
}

// Environment-driven proxying, proven with a real host name. Go's rules
// never proxy a loopback destination, so a test aiming HTTPS_PROXY at a
// wss://127.0.0.1 URL would prove nothing (it would go direct and pass).
// Here the URL names tsock.us1.twilio.com, which the rules do proxy; the
// ConnectTo rule only changes the CONNECT target to the local TLS server.
// The proof that the environment's proxy carried the connection: the path
// names HTTPS_PROXY as the source, tinyproxy's own log records the CONNECT,
// and with NO_PROXY=.twilio.com the same dial goes direct, naming the entry.
func TestEnvironmentProxyWithARealHostName(t *testing.T) {
	ca := newCA(t, "Test CA", "Test")
	srv := newTLSServer(t, issue(t, ca, tlsValidity(), twilioHost))
	tp := tinyproxy.Start(t, tinyproxy.Options{})
	env := map[string]string{"HTTPS_PROXY": tp.URL("")}
	cfg := Config{Getenv: envOf(env), Roots: x509.NewCertPool(), ExtraRoots: []*x509.Certificate{ca.Cert}, ConnectTo: connectTo(t, srv.port)}

	c, p, err := mustDialer(t, cfg).Dial(ctxT(t, 10*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, tp.Log())
	}
	c.Close()
	if p.Proxy == nil || p.Proxy.Source != "HTTPS_PROXY" || *p.Proxy.ConnectStatus != 200 || len(p.Addresses) != 0 {
		t.Fatalf("path = %+v proxy %+v", p, p.Proxy)
	}
	if !strings.Contains(tp.Log(), "127.0.0.1:"+srv.port) {
		t.Errorf("tinyproxy's log does not show the CONNECT to 127.0.0.1:%s:\n%s", srv.port, tp.Log())
	}

	env["NO_PROXY"] = "localhost,.twilio.com"
	c, p, err = mustDialer(t, cfg).Dial(ctxT(t, 10*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if p.Proxy != nil || p.ProxyBypassedBy == nil || *p.ProxyBypassedBy != "NO_PROXY entry .twilio.com" || p.Used() == nil {
		t.Errorf("with NO_PROXY: proxy %+v bypassed %v addresses %+v", p.Proxy, p.ProxyBypassedBy, p.Addresses)
	}
}

// deadPort is a 127.0.0.1 port nothing listens on.
func deadPort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}
