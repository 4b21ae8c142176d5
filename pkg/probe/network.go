package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"io"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/netpath"
)

// PhaseProxy is TCP (and TLS) to an HTTP proxy plus its answer to CONNECT.
const PhaseProxy Phase = "proxy"

// Cause kinds for the network path (docs/network-path.md; JSON in docs/json-reports.md).
const (
	// CauseProxy: the proxy refused or failed the CONNECT, or accepted it
	// and the WebSocket upgrade then failed through it. HTTPStatus is the
	// proxy's answer to CONNECT when it gave one.
	CauseProxy CauseKind = "proxy"
	// CauseTLS: the certificate or the handshake failed.
	CauseTLS CauseKind = "tls"
)

// dialer returns the run's network dialer: Config.Network, or one built
// from Config.Resolver and Config.TLSConfig's roots that follows the
// environment's proxy variables.
func (c Config) dialer() (*netpath.Dialer, error) {
	if c.Network != nil {
		return c.Network, nil
	}
	nc := netpath.Config{Resolver: c.Resolver}
	if c.TLSConfig != nil {
		nc.Roots = c.TLSConfig.RootCAs
	}
	return netpath.New(nc)
}

// netDial opens the transport of one attempt through netpath, keeping the
// path it took and timing each phase.
func (r *run) netDial(ctx context.Context, a *attempt, addr string, tls bool) (net.Conn, error) {
	t, err := netpath.TargetFromHostPort(addr, tls)
	if err != nil {
		return nil, &phaseError{PhaseDNS, err}
	}
	t.Logger = r.cfg.Logger
	a.phase = PhaseDNS
	t.OnStep = func(s netpath.Step) {
		if s.Err == nil && s.Phase != netpath.PhaseTCP {
			a.phase = nextPhase(s.Phase, tls)
		}
	}
	c, path, err := r.dialer.Dial(ctx, t)
	a.path = path
	tm := path.Timing
	a.dns, a.tcp, a.proxy, a.tls = tm.DNS, tm.TCP, tm.Proxy, tm.TLS
	for _, p := range []struct {
		phase Phase
		d     *time.Duration
	}{{PhaseDNS, tm.DNS}, {PhaseProxy, tm.Proxy}, {PhaseTCP, tm.TCP}, {PhaseTLS, tm.TLS}} {
		if p.d != nil {
			r.phaseDone(p.phase, *p.d)
		}
	}
	if err != nil {
		var ne *netpath.Error
		if errors.As(err, &ne) {
			return nil, &phaseError{probePhase(ne.Phase), err}
		}
		return nil, &phaseError{a.phase, err}
	}
	r.notePath(path)
	return c, nil
}

// nextPhase is the phase that follows a finished one.
func nextPhase(done netpath.Phase, tls bool) Phase {
	switch done {
	case netpath.PhaseDNS:
		return PhaseTCP
	case netpath.PhaseProxy, netpath.PhaseTCP:
		if tls {
			return PhaseTLS
		}
	}
	return PhaseUpgrade
}

func probePhase(p netpath.Phase) Phase {
	switch p {
	case netpath.PhaseDNS:
		return PhaseDNS
	case netpath.PhaseProxy:
		return PhaseProxy
	case netpath.PhaseTLS:
		return PhaseTLS
	}
	return PhaseTCP
}

// notePath warns about what works but is worth knowing: IPv6 failing where
// IPv4 works, and a certificate re-signed by an issuer this machine trusts.
func (r *run) notePath(p *netpath.Path) {
	if p.IPv6Broken() {
		used := p.Used()
		r.warn(fmt.Sprintf("IPv6 failed and IPv4 worked (%s): clients that try IPv6 first connect slower, or not at all", used.Address))
	}
	if p.TLS != nil && p.TLS.InterceptedBy != nil && p.TLS.Verified {
		r.warn(fmt.Sprintf("TLS is intercepted: the certificate for %s is issued by %s, not a public CA (this machine trusts it); %s",
			p.TLS.ServerName, *p.TLS.InterceptedBy, netpath.InterceptionHint()))
	}
}

// netCause explains a dial failure that netpath named as the proxy's or
// TLS's doing, or a WebSocket upgrade that failed inside an accepted
// CONNECT tunnel. It returns nil for anything else.
func (r *run) netCause(a *attempt, err error, resp *httpStatus) *Cause {
	var ne *netpath.Error
	if errors.As(err, &ne) {
		var kind CauseKind
		switch {
		case ne.Kind.IsProxy():
			kind = CauseProxy
		case ne.Kind.IsTLS():
			kind = CauseTLS
		default:
			return nil
		}
		c := &Cause{Kind: kind, Message: ne.Message(), Hint: ne.Hint(), Phase: probePhase(ne.Phase)}
		if ne.Status != 0 {
			c.HTTPStatus = intp(ne.Status)
		}
		return c
	}
	if a.path == nil || a.path.Proxy == nil || a.path.Proxy.ConnectStatus == nil || *a.path.Proxy.ConnectStatus/100 != 2 || a.phase != PhaseUpgrade {
		return nil
	}
	// The proxy said yes to CONNECT; what failed came through the tunnel.
	if resp != nil && resp.status != 101 {
		return nil // an HTTP answer: the server's (or something's) refusal, explained as such
	}
	cut := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, websocket.ErrBadHandshake)
	if !cut {
		return nil
	}
	what := "the connection was cut during the WebSocket upgrade"
	if resp != nil {
		what = "the answer to the WebSocket upgrade was not a valid WebSocket handshake"
	}
	return &Cause{Kind: CauseProxy, Phase: PhaseUpgrade, HTTPStatus: nil,
		Message: fmt.Sprintf("the proxy %s accepted CONNECT to %s, but %s", a.path.Proxy.URL, a.path.Proxy.Target, what),
		Hint:    "something between this machine and the server does not pass WebSockets (the proxy, or a firewall behind it): ask IT to allow WebSocket (wss) traffic to *.twilio.com on 443"}
}

// httpStatus is the status of a refused upgrade, when one came.
type httpStatus struct{ status int }

// proxyTimeoutCause is the cause when the run's own deadline struck while
// waiting for the proxy: the proxy's failure, not a generic timeout.
func (r *run) proxyTimeoutCause(a *attempt) *Cause {
	proxy := "the proxy"
	if a.path != nil && a.path.Proxy != nil {
		proxy += " " + a.path.Proxy.URL
	}
	what := fmt.Sprintf("timed out after %s", roundDur(r.cfg.Timeout))
	if r.interrupted() {
		what = "interrupted"
	}
	return &Cause{Kind: CauseProxy, Phase: PhaseProxy,
		Message: fmt.Sprintf("%s waiting for %s to answer CONNECT", what, proxy),
		Hint:    "the proxy accepted the connection but did not answer: it may be overloaded, or wait for something; ask IT"}
}

func proxyWords(rawURL string) string {
	return "the proxy's answer to CONNECT " + strings.TrimSpace(hostOf(rawURL))
}

func respStatus(resp *http.Response) *httpStatus {
	if resp == nil {
		return nil
	}
	return &httpStatus{resp.StatusCode}
}
