package netpath

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Target is one connection to make: the URL's host and port, and whether
// to speak TLS to it.
type Target struct {
	// Host is the URL's host name or IP (no brackets): the name sent in SNI
	// and checked in the certificate, and judged by NO_PROXY.
	Host string
	// Port is the URL's port (the scheme's default filled in).
	Port string
	// TLS asks for a TLS handshake with Host over the path; it also picks
	// HTTPS_PROXY over HTTP_PROXY.
	TLS bool
	// NextProtos is the ALPN list (default: http/1.1 only).
	NextProtos []string
	// Logger overrides Config.Logger for this dial.
	Logger *slog.Logger
	// OnStep, when set, is called as each step ends, before Dial returns and
	// never concurrently (racing address families take turns).
	OnStep func(Step)
}

// TargetFromHostPort makes a Target of addr ("host:port", as a dial hook
// gets it).
func TargetFromHostPort(addr string, tls bool) (Target, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return Target{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return Target{Host: h, Port: p, TLS: tls}, nil
}

// Step is one finished step of a dial.
type Step struct {
	Phase    Phase
	Duration time.Duration
	// Address is the address or proxy the step was about.
	Address string
	Err     error
}

// Dialer opens connections as its Config says. It is safe for concurrent use.
type Dialer struct {
	cfg       Config
	getenvFn  func(string) string
	local     *x509.CertPool
	localOnce sync.Once
	extra     *x509.CertPool
	extraOnce sync.Once
	public    func() (*x509.CertPool, error)
}

// New checks cfg and returns a Dialer. The system and public root pools are
// loaded on first use.
func New(cfg Config) (*Dialer, error) {
	var errs []error
	if cfg.Proxy != nil {
		if _, err := ParseProxyURL(cfg.Proxy.String()); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Family < FamilyAny || cfg.Family > FamilyIPv6 {
		errs = append(errs, fmt.Errorf("%w: unknown address family %d", ErrConfig, cfg.Family))
	}
	for _, r := range cfg.Resolve {
		if len(r.Addrs) == 0 || r.Host == "" || !validPort(r.Port) {
			errs = append(errs, fmt.Errorf("%w: resolve rule %s is incomplete", ErrConfig, r))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	d := &Dialer{cfg: cfg, getenvFn: cfg.Getenv}
	if d.getenvFn == nil {
		d.getenvFn = os.Getenv
	}
	if d.cfg.Resolver == nil {
		d.cfg.Resolver = net.DefaultResolver
	}
	if d.cfg.FallbackDelay == 0 {
		d.cfg.FallbackDelay = DefaultFallbackDelay
	}
	if d.cfg.Now == nil {
		d.cfg.Now = time.Now
	}
	if d.cfg.Logger == nil {
		d.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d.public = sync.OnceValues(func() (*x509.CertPool, error) {
		if cfg.PublicRoots != nil {
			return cfg.PublicRoots, nil
		}
		return PublicRoots(), nil
	})
	return d, nil
}

// Config returns the configuration the Dialer runs with.
func (d *Dialer) Config() Config { return d.cfg }

// dial is the state of one Dial.
type dial struct {
	d    *Dialer
	t    Target
	log  *slog.Logger
	path *Path
	mu   sync.Mutex // serialises OnStep while address families race
}

func (x *dial) step(s Step) {
	if x.t.OnStep != nil {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.t.OnStep(s)
	}
}

// Dial opens a connection to t as the Config says and returns it with the
// Path it took. The Path is returned also on failure, with every step up to
// it; the error is then a *Error. The connection is a *tls.Conn when
// t.TLS is set.
func (d *Dialer) Dial(ctx context.Context, t Target) (net.Conn, *Path, error) {
	x := &dial{d: d, t: t, log: t.Logger, path: &Path{Addresses: []Address{}}}
	if x.log == nil {
		x.log = d.cfg.Logger
	}
	x.log = x.log.With("component", "net")
	if t.Host == "" || !validPort(t.Port) {
		return nil, x.path, &Error{Kind: KindTCP, Phase: PhaseTCP, Host: t.Host,
			Err: fmt.Errorf("%w: target %q has no host or a bad port", ErrConfig, net.JoinHostPort(t.Host, t.Port))}
	}
	rt := d.Route(t)
	x.path.Dialled = net.JoinHostPort(rt.Host, rt.Port)
	if rt.BypassedBy != "" {
		x.path.ProxyBypassedBy = strp(rt.BypassedBy)
		x.log.Debug("proxy not used", "target", net.JoinHostPort(t.Host, t.Port), "because", rt.BypassedBy)
	}
	var (
		c   net.Conn
		err error
	)
	if rt.Err != nil {
		return nil, x.path, &Error{Kind: KindProxyUnreachable, Phase: PhaseProxy, Host: t.Host, Proxy: rt.Source, Err: rt.Err}
	}
	if rt.Proxy != nil {
		c, err = x.viaProxy(ctx, rt)
	} else {
		c, err = x.direct(ctx, rt.Host, rt.Port)
	}
	if err != nil {
		return nil, x.path, err
	}
	if !t.TLS {
		return c, x.path, nil
	}
	tc, err := x.handshake(ctx, c)
	if err != nil {
		c.Close()
		var e *Error
		if rt.Proxy != nil && errors.As(err, &e) {
			e.Proxy = Redact(rt.Proxy)
		}
		return nil, x.path, err
	}
	return tc, x.path, nil
}

// direct resolves host and connects to its addresses, Happy Eyeballs style.
func (x *dial) direct(ctx context.Context, host, port string) (net.Conn, error) {
	addrs, err := x.resolve(ctx, host, port)
	if err != nil {
		return nil, err
	}
	return x.connect(ctx, host, port, addrs)
}

func (x *dial) resolve(ctx context.Context, host, port string) ([]netip.Addr, error) {
	fam := x.d.cfg.Family
	filter := func(in []netip.Addr, from string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range in {
			if fam.allows(a) {
				out = append(out, a.Unmap())
			}
		}
		if len(out) == 0 {
			return nil, &Error{Kind: KindDNS, Phase: PhaseDNS, Host: host,
				Err: fmt.Errorf("%s has no %s address (%s)", host, fam, from)}
		}
		return out, nil
	}
	for _, r := range x.d.cfg.Resolve {
		if (r.Host == "*" || strings.EqualFold(r.Host, host)) && r.Port == port {
			x.log.Debug("resolve rule", "host", host, "port", port, "addresses", r.Addrs)
			return filter(r.Addrs, "resolve rule "+r.String())
		}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return filter([]netip.Addr{a}, "an IP address")
	}
	t0 := time.Now()
	ias, err := x.d.cfg.Resolver.LookupIPAddr(ctx, host)
	took := time.Since(t0)
	x.path.Timing.DNS = durp(took)
	x.step(Step{Phase: PhaseDNS, Duration: took, Address: host, Err: err})
	if err != nil {
		x.log.Debug("dns failed", "host", host, "took", took, "err", err)
		kind := KindDNS
		if ctx.Err() != nil {
			kind = ctxKind(ctx, KindDNS)
		}
		return nil, &Error{Kind: kind, Phase: PhaseDNS, Host: host, Err: err}
	}
	var addrs []netip.Addr
	for _, ia := range ias {
		if a, ok := netip.AddrFromSlice(ia.IP); ok {
			addrs = append(addrs, a.Unmap())
		}
	}
	x.log.Debug("dns", "host", host, "took", took, "addresses", addrs)
	if len(addrs) == 0 {
		return nil, &Error{Kind: KindDNS, Phase: PhaseDNS, Host: host, Err: fmt.Errorf("lookup %s: no addresses", host)}
	}
	return filter(addrs, "DNS")
}

// ctxKind is KindCanceled when ctx was canceled, else fallback (deadline).
func ctxKind(ctx context.Context, fallback Kind) Kind {
	if errors.Is(ctx.Err(), context.Canceled) {
		return KindCanceled
	}
	return fallback
}

// connect dials addrs as Go's net.Dialer does (dialParallel, dialSerial):
// the first address's family is primary; the other family starts after
// FallbackDelay, or as soon as the primaries have all failed; within a
// family, one address at a time, each with a share of the time left. Each
// try is recorded in the Path in the order it started.
func (x *dial) connect(ctx context.Context, host, port string, addrs []netip.Addr) (net.Conn, error) {
	var primaries, fallbacks []netip.Addr
	first4 := addrs[0].Is4()
	for _, a := range addrs {
		if a.Is4() == first4 {
			primaries = append(primaries, a)
		} else {
			fallbacks = append(fallbacks, a)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	t0 := time.Now()
	var mu sync.Mutex
	won := false
	// try records a start and returns the function that records its end.
	try := func(a netip.Addr) func(net.Conn, error, time.Duration) bool {
		mu.Lock()
		i := len(x.path.Addresses)
		fam := "ipv4"
		if !a.Is4() {
			fam = "ipv6"
		}
		x.path.Addresses = append(x.path.Addresses, Address{Address: netip.AddrPortFrom(a, mustPort(port)).String(), Family: fam})
		mu.Unlock()
		return func(c net.Conn, err error, took time.Duration) bool {
			mu.Lock()
			defer mu.Unlock()
			rec := &x.path.Addresses[i]
			if err != nil {
				if won {
					rec.Error = strp("abandoned: another address connected first")
				} else {
					rec.Error = strp(errText(err))
				}
				return false
			}
			rec.TCPMS = msp(took)
			if won {
				rec.Error = strp("connected after another address; closed")
				return false
			}
			won = true
			rec.Used = true
			return true
		}
	}

	type result struct {
		c   net.Conn
		err error
	}
	serial := func(ctx context.Context, list []netip.Addr) result {
		var errs []error
		for i, a := range list {
			if ctx.Err() != nil {
				if len(errs) == 0 {
					errs = append(errs, ctx.Err())
				}
				break
			}
			dctx := ctx
			if dl, ok := ctx.Deadline(); ok {
				if pdl := partialDeadline(time.Now(), dl, len(list)-i); pdl.Before(dl) {
					var c context.CancelFunc
					dctx, c = context.WithDeadline(ctx, pdl)
					defer c()
				}
			}
			end := try(a)
			addr := netip.AddrPortFrom(a, mustPort(port)).String()
			s := time.Now()
			var nd net.Dialer
			c, err := nd.DialContext(dctx, "tcp", addr)
			took := time.Since(s)
			x.step(Step{Phase: PhaseTCP, Duration: took, Address: addr, Err: err})
			if err == nil {
				if end(c, nil, took) {
					x.log.Debug("tcp connected", "address", addr, "took", took)
					return result{c: c}
				}
				c.Close()
				return result{err: errors.New("lost the race")}
			}
			end(nil, err, took)
			x.log.Debug("tcp failed", "address", addr, "took", took, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		}
		return result{err: errors.Join(errs...)}
	}

	var res result
	if len(fallbacks) == 0 {
		res = serial(ctx, primaries)
	} else {
		results := make(chan result, 2)
		primaryCtx, primaryCancel := context.WithCancel(ctx)
		defer primaryCancel()
		fallbackCtx, fallbackCancel := context.WithCancel(ctx)
		defer fallbackCancel()
		go func() { results <- serial(primaryCtx, primaries) }()
		timer := time.NewTimer(max(x.d.cfg.FallbackDelay, 0))
		defer timer.Stop()
		started, pending := false, 1
		startFallback := func() {
			if !started {
				started = true
				pending++
				go func() { results <- serial(fallbackCtx, fallbacks) }()
			}
		}
		var errs []error
	race:
		for {
			select {
			case <-timer.C:
				startFallback()
			case r := <-results:
				pending--
				if r.c != nil {
					res = r
					primaryCancel()
					fallbackCancel()
					break race
				}
				errs = append(errs, r.err)
				startFallback()
				if pending == 0 {
					res.err = errors.Join(errs...)
					break race
				}
			}
		}
		// Wait for the loser, so every address is recorded before the Path
		// is returned and no goroutine outlives Dial.
		for ; pending > 0; pending-- {
			if r := <-results; r.c != nil {
				r.c.Close()
			}
		}
	}
	if res.c == nil {
		kind := KindTCP
		if ctx.Err() != nil {
			kind = ctxKind(ctx, KindTCP)
		}
		return nil, &Error{Kind: kind, Phase: PhaseTCP, Host: host, Err: res.err}
	}
	x.path.Timing.TCP = durp(time.Since(t0))
	return res.c, nil
}

// partialDeadline gives one of n remaining addresses its share of the time
// left, but at least two seconds, as Go's dialer does.
func partialDeadline(now, deadline time.Time, n int) time.Time {
	left := deadline.Sub(now)
	if left <= 0 {
		return deadline
	}
	share := left / time.Duration(n)
	const sane = 2 * time.Second
	if share < sane {
		share = min(sane, left)
	}
	return now.Add(share)
}

func mustPort(p string) uint16 {
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return uint16(n)
}

// errText is a short form of a dial error: the syscall's words without the
// "dial tcp a->b:" wrapping the Address already says.
func errText(err error) string {
	var se syscall.Errno
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &se):
		return se.Error()
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}
