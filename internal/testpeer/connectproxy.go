package testpeer

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// Serve runs handle on each connection to a new 127.0.0.1 listener, and
// closes the connection when handle returns. When the test ends it closes
// the listener and every connection still open and waits for the handlers.
// It returns the listener's host:port.
func Serve(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ServeListener(t, ln, handle)
}

// ServeListener is Serve on a listener the test made (a TLS one, say).
func ServeListener(t testing.TB, ln net.Listener, handle func(net.Conn)) string {
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

// Pipe copies a to b and b to a until both directions end, closing each
// side when the copy into it ends.
func Pipe(a, b net.Conn) {
	done := make(chan struct{})
	go func() { io.Copy(a, b); a.Close(); close(done) }()
	io.Copy(b, a)
	b.Close()
	<-done
}

// ConnectProxy is an in-process HTTP CONNECT proxy on 127.0.0.1 for the
// answers a real proxy will not give on demand. Set the fields, then Start.
// By default it tunnels to the requested target.
type ConnectProxy struct {
	// Answer, when set, is written instead of tunnelling, and the
	// connection closed.
	Answer string
	// Silent proxies read the request and never answer.
	Silent bool
	// Cut proxies accept CONNECT, then hang up at the first bytes after
	// it: a middlebox that will not pass what follows.
	Cut bool
	// User, "name:password", makes the proxy require those Basic
	// credentials (407 without them).
	User string
	// Cert, when set, makes it speak TLS first: an https:// proxy.
	Cert *tls.Certificate

	// Addr is its host:port, set by Start.
	Addr string
	// Requests receives each request's head as received (the first 16;
	// later ones are dropped).
	Requests chan string
}

// Start runs the proxy until the test ends and returns it.
func (p *ConnectProxy) Start(t testing.TB) *ConnectProxy {
	t.Helper()
	p.Requests = make(chan string, 16)
	p.Addr = Serve(t, p.serve)
	return p
}

func (p *ConnectProxy) serve(c net.Conn) {
	if p.Cert != nil {
		c = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*p.Cert}})
		defer c.Close()
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
	case p.Requests <- head.String():
	default:
	}
	switch {
	case p.Silent:
		io.Copy(io.Discard, br) // until the client gives up
		return
	case p.Answer != "":
		c.Write([]byte(p.Answer))
		return
	case p.User != "" && !strings.Contains(head.String(), "Proxy-Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(p.User))+"\r\n"):
		c.Write([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\r\n"))
		return
	case p.Cut:
		c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		br.ReadByte()
		return
	}
	target := strings.SplitN(head.String(), " ", 3)
	if len(target) < 3 {
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
		return
	}
	up, err := net.Dial("tcp", target[1])
	if err != nil {
		c.Write([]byte("HTTP/1.1 502 Bad Gateway\r\n\r\n"))
		return
	}
	c.Write([]byte("HTTP/1.1 200 Connection established\r\nVia: 1.1 testproxy\r\n\r\n"))
	Pipe(&bufConn{c, br}, up)
}

// bufConn reads through the proxy's buffered reader, which may already
// hold the first bytes after the CONNECT request.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }
