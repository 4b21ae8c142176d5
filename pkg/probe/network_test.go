package probe

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tlsca"
)

const twilioHost = "tsock.us1.twilio.com"

// serveConns runs handle for each connection to a new 127.0.0.1 listener
// until the test ends.
func serveConns(t testing.TB, ln net.Listener, handle func(net.Conn)) string {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); handle(c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func listen(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func pipe(a, b net.Conn) {
	done := make(chan struct{})
	go func() { io.Copy(a, b); a.Close(); close(done) }()
	io.Copy(b, a)
	b.Close()
	<-done
}

// tlsFront terminates TLS with cert and forwards to upstream: a wss://
// front for the fake (ws://) server.
func tlsFront(t testing.TB, cert tls.Certificate, upstream string) string {
	ln := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{cert}})
	return serveConns(t, ln, func(c net.Conn) {
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			return
		}
		pipe(c, up)
	})
}

// connectProxy answers CONNECT with answer, or when answer is "", tunnels
// to the target. cutAfterConnect accepts CONNECT and then hangs up: a
// middlebox that will not pass what follows.
func connectProxy(t testing.TB, answer string, cutAfterConnect bool) string {
	return serveConns(t, listen(t), func(c net.Conn) {
		br := bufio.NewReader(c)
		first, err := br.ReadString('\n')
		if err != nil {
			return
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			if l == "\r\n" {
				break
			}
		}
		if answer != "" {
			c.Write([]byte(answer))
			return
		}
		if cutAfterConnect {
			c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
			br.ReadString('\n') // the upgrade request's first line
			return
		}
		up, err := net.Dial("tcp", strings.Fields(first)[1])
		if err != nil {
			c.Write([]byte("HTTP/1.1 502 Bad Gateway\r\n\r\n"))
			return
		}
		c.Write([]byte("HTTP/1.1 200 Connection established\r\nVia: 1.1 test\r\n\r\n"))
		pipe(&bufConn{c, br}, up)
	})
}

type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

func netDialer(t testing.TB, cfg netpath.Config) *netpath.Dialer {
	t.Helper()
	if cfg.Getenv == nil {
		cfg.Getenv = func(string) string { return "" }
	}
	d, err := netpath.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func proxyURLOf(t testing.TB, s string) netpath.Config {
	u, err := netpath.ParseProxyURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return netpath.Config{Proxy: u}
}

func TestThroughProxy(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	tok := mintToken(t, testSecret, time.Hour, "")
	proxy := connectProxy(t, "", false)
	cfg := fastConfig(fs.URL, tok)
	cfg.Network = netDialer(t, proxyURLOf(t, "http://alice:pw-canary@"+proxy))
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeConnected)
	n := rep.Network
	if n == nil || n.Proxy == nil || n.Proxy.ConnectStatus == nil || *n.Proxy.ConnectStatus != 200 || len(n.Addresses) != 0 {
		t.Fatalf("network = %+v", n)
	}
	if rep.Timing.Proxy == nil || rep.Timing.TCP != nil || rep.Timing.DNS != nil {
		t.Errorf("timing = %+v", rep.Timing)
	}
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), "pw-canary") {
		t.Errorf("the proxy password is in the report: %s", b)
	}
	for _, want := range []string{`"network":{"proxy":{"url":"http://alice:***@`, `"proxy_bypassed_by":null`, `"addresses":[]`, `"tls":null`, `"proxy":`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %s: %s", want, b)
		}
	}
}

func TestProxyCauses(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	tok := mintToken(t, testSecret, time.Hour, "")
	for _, tc := range []struct {
		name   string
		proxy  string
		status int
		phase  Phase
		msg    string
	}{
		{name: "407", proxy: connectProxy(t, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\n\r\n", false),
			status: 407, phase: PhaseProxy, msg: "NTLM"},
		{name: "403", proxy: connectProxy(t, "HTTP/1.1 403 Forbidden\r\n\r\n", false), status: 403, phase: PhaseProxy},
		{name: "502", proxy: connectProxy(t, "HTTP/1.1 502 Bad Gateway\r\n\r\n", false), status: 502, phase: PhaseProxy},
		{name: "accepts CONNECT, cuts the upgrade", proxy: connectProxy(t, "", true), phase: PhaseUpgrade, msg: "accepted CONNECT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fastConfig(fs.URL, tok)
			cfg.NoReconnect = true
			cfg.Network = netDialer(t, proxyURLOf(t, "http://"+tc.proxy))
			rep := runProbe(t, cfg)
			wantOutcome(t, rep, OutcomeUnreachable)
			wantCause(t, rep, CauseProxy, tc.status, 0)
			if rep.Cause.Phase != tc.phase || !strings.Contains(rep.Cause.Message, tc.msg) {
				t.Errorf("cause = %+v", rep.Cause)
			}
			if rep.Network == nil || rep.Network.Proxy == nil {
				t.Errorf("network = %+v", rep.Network)
			}
		})
	}
}

// The real name is checked: the URL says tsock.us1.twilio.com, a connect-to
// rule sends it to a local TLS front whose certificate a "company" CA made.
func TestTLSInterception(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	tok := mintToken(t, testSecret, time.Hour, "")
	ca, err := tlsca.NewCA(pkix.Name{CommonName: "Contoso Inspection CA", Organization: []string{"Contoso"}}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue([]string{twilioHost}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	front := tlsFront(t, cert, strings.TrimPrefix(fs.srv.URL, "http://"))
	_, port, _ := net.SplitHostPort(front)
	ct, _ := netpath.ParseConnectTo(twilioHost + ":443:127.0.0.1:" + port)
	url := "wss://" + twilioHost + "/v3/wsconnect"

	t.Run("not trusted here", func(t *testing.T) {
		cfg := fastConfig(url, tok)
		cfg.NoReconnect = true
		cfg.Network = netDialer(t, netpath.Config{ConnectTo: []netpath.ConnectTo{ct}, Roots: x509.NewCertPool()})
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeUnreachable)
		wantCause(t, rep, CauseTLS, 0, 0)
		if !strings.Contains(rep.Cause.Message, "Contoso Inspection CA") || !strings.Contains(rep.Cause.Hint, "*.twilio.com") {
			t.Errorf("cause = %+v", rep.Cause)
		}
		tl := rep.Network.TLS
		if tl == nil || tl.Verified || tl.InterceptedBy == nil || len(tl.Chain) != 1 || tl.ServerName != twilioHost {
			t.Errorf("tls = %+v", tl)
		}
	})
	t.Run("trusted here: connects, with a warning", func(t *testing.T) {
		cfg := fastConfig(url, tok)
		cfg.Network = netDialer(t, netpath.Config{ConnectTo: []netpath.ConnectTo{ct}, Roots: x509.NewCertPool(),
			ExtraRoots: []*x509.Certificate{ca.Cert}})
		rep := runProbe(t, cfg)
		wantOutcome(t, rep, OutcomeConnected)
		tl := rep.Network.TLS
		if tl == nil || !tl.Verified || tl.PubliclyTrusted || tl.InterceptedBy == nil || *tl.InterceptedBy != "CN=Contoso Inspection CA,O=Contoso" {
			t.Errorf("tls = %+v", tl)
		}
		if rep.Timing.TLS == nil || len(rep.Network.Addresses) != 1 || !rep.Network.Addresses[0].Used {
			t.Errorf("timing %+v addresses %+v", rep.Timing, rep.Network.Addresses)
		}
		if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "intercepted") {
			t.Errorf("warnings = %q", rep.Warnings)
		}
	})
}

func TestIPv6BrokenWarning(t *testing.T) {
	fs := newFakeServer(t, scriptOK)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(fs.srv.URL, "http://"))
	if c, err := net.Dial("tcp6", "[::1]:"+port); err == nil {
		c.Close()
		t.Skip("something listens on [::1]:" + port)
	}
	r, err := netpath.ParseResolve("dual.test:" + port + ":[::1],127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig("ws://dual.test:"+port+"/v3/wsconnect", mintToken(t, testSecret, time.Hour, ""))
	cfg.Network = netDialer(t, netpath.Config{Resolve: []netpath.Resolve{r}})
	rep := runProbe(t, cfg)
	wantOutcome(t, rep, OutcomeConnected)
	if len(rep.Network.Addresses) != 2 || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "IPv6 failed and IPv4 worked") {
		t.Errorf("addresses %+v warnings %q", rep.Network.Addresses, rep.Warnings)
	}
}
