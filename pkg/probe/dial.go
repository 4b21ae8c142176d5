package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/twilsock"
)

// attempt is one connection attempt and the time each of its phases took.
// Only Run's goroutine touches it: gorilla calls the dial hooks synchronously.
type attempt struct {
	n     int
	start time.Time
	phase Phase // the phase in progress, or the last one reached

	dns, tcp, tls, upgrade, init, connected *time.Duration
	proxy                                   *time.Duration
	path                                    *netpath.Path // the network path the dial took
}

// phaseError is a dial failure tagged with the phase it happened in.
type phaseError struct {
	phase Phase
	err   error
}

func (e *phaseError) Error() string { return e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

// dial opens the WebSocket, timing DNS, TCP, TLS and the upgrade separately.
// On a refused upgrade the *http.Response is returned with the error.
func (r *run) dial(ctx context.Context, a *attempt) (*websocket.Conn, *http.Response, error) {
	var (
		mu        sync.Mutex
		netConn   net.Conn
		upgradeAt time.Time
	)
	transportUp := func(c net.Conn) (net.Conn, error) {
		mu.Lock()
		netConn = c
		mu.Unlock()
		if err := ctx.Err(); err != nil {
			c.Close()
			return nil, &phaseError{PhaseUpgrade, err}
		}
		a.phase = PhaseUpgrade
		upgradeAt = time.Now()
		return c, nil
	}
	netDial := func(tls bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := r.netDial(ctx, a, addr, tls)
			if err != nil {
				return nil, err
			}
			return transportUp(c)
		}
	}
	// Proxy stays nil: netpath does the CONNECT itself, keeping the
	// proxy's answer and timing it.
	d := &websocket.Dialer{
		NetDialContext:    netDial(false),
		NetDialTLSContext: netDial(true),
		ReadBufferSize:    4096,
		WriteBufferSize:   4096,
	}

	// gorilla bounds the handshake by ctx's deadline but not by its
	// cancellation; closing the socket on cancel makes Ctrl-C prompt too.
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if netConn != nil {
			netConn.Close()
		}
	})
	ws, resp, err := d.DialContext(ctx, r.cfg.URL, nil)
	interrupted := !stop()
	if err == nil && interrupted {
		ws.Close()
		err = ctx.Err()
	}
	if err != nil {
		var pe *phaseError
		if !errors.As(err, &pe) {
			err = &phaseError{a.phase, err}
		}
		return nil, resp, err
	}
	up := time.Since(upgradeAt)
	a.upgrade = &up
	r.phaseDone(PhaseUpgrade, up)
	ws.SetReadLimit(twilsock.MaxHeaderSize + twilsock.MaxPayloadSize + 64)
	return ws, resp, nil
}

// upgradeFailure captures a refused upgrade for the report.
func upgradeFailure(resp *http.Response) *UpgradeFailure {
	if resp == nil {
		return nil
	}
	uf := &UpgradeFailure{Status: resp.StatusCode, Headers: map[string]string{}}
	for k, v := range resp.Header {
		uf.Headers[k] = strings.Join(v, ", ")
	}
	if resp.Body != nil {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		uf.Body = strings.TrimSpace(string(b))
	}
	return uf
}

// describeDialError turns a dial failure into words a person can act on.
func describeDialError(err error, resp *http.Response, url string) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, websocket.ErrBadHandshake) && resp != nil:
		if resp.StatusCode == http.StatusSwitchingProtocols {
			return "the server answered 101 but not a valid WebSocket handshake"
		}
		return fmt.Sprintf("the server refused the WebSocket upgrade (HTTP %d %s)", resp.StatusCode, http.StatusText(resp.StatusCode))
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Sprintf("DNS: no such host %q", dnsErr.Name)
		}
		return "DNS lookup failed: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing is listening at " + hostOf(url)
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection during the handshake"
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "TLS: the server's certificate does not verify: " + certErr.Err.Error()
	}
	return err.Error()
}
