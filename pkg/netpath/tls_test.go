package netpath

import (
	"crypto/x509"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/tlsca"
)

func TestTLSVerdicts(t *testing.T) {
	company := newCA(t, "Contoso Inspection CA", "Contoso")
	other := newCA(t, "Someone Else CA", "Else")
	now := time.Now()
	expired := tlsca.Validity{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}
	future := tlsca.Validity{NotBefore: now.Add(48 * time.Hour), NotAfter: now.Add(96 * time.Hour)}
	for _, tc := range []struct {
		name        string
		ca          *tlsca.CA
		v           tlsca.Validity
		names       []string
		trust       []*x509.Certificate
		kind        Kind // "" for success
		verified    bool
		intercepted string
		msg         string
	}{
		{name: "inspection CA trusted here", ca: company, names: []string{twilioHost}, trust: []*x509.Certificate{company.Cert},
			verified: true, intercepted: "CN=Contoso Inspection CA,O=Contoso"},
		{name: "inspection CA not trusted", ca: company, names: []string{twilioHost},
			kind: KindTLSIntercepted, intercepted: "CN=Contoso Inspection CA,O=Contoso", msg: `issued by "CN=Contoso Inspection CA,O=Contoso"`},
		{name: "expired", ca: company, v: expired, names: []string{twilioHost}, trust: []*x509.Certificate{company.Cert},
			kind: KindTLSExpired, msg: "expired"},
		{name: "not yet valid", ca: company, v: future, names: []string{twilioHost}, trust: []*x509.Certificate{company.Cert},
			kind: KindTLSNotYetValid, msg: "not valid until"},
		{name: "wrong name", ca: company, names: []string{"www.example.org"}, trust: []*x509.Certificate{company.Cert},
			kind: KindTLSWrongName, msg: "not for tsock.us1.twilio.com (it names www.example.org)"},
		{name: "other CA trusted, company CA not", ca: other, names: []string{twilioHost}, trust: []*x509.Certificate{company.Cert},
			kind: KindTLSIntercepted, intercepted: "CN=Someone Else CA,O=Else"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTLSServer(t, issue(t, tc.ca, tc.v, tc.names...))
			d := mustDialer(t, Config{Getenv: noEnv, Roots: x509.NewCertPool(), ExtraRoots: tc.trust, ConnectTo: connectTo(t, srv.port)})
			c, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
			if p.TLS == nil {
				t.Fatalf("no TLS in the path: %+v", p)
			}
			if len(p.TLS.Chain) != 1 || p.TLS.Chain[0].Subject == "" || len(p.TLS.Chain[0].SHA256) != 64 {
				t.Errorf("chain = %+v", p.TLS.Chain)
			}
			if p.TLS.ServerName != twilioHost || p.TLS.Version == "" || p.TLS.PubliclyTrusted {
				t.Errorf("tls = %+v", p.TLS)
			}
			if got := deref(p.TLS.InterceptedBy); got != tc.intercepted {
				t.Errorf("intercepted_by = %q, want %q", got, tc.intercepted)
			}
			if p.TLS.Verified != tc.verified {
				t.Errorf("verified = %v, want %v", p.TLS.Verified, tc.verified)
			}
			if tc.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 5)
				if _, err := c.Read(buf); err != nil || string(buf) != "hello" {
					t.Errorf("read %q, %v", buf, err)
				}
				c.Close()
				if p.TLS.ALPN != "http/1.1" || p.Timing.TLS == nil || p.Used() == nil {
					t.Errorf("path = %+v", p)
				}
				return
			}
			e := asError(t, err)
			if e.Kind != tc.kind || e.Phase != PhaseTLS || !strings.Contains(e.Message(), tc.msg) || e.Hint() == "" {
				t.Errorf("err kind %s phase %s msg %q, want %s containing %q", e.Kind, e.Phase, e.Message(), tc.kind, tc.msg)
			}
			if p.TLS.Error == nil || *p.TLS.Error != e.Message() {
				t.Errorf("tls.error = %v", p.TLS.Error)
			}
		})
	}
}

// A chain the extra roots verify alone needs nothing from this machine's
// roots, whose loading (hundreds of files) is the slowest step of a dial on
// a fast network: they are not loaded. A chain they do not verify is
// verified against this machine's roots plus them, as before.
func TestExtraRootsSpareTheMachineRoots(t *testing.T) {
	company := newCA(t, "Contoso Inspection CA", "Contoso")
	other := newCA(t, "Someone Else CA", "Else")
	dial := func(t *testing.T, ca *tlsca.CA, roots *x509.CertPool) (*Dialer, *Path, error) {
		srv := newTLSServer(t, issue(t, ca, tlsca.Validity{}, twilioHost))
		d := mustDialer(t, Config{Getenv: noEnv, Roots: roots, ExtraRoots: []*x509.Certificate{company.Cert}, ConnectTo: connectTo(t, srv.port)})
		c, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
		if c != nil {
			c.Close()
		}
		return d, p, err
	}
	d, p, err := dial(t, company, nil)
	if err != nil || !p.TLS.Verified || deref(p.TLS.InterceptedBy) != "CN=Contoso Inspection CA,O=Contoso" {
		t.Fatalf("extra root: err %v, tls %+v", err, p.TLS)
	}
	if d.local != nil {
		t.Error("this machine's roots were loaded for a chain the extra roots verify")
	}
	d, p, err = dial(t, other, other.Pool())
	if err != nil || !p.TLS.Verified || deref(p.TLS.InterceptedBy) != "CN=Someone Else CA,O=Else" {
		t.Fatalf("machine root: err %v, tls %+v", err, p.TLS)
	}
	if d.local == nil {
		t.Error("this machine's roots were not consulted")
	}
}

func TestTLSPlainHTTPAndReset(t *testing.T) {
	plain := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 1024)
		c.Read(buf)
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	})
	reset := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 1024)
		c.Read(buf)
		c.(*net.TCPConn).SetLinger(0)
	})
	for _, tc := range []struct {
		addr string
		kind Kind
	}{{plain, KindTLSPlainHTTP}, {reset, KindTLSReset}} {
		_, port, _ := net.SplitHostPort(tc.addr)
		d := mustDialer(t, Config{Getenv: noEnv, ConnectTo: connectTo(t, port)})
		_, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
		e := asError(t, err)
		if e.Kind != tc.kind || p.TLS == nil || p.TLS.Error == nil || p.TLS.Verified {
			t.Errorf("%s: kind %s (%v), tls %+v", tc.kind, e.Kind, e, p.TLS)
		}
	}
}

func TestPublicRootsLoad(t *testing.T) {
	p := PublicRoots()
	if p == nil || p.Equal(x509.NewCertPool()) {
		t.Fatal("no public roots")
	}
}

// Reading a trust store is the process's own one-time work, not the
// network's: it is kept out of the TLS phase. The public pool here takes
// 150 ms to "load"; the handshake itself takes about a millisecond.
func TestTLSTimingExcludesTrustStoreReads(t *testing.T) {
	ca := newCA(t, "Test CA", "Test")
	srv := newTLSServer(t, issue(t, ca, tlsValidity(), twilioHost))
	d := mustDialer(t, Config{Getenv: noEnv, Roots: x509.NewCertPool(), ExtraRoots: []*x509.Certificate{ca.Cert}, ConnectTo: connectTo(t, srv.port)})
	const load = 150 * time.Millisecond
	d.public = sync.OnceValues(func() (*x509.CertPool, error) {
		<-time.After(load) // a slow first read of the store, once, as the real one
		return PublicRoots(), nil
	})
	start := time.Now()
	c, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if total := time.Since(start); total < load {
		t.Fatalf("the dial took %v, less than the load itself", total)
	}
	if *p.Timing.TLS >= load {
		t.Errorf("TLS phase = %v, includes the %v trust store read", *p.Timing.TLS, load)
	}
}
