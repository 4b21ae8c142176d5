package netpath

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// fixedResolver answers every name with its addresses, and counts lookups.
type fixedResolver struct{ addrs []string }

func (r fixedResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	var out []net.IPAddr
	for _, a := range r.addrs {
		out = append(out, net.IPAddr{IP: net.ParseIP(a)})
	}
	return out, nil
}

func listenOn(t testing.TB, network, addr string) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s (%v): this machine has no %s loopback", addr, err, network)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return ln, port
}

func freePort(t testing.TB, network, addr string) string {
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

// IPv6 refused, IPv4 accepted: both tried, in Go's order (the first
// address's family first), the IPv4 one used, and the path says IPv6 is broken.
func TestHappyEyeballsIPv6Broken(t *testing.T) {
	_, port := listenOn(t, "tcp4", "127.0.0.1:0")
	// Nothing listens on [::1]:port (if something does, pick another test port).
	if c, err := net.Dial("tcp6", "[::1]:"+port); err == nil {
		c.Close()
		t.Skip("something listens on [::1]:" + port)
	}
	d := mustDialer(t, Config{Getenv: noEnv, Resolver: fixedResolver{[]string{"::1", "127.0.0.1"}}})
	c, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: "dual.test", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if len(p.Addresses) != 2 {
		t.Fatalf("addresses = %+v", p.Addresses)
	}
	a6, a4 := p.Addresses[0], p.Addresses[1]
	if a6.Address != "[::1]:"+port || a6.Family != "ipv6" || a6.Error == nil || a6.TCPMS != nil || a6.Used ||
		!strings.Contains(*a6.Error, "refused") {
		t.Errorf("first = %+v", a6)
	}
	if a4.Address != "127.0.0.1:"+port || a4.Family != "ipv4" || a4.Error != nil || a4.TCPMS == nil || !a4.Used {
		t.Errorf("second = %+v", a4)
	}
	if !p.IPv6Broken() || p.Timing.DNS == nil || p.Timing.TCP == nil || p.Used() != &p.Addresses[1] {
		t.Errorf("path = %+v", p)
	}
}

// A primary that hangs: the other family starts after FallbackDelay and wins;
// the hanging one is recorded as abandoned.
func TestHappyEyeballsFallbackDelay(t *testing.T) {
	_, port := listenOn(t, "tcp4", "127.0.0.1:0")
	// Go's partition uses the first address's family; use an IPv6 primary
	// that hangs instead: 100::1 is the IPv6 discard prefix (RFC 6666).
	d := mustDialer(t, Config{Getenv: noEnv, FallbackDelay: 50 * time.Millisecond,
		Resolver: fixedResolver{[]string{"100::1", "127.0.0.1"}}})
	start := time.Now()
	c, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: "dual.test", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	if len(p.Addresses) != 2 || p.Addresses[0].Family != "ipv6" || p.Addresses[0].Used || p.Addresses[0].Error == nil ||
		!p.Addresses[1].Used {
		t.Errorf("addresses = %+v", p.Addresses)
	}
}

func TestResolveRulesAndFamily(t *testing.T) {
	_, port := listenOn(t, "tcp4", "127.0.0.1:0")
	r, err := ParseResolve("svc.test:" + port + ":[::1],127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// -4: only the IPv4 address is tried, with no DNS lookup at all.
	d := mustDialer(t, Config{Getenv: noEnv, Resolve: []Resolve{r}, Family: FamilyIPv4, Resolver: failResolver{t}})
	c, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: "svc.test", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if len(p.Addresses) != 1 || p.Addresses[0].Address != "127.0.0.1:"+port || p.Timing.DNS != nil {
		t.Errorf("path = %+v", p)
	}
	// -6 with only IPv4 addresses: a DNS-phase error naming the family.
	d = mustDialer(t, Config{Getenv: noEnv, Family: FamilyIPv6, Resolver: fixedResolver{[]string{"127.0.0.1"}}})
	_, _, err = d.Dial(ctxT(t, 5*time.Second), Target{Host: "svc.test", Port: port})
	if e := asError(t, err); e.Kind != KindDNS || !strings.Contains(e.Message(), "no ipv6 address") {
		t.Errorf("err = %v", e)
	}
	// A rule for another port does not apply: DNS is asked.
	other, _ := ParseResolve("svc.test:1:10.0.0.1")
	d = mustDialer(t, Config{Getenv: noEnv, Resolve: []Resolve{other}, Resolver: fixedResolver{[]string{"127.0.0.1"}}})
	c, p, err = d.Dial(ctxT(t, 5*time.Second), Target{Host: "svc.test", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if p.Timing.DNS == nil || p.Addresses[0].Address != "127.0.0.1:"+port {
		t.Errorf("path = %+v", p)
	}
}

type failResolver struct{ t testing.TB }

func (f failResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	f.t.Error("DNS lookup despite a resolve rule")
	return nil, &net.DNSError{Err: "no", Name: "x", IsNotFound: true}
}

func TestAllAddressesRefused(t *testing.T) {
	port := freePort(t, "tcp4", "127.0.0.1:0")
	d := mustDialer(t, Config{Getenv: noEnv, Resolver: fixedResolver{[]string{"127.0.0.1", "127.0.0.2"}}})
	_, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: "svc.test", Port: port})
	e := asError(t, err)
	if e.Kind != KindTCP || e.Phase != PhaseTCP || len(p.Addresses) != 2 || p.Used() != nil {
		t.Errorf("err %v, path %+v", e, p.Addresses)
	}
	for _, a := range p.Addresses {
		if a.Error == nil || *a.Error != "connection refused" {
			t.Errorf("address %+v", a)
		}
	}
}

func TestDNSFailure(t *testing.T) {
	d := mustDialer(t, Config{Getenv: noEnv, Resolver: dnsFail{}})
	_, p, err := d.Dial(ctxT(t, 5*time.Second), Target{Host: "nx.test", Port: "443", TLS: true})
	e := asError(t, err)
	if e.Kind != KindDNS || p.Timing.DNS == nil || p.TLS != nil {
		t.Errorf("err %v path %+v", e, p)
	}
}

type dnsFail struct{}

func (dnsFail) LookupIPAddr(_ context.Context, h string) ([]net.IPAddr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: h, IsNotFound: true}
}
