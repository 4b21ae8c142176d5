package netpath

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/tlsca"
)

const twilioHost = "tsock.us1.twilio.com"

// tlsServer is a TLS echo-ish server on 127.0.0.1 with the given
// certificate: it completes the handshake, writes "hello" and closes.
type tlsServer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	port string
}

func newTLSServer(t testing.TB, cert tls.Certificate) *tlsServer {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{ln: ln}
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				c.Write([]byte("hello"))
				io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// rawServer runs handle on each connection to a 127.0.0.1 listener.
func rawServer(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func newCA(t testing.TB, cn, org string) *tlsca.CA {
	t.Helper()
	ca, err := tlsca.NewCA(pkix.Name{CommonName: cn, Organization: []string{org}}, tlsca.Validity{})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t testing.TB, ca *tlsca.CA, v tlsca.Validity, names ...string) tls.Certificate {
	t.Helper()
	c, err := ca.Issue(names, v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connectTo(t testing.TB, port string) []ConnectTo {
	t.Helper()
	c, err := ParseConnectTo(twilioHost + ":443:127.0.0.1:" + port)
	if err != nil {
		t.Fatal(err)
	}
	return []ConnectTo{c}
}

func noEnv(string) string { return "" }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *netpath.Error", err, err)
	}
	return e
}

func tlsValidity() tlsca.Validity { return tlsca.Validity{} }
