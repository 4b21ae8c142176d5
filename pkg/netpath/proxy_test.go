package netpath

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// connectProxy is an in-process CONNECT proxy on 127.0.0.1 for the answers
// a real proxy will not give on demand. answer, when set, replaces the
// proxy's answer; otherwise it checks Basic credentials (when user is set)
// and tunnels to the requested target.
type connectProxy struct {
	addr     string
	user     string // "name:password" required, or ""
	answer   string
	silent   bool             // never answer
	cert     *tls.Certificate // speak TLS first: an https:// proxy
	requests chan string      // each request's head, as received
}

func startConnectProxy(t testing.TB, p *connectProxy) *connectProxy {
	p.requests = make(chan string, 16)
	p.addr = rawServer(t, func(c net.Conn) {
		if p.cert != nil {
			c = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*p.cert}})
		}
		br := bufio.NewReader(c)
		var head strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			head.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		select {
		case p.requests <- head.String():
		default:
		}
		if p.silent {
			io.Copy(io.Discard, br) // until the client gives up
			return
		}
		if p.answer != "" {
			c.Write([]byte(p.answer))
			return
		}
		if p.user != "" && !strings.Contains(head.String(), "Proxy-Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(p.user))+"\r\n") {
			c.Write([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\r\n"))
			return
		}
		first := strings.SplitN(head.String(), " ", 3)
		up, err := net.Dial("tcp", first[1])
		if err != nil {
			c.Write([]byte("HTTP/1.1 502 Bad Gateway\r\n\r\n"))
			return
		}
		defer up.Close()
		c.Write([]byte("HTTP/1.1 200 Connection established\r\nVia: 1.1 testproxy\r\n\r\n"))
		c.SetDeadline(time.Time{})
		go func() { io.Copy(up, br); up.Close() }()
		io.Copy(c, up)
	})
	return p
}

func proxyURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := ParseProxyURL(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestProxyAnswers(t *testing.T) {
	ca := newCA(t, "Test CA", "Test")
	srv := newTLSServer(t, issue(t, ca, tlsValidity(), twilioHost))
	proxyCert := issue(t, ca, tlsValidity(), "127.0.0.1")
	closed := rawServer(t, func(net.Conn) {})
	plainHTTP := rawServer(t, func(c net.Conn) {
		c.Read(make([]byte, 512))
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name    string
		proxy   *connectProxy
		url     string // proxy URL; %s is the proxy's address
		timeout time.Duration
		kind    Kind
		status  int
		msg     string
	}{
		{name: "tunnel", proxy: &connectProxy{}, url: "http://%s"},
		{name: "https proxy", proxy: &connectProxy{cert: &proxyCert}, url: "https://alice:s3cret@%s"},
		{name: "basic ok", proxy: &connectProxy{user: "alice:s3cret"}, url: "http://alice:s3cret@%s"},
		{name: "basic missing", proxy: &connectProxy{user: "alice:s3cret"}, url: "http://%s", kind: KindProxyAuth, status: 407, msg: "requires credentials"},
		{name: "basic wrong", proxy: &connectProxy{user: "alice:s3cret"}, url: "http://alice:nope@%s", kind: KindProxyAuth, status: 407, msg: "rejected the credentials"},
		{name: "ntlm only", proxy: &connectProxy{answer: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM\r\nProxy-Authenticate: Negotiate\r\n\r\n"},
			url: "http://%s", kind: KindProxyAuthUnsupported, status: 407, msg: "NTLM, Negotiate authentication"},
		{name: "403", proxy: &connectProxy{answer: "HTTP/1.1 403 Forbidden\r\n\r\n"}, url: "http://%s", kind: KindProxyForbidden, status: 403},
		{name: "502", proxy: &connectProxy{answer: "HTTP/1.1 502 Bad Gateway\r\nVia: 1.1 squid\r\n\r\n"}, url: "http://%s", kind: KindProxyUpstream, status: 502, msg: "could not reach"},
		{name: "garbage", proxy: &connectProxy{answer: "SSH-2.0-OpenSSH\r\n"}, url: "http://%s", kind: KindProxyBadAnswer},
		{name: "slow", proxy: &connectProxy{silent: true}, url: "http://%s", timeout: 300 * time.Millisecond, kind: KindProxyTimeout},
		{name: "tunnel cut at the TLS handshake", proxy: &connectProxy{answer: "HTTP/1.1 200 Connection established\r\n\r\n"}, url: "http://%s",
			kind: KindTLSReset, msg: "inside the tunnel the proxy http://127.0.0.1:"},
		{name: "hangs up", url: "http://" + closed, kind: KindProxyBadAnswer, msg: "closed the connection without answering"},
		{name: "unreachable", url: "http://" + deadAddr, kind: KindProxyUnreachable},
		{name: "https proxy that is not TLS", url: "https://" + plainHTTP, kind: KindProxyUnreachable, msg: "TLS with the proxy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url
			if tc.proxy != nil {
				startConnectProxy(t, tc.proxy)
				u = strings.Replace(u, "%s", tc.proxy.addr, 1)
			}
			d := mustDialer(t, Config{Getenv: noEnv, Proxy: proxyURL(t, u), Roots: x509.NewCertPool(),
				ExtraRoots: []*x509.Certificate{ca.Cert}, ConnectTo: connectTo(t, srv.port)})
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			start := time.Now()
			c, p, err := d.Dial(ctxT(t, timeout), Target{Host: twilioHost, Port: "443", TLS: true})
			if time.Since(start) > timeout+time.Second {
				t.Errorf("took %v, timeout %v", time.Since(start), timeout)
			}
			if p.Proxy == nil || p.Proxy.Target != "127.0.0.1:"+srv.port || p.Proxy.Source != "config" || len(p.Addresses) != 0 {
				t.Fatalf("path = %+v", p)
			}
			if strings.Contains(p.Proxy.URL, "s3cret") || strings.Contains(p.Proxy.URL, "nope") {
				t.Errorf("proxy URL shows the password: %s", p.Proxy.URL)
			}
			if tc.kind == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if p.TLS == nil || !p.TLS.Verified || p.Timing.Proxy == nil || *p.Proxy.ConnectStatus != 200 || len(p.Proxy.Via) != 1 {
					t.Errorf("path = %+v, tls %+v", p.Proxy, p.TLS)
				}
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
					t.Errorf("through the tunnel: %q, %v", buf, err)
				}
				return
			}
			e := asError(t, err)
			wantPhase := PhaseProxy
			if tc.kind.IsTLS() {
				wantPhase = PhaseTLS
			}
			if e.Kind != tc.kind || e.Phase != wantPhase || e.Status != tc.status || !strings.Contains(e.Message(), tc.msg) || e.Hint() == "" {
				t.Errorf("err = kind %s phase %s status %d %q, want %s %d %q", e.Kind, e.Phase, e.Status, e.Message(), tc.kind, tc.status, tc.msg)
			}
			if tc.status != 0 && (p.Proxy.ConnectStatus == nil || *p.Proxy.ConnectStatus != tc.status) {
				t.Errorf("connect_status = %v", p.Proxy.ConnectStatus)
			}
			for _, s := range []string{e.Message(), e.Hint(), p.Proxy.URL} {
				if strings.Contains(s, "s3cret") || strings.Contains(s, "nope") {
					t.Errorf("a password shows: %s", s)
				}
			}
		})
	}
}

// Through a proxy, the CONNECT carries the connect-to destination, and the
// credentials as Basic; the name checked in TLS stays the URL's.
func TestProxyRequest(t *testing.T) {
	p := startConnectProxy(t, &connectProxy{answer: "HTTP/1.1 403 Forbidden\r\n\r\n"})
	d := mustDialer(t, Config{Getenv: noEnv, Proxy: proxyURL(t, "http://bob:pa%3Ass@"+p.addr), ConnectTo: connectTo(t, "8443")})
	d.Dial(ctxT(t, 5*time.Second), Target{Host: twilioHost, Port: "443", TLS: true})
	head := <-p.requests
	want := "CONNECT 127.0.0.1:8443 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n"
	if !strings.HasPrefix(head, want) || !strings.Contains(head, "Proxy-Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("bob:pa:ss"))) {
		t.Errorf("request = %q", head)
	}
}
