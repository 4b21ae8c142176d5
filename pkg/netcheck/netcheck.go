package netcheck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/convctl/convctl/pkg/netpath"
)

// DefaultTimeout bounds each endpoint's check.
const DefaultTimeout = 10 * time.Second

// Config describes a check. The zero value checks us1 directly or through
// the environment's proxy.
type Config struct {
	// Region picks the endpoints (default "us1").
	Region string
	// Endpoints overrides Endpoints(Region).
	Endpoints []Endpoint
	// Net is how connections find their way (proxy, roots, resolve and
	// connect-to rules, family). Its Resolver, if any, is wrapped to record
	// each lookup.
	Net netpath.Config
	// Timeout bounds each endpoint's whole check (default DefaultTimeout).
	Timeout time.Duration
	// Logger gets every step at debug level (default: none).
	Logger *slog.Logger
	// Now is the clock certificates are judged by (default time.Now).
	Now func() time.Time
	// Observe, when set, gets each endpoint's Result as soon as that
	// endpoint is checked (for a progress display), from the endpoint's
	// own goroutine: calls are concurrent and in no set order. It must not
	// keep or modify the Result past the Run.
	Observe func(*Result)
}

// Checker runs rounds with one dialer, so root pools load once.
type Checker struct {
	cfg  Config
	dial *netpath.Dialer
}

// New checks cfg and returns a Checker. Errors wrap netpath.ErrConfig.
func New(cfg Config) (*Checker, error) {
	if cfg.Region == "" {
		cfg.Region = "us1"
	}
	if cfg.Endpoints == nil {
		cfg.Endpoints = Endpoints(cfg.Region)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rec := &recorder{next: cfg.Net.Resolver}
	if rec.next == nil {
		rec.next = net.DefaultResolver
	}
	nc := cfg.Net
	nc.Resolver = rec
	if nc.Logger == nil {
		nc.Logger = cfg.Logger
	}
	if nc.Now == nil {
		nc.Now = cfg.Now
	}
	d, err := netpath.New(nc)
	if err != nil {
		return nil, err
	}
	return &Checker{cfg: cfg, dial: d}, nil
}

// Run checks every endpoint of cfg once. A bad Config is reported as every
// endpoint failing with its error.
func Run(ctx context.Context, cfg Config) *Report {
	c, err := New(cfg)
	if err != nil {
		rep := &Report{Region: cfg.Region, Started: time.Now().UTC(), Warnings: []Warning{}}
		eps := cfg.Endpoints
		if eps == nil {
			eps = Endpoints(cfg.Region)
		}
		for _, e := range eps {
			r := newResult(e)
			r.fail("config", "config", err, "")
			rep.Endpoints = append(rep.Endpoints, r)
		}
		return rep
	}
	return c.Run(ctx)
}

// Run checks every endpoint at once, each within the Checker's Timeout,
// and returns when the last one is done.
func (c *Checker) Run(ctx context.Context) *Report {
	rep := &Report{Region: c.cfg.Region, Started: c.cfg.Now().UTC(), Endpoints: make([]*Result, len(c.cfg.Endpoints))}
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, e := range c.cfg.Endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ectx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			defer cancel()
			r := c.check(ectx, e)
			rep.Endpoints[i] = r
			if c.cfg.Observe != nil {
				c.cfg.Observe(r)
			}
		}()
	}
	wg.Wait()
	rep.Duration = time.Since(t0)
	rep.OK = true
	for _, r := range rep.Endpoints {
		if r.Required && !r.OK {
			rep.OK = false
		}
	}
	rep.Warnings = c.warnings(rep)
	return rep
}

func newResult(e Endpoint) *Result {
	port, _ := strconv.Atoi(e.Port)
	return &Result{Host: e.Host, Port: port, Protocol: e.Protocol, Required: e.Required,
		Purpose: e.Purpose, Addresses: []netpath.Address{}}
}

func (r *Result) fail(phase, kind string, err error, hint string) {
	r.OK = false
	r.Phase, r.Kind = phase, kind
	msg := err.Error()
	r.Error = &msg
	if hint != "" {
		r.Hint = &hint
	}
}

// check is one endpoint: the dial (DNS, proxy, TCP, TLS), then the
// application step.
func (c *Checker) check(ctx context.Context, e Endpoint) *Result {
	r := newResult(e)
	t0 := time.Now()
	defer func() { r.Duration = time.Since(t0) }()
	log := c.cfg.Logger.With("endpoint", e.Host)
	slot := &dnsSlot{}
	conn, path, err := c.dial.Dial(context.WithValue(ctx, dnsSlotKey{}, slot), netpath.Target{Host: e.Host, Port: e.Port, TLS: true, Logger: log})
	r.DNS = slot.get()
	if path != nil {
		r.Proxy, r.Bypassed, r.TLS = path.Proxy, path.ProxyBypassedBy, path.TLS
		if path.Addresses != nil {
			r.Addresses = path.Addresses
		}
		r.Timing = Timing{DNS: ms(path.Timing.DNS), TCP: ms(path.Timing.TCP), TLS: ms(path.Timing.TLS), Proxy: ms(path.Timing.Proxy)}
		if path.TLS != nil && len(path.TLS.Chain) > 0 {
			r.CertNotAfter = path.TLS.Chain[0].NotAfter
		}
	}
	if err != nil {
		var ne *netpath.Error
		if errors.As(err, &ne) {
			r.fail(string(ne.Phase), string(ne.Kind), ne, ne.Hint())
		} else {
			r.fail("tcp", "tcp", err, "")
		}
		return r
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	a0 := time.Now()
	status, err := appStep(conn, e)
	r.Timing.App = ms(durp(time.Since(a0)))
	if status != 0 {
		r.HTTPStatus = &status
	}
	switch {
	case err != nil && ctx.Err() != nil:
		r.fail("app", "timeout", fmt.Errorf("no answer to %s within the time allowed", appWhat(e)), appTimeoutHint(r))
	case err != nil:
		r.fail("app", "app_protocol", fmt.Errorf("%s: %v", appWhat(e), err), appProtocolHint(r))
	case e.Protocol == ProtocolWSS && status != 101:
		r.fail("app", "app_status", fmt.Errorf("the WebSocket upgrade of %s was answered %d, not 101", e.Path, status), upgradeHint(r, status))
	default:
		r.OK = true
	}
	log.Debug("checked", "ok", r.OK, "status", status, "took", time.Since(t0))
	return r
}

func appWhat(e Endpoint) string {
	if e.Protocol == ProtocolWSS {
		return "the WebSocket upgrade of " + e.Path
	}
	return "GET " + e.Path
}

func appTimeoutHint(r *Result) string {
	if r.Proxy != nil {
		return "the proxy passed the connection but no answer came through it: it may hold or inspect the traffic; ask IT to let *.twilio.com through unchanged"
	}
	return "the connection opened but the server did not answer: a firewall may hold the traffic; try again, and ask IT whether *.twilio.com is inspected or rate-limited"
}

func appProtocolHint(r *Result) string {
	if r.Proxy != nil {
		return "the proxy accepted CONNECT, then the answer was not HTTP from Twilio: a middlebox may be rewriting the traffic; ask IT to let *.twilio.com through unchanged"
	}
	return "the answer was not HTTP from Twilio: a middlebox may be rewriting the traffic; ask IT to let *.twilio.com through unchanged"
}

func upgradeHint(r *Result, status int) string {
	via := "something between this machine and Twilio"
	if r.Proxy != nil {
		via = "the proxy (it accepted CONNECT)"
	}
	if status >= 200 && status < 300 {
		return via + " answered the upgrade as a plain HTTP request: it does not pass WebSockets; ask IT to allow WebSocket upgrades to " + r.Host
	}
	return fmt.Sprintf("%s or the server refused the WebSocket upgrade with %d: ask IT to allow WebSocket (Upgrade: websocket) to %s on port %d", via, status, r.Host, r.Port)
}

func (c *Checker) warnings(rep *Report) []Warning {
	ws := []Warning{}
	if !KnownRegion(rep.Region) {
		ws = append(ws, Warning{Code: WarnUnknownRegion, Message: fmt.Sprintf("Conversations runs in %v; region %s is not one of them", Regions, rep.Region),
			Hint: "a client pointed at the wrong region fails with Twilio error 50385: use the region the Conversations service lives in"})
	}
	now := c.cfg.Now()
	var proxy *netpath.Proxy
	var bypassed string
	for _, r := range rep.Endpoints {
		if r.Proxy != nil && proxy == nil {
			proxy = r.Proxy
		}
		if r.Bypassed != nil && bypassed == "" {
			bypassed = *r.Bypassed
		}
		p := &netpath.Path{Addresses: r.Addresses}
		if p.IPv6Broken() {
			ws = append(ws, Warning{Code: WarnIPv6Broken, Host: r.Host,
				Message: "IPv6 failed and IPv4 carried the connection",
				Hint:    "clients that try IPv6 first connect late or not at all: ask IT to fix IPv6 routing to Twilio, or to turn IPv6 off on this network"})
		}
		if r.TLS != nil && r.TLS.InterceptedBy != nil {
			ws = append(ws, Warning{Code: WarnTLSIntercepted, Host: r.Host,
				Message: "TLS is intercepted: the certificate is signed by " + *r.TLS.InterceptedBy,
				Hint:    netpath.InterceptionHint()})
		}
		if !r.CertNotAfter.IsZero() && r.CertNotAfter.Sub(now) < CertWarnWithin && r.CertNotAfter.After(now) {
			ws = append(ws, Warning{Code: WarnCertExpiresSoon, Host: r.Host,
				Message: fmt.Sprintf("the certificate expires %s (in %s)", r.CertNotAfter.UTC().Format(time.RFC3339), r.CertNotAfter.Sub(now).Round(time.Hour))})
		}
	}
	if proxy != nil {
		ws = append(ws, Warning{Code: WarnProxyInUse, Message: fmt.Sprintf("connections go through the proxy %s (from %s)", proxy.URL, proxy.Source),
			Hint: "every client on this network needs the same proxy setting; browsers take it from the system, Node does not"})
	}
	if bypassed != "" {
		ws = append(ws, Warning{Code: WarnProxyBypassed, Message: "a proxy is set but not used: " + bypassed})
	}
	return ws
}

// recorder wraps a resolver to look up A and AAAA separately, time each,
// and leave what it found in the dnsSlot of the lookup's context: the
// dialer passes the check's context through, so concurrent checks of names
// that a connect-to rule sends to the same host never mix.
type recorder struct {
	next netpath.Resolver
}

type dnsSlotKey struct{}

// dnsSlot holds one check's lookup. A dial resolves at most one name.
type dnsSlot struct {
	mu  sync.Mutex
	dns *DNS
}

func (s *dnsSlot) get() *DNS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dns
}

// ipLookup is the part of *net.Resolver that asks for one family.
type ipLookup interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

func (r *recorder) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	fam, ok := r.next.(ipLookup)
	if !ok {
		// An injected resolver that cannot ask per family: record the
		// answer split by family, timed as one lookup.
		t0 := time.Now()
		ias, err := r.next.LookupIPAddr(ctx, host)
		took := ms(durp(time.Since(t0)))
		d := &DNS{AMS: took, AAAAMS: took, A: []string{}, AAAA: []string{}}
		for _, ia := range ias {
			if ia.IP.To4() != nil {
				d.A = append(d.A, ia.IP.String())
			} else {
				d.AAAA = append(d.AAAA, ia.IP.String())
			}
		}
		if err != nil {
			s := err.Error()
			d.AErr, d.AAAAEr = &s, &s
		}
		put(ctx, d)
		return ias, err
	}
	type answer struct {
		addrs []netip.Addr
		err   error
		took  time.Duration
	}
	var a4, a6 answer
	var wg sync.WaitGroup
	for _, q := range []struct {
		network string
		into    *answer
	}{{"ip4", &a4}, {"ip6", &a6}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			q.into.addrs, q.into.err = fam.LookupNetIP(ctx, q.network, host)
			q.into.took = time.Since(t0)
		}()
	}
	wg.Wait()
	d := &DNS{A: strs(a4.addrs), AAAA: strs(a6.addrs), AMS: ms(&a4.took), AAAAMS: ms(&a6.took)}
	if a4.err != nil {
		s := a4.err.Error()
		d.AErr = &s
	}
	if a6.err != nil {
		s := a6.err.Error()
		d.AAAAEr = &s
	}
	put(ctx, d)
	// IPv6 first, as RFC 6724 orders them on a host with both.
	var out []net.IPAddr
	for _, a := range append(a6.addrs, a4.addrs...) {
		out = append(out, net.IPAddr{IP: a.AsSlice(), Zone: a.Zone()})
	}
	if len(out) == 0 {
		if a4.err != nil {
			return nil, a4.err
		}
		if a6.err != nil {
			return nil, a6.err
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

func put(ctx context.Context, d *DNS) {
	if s, ok := ctx.Value(dnsSlotKey{}).(*dnsSlot); ok {
		s.mu.Lock()
		s.dns = d
		s.mu.Unlock()
	}
}

func strs(as []netip.Addr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

func durp(d time.Duration) *time.Duration { return &d }

func ms(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	v := float64(d.Microseconds()) / 1000
	return &v
}
