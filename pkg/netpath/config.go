package netpath

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
)

// ErrConfig is matched (errors.Is) by every error New and the Parse
// functions return for bad input.
var ErrConfig = errors.New("netpath: bad config")

// DefaultFallbackDelay is how long the first address family gets before the
// other joins, as in Go's net.Dialer.
const DefaultFallbackDelay = 300 * time.Millisecond

// Family restricts which address families are dialled.
type Family int

const (
	FamilyAny  Family = iota
	FamilyIPv4        // IPv4 addresses only
	FamilyIPv6        // IPv6 addresses only
)

func (f Family) String() string {
	switch f {
	case FamilyIPv4:
		return "ipv4"
	case FamilyIPv6:
		return "ipv6"
	}
	return "any"
}

func (f Family) allows(a netip.Addr) bool {
	switch f {
	case FamilyIPv4:
		return a.Unmap().Is4()
	case FamilyIPv6:
		return !a.Unmap().Is4()
	}
	return true
}

// Resolver looks up a host's addresses; *net.Resolver implements it.
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// Config is how a Dialer finds its way. The zero Config dials directly or
// through the environment's proxy, trusting this machine's roots.
type Config struct {
	// Proxy, when set, carries every connection, loopback included; the
	// environment is not read. http:// or https://; Basic credentials come
	// from its userinfo.
	Proxy *url.URL
	// ProxySource is what reports name as Proxy's source (default
	// "config"): a program says where it got the URL, "flag" for a
	// command-line option. The environment's proxies are named by their
	// variable whatever this says.
	ProxySource string
	// NoProxyEnv ignores the environment's proxy variables.
	NoProxyEnv bool
	// Getenv reads the environment (default os.Getenv). Tests inject one.
	Getenv func(string) string

	// Roots are this machine's trusted roots (nil: the system pool).
	Roots *x509.CertPool
	// ExtraRoots are trusted in addition to Roots: a company CA.
	ExtraRoots []*x509.Certificate
	// PublicRoots is the public Web PKI (nil: Mozilla's, PublicRoots()).
	PublicRoots *x509.CertPool

	// Resolve gives the addresses of names dialled directly (curl --resolve).
	Resolve []Resolve
	// ConnectTo redirects a host:port to another (curl --connect-to).
	ConnectTo []ConnectTo
	// Family keeps one address family only.
	Family Family
	// Resolver for DNS (default net.DefaultResolver).
	Resolver Resolver
	// FallbackDelay is the Happy Eyeballs head start of the first family
	// (default 300 ms; negative: none, both families at once).
	FallbackDelay time.Duration

	// Logger gets every step at debug level (default: none). Target.Logger
	// overrides it for one dial.
	Logger *slog.Logger
	// Now is the clock certificates are judged by (default time.Now).
	Now func() time.Time
}

// Resolve is one curl-style --resolve rule: connections to Host:Port use
// Addrs instead of DNS. Host "*" matches every host.
type Resolve struct {
	Host  string
	Port  string
	Addrs []netip.Addr
}

func (r Resolve) String() string {
	a := make([]string, len(r.Addrs))
	for i, ad := range r.Addrs {
		a[i] = ad.String()
		if ad.Is6() && !ad.Is4In6() {
			a[i] = "[" + a[i] + "]"
		}
	}
	return r.Host + ":" + r.Port + ":" + strings.Join(a, ",")
}

// ParseResolve reads HOST:PORT:ADDR[,ADDR...] as curl's --resolve does; an
// IPv6 ADDR may be in brackets.
func ParseResolve(s string) (Resolve, error) {
	bad := func(why string) (Resolve, error) {
		return Resolve{}, fmt.Errorf("%w: resolve rule %q: %s (want HOST:PORT:ADDR[,ADDR...])", ErrConfig, s, why)
	}
	host, rest, ok := strings.Cut(s, ":")
	if !ok || host == "" {
		return bad("no host")
	}
	port, addrs, ok := strings.Cut(rest, ":")
	if !ok {
		return bad("no address")
	}
	if !validPort(port) {
		return bad("port " + quoteShort(port) + " is not a number from 1 to 65535")
	}
	r := Resolve{Host: strings.ToLower(strings.Trim(host, "[]")), Port: port}
	for _, a := range strings.Split(addrs, ",") {
		a = strings.TrimSpace(a)
		if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
			a = a[1 : len(a)-1]
		}
		ip, err := netip.ParseAddr(a)
		if err != nil || ip.Zone() != "" {
			return bad(quoteShort(a) + " is not an IP address")
		}
		r.Addrs = append(r.Addrs, ip.Unmap())
	}
	return r, nil
}

// ConnectTo is one curl-style --connect-to rule: a connection for
// FromHost:FromPort goes to ToHost:ToPort instead, keeping the name for TLS.
// An empty From field matches any host or port; an empty To field keeps the
// original.
type ConnectTo struct {
	FromHost, FromPort, ToHost, ToPort string
}

func (c ConnectTo) String() string {
	return bracket(c.FromHost) + ":" + c.FromPort + ":" + bracket(c.ToHost) + ":" + c.ToPort
}

// ParseConnectTo reads HOST1:PORT1:HOST2:PORT2 as curl's --connect-to does;
// IPv6 hosts go in brackets.
func ParseConnectTo(s string) (ConnectTo, error) {
	bad := func(why string) (ConnectTo, error) {
		return ConnectTo{}, fmt.Errorf("%w: connect-to rule %q: %s (want HOST1:PORT1:HOST2:PORT2)", ErrConfig, s, why)
	}
	var f [4]string
	rest := s
	for i := range f {
		if i%2 == 0 && strings.HasPrefix(rest, "[") {
			end := strings.Index(rest, "]")
			if end < 0 {
				return bad("unclosed [")
			}
			f[i] = rest[1:end]
			if _, err := netip.ParseAddr(f[i]); err != nil {
				return bad(quoteShort(f[i]) + " in brackets is not an IPv6 address")
			}
			rest = rest[end+1:]
			if i < 3 {
				if !strings.HasPrefix(rest, ":") {
					return bad("missing :")
				}
				rest = rest[1:]
			}
			continue
		}
		if i == 3 {
			f[i], rest = rest, ""
			break
		}
		var ok bool
		f[i], rest, ok = strings.Cut(rest, ":")
		if !ok {
			return bad("want four fields")
		}
	}
	if rest != "" || strings.Contains(f[3], ":") {
		return bad("too many fields")
	}
	for _, p := range []string{f[1], f[3]} {
		if p != "" && !validPort(p) {
			return bad("port " + quoteShort(p) + " is not a number from 1 to 65535")
		}
	}
	return ConnectTo{FromHost: strings.ToLower(f[0]), FromPort: f[1], ToHost: strings.ToLower(f[2]), ToPort: f[3]}, nil
}

// ParseProxyURL reads a proxy URL: http:// or https://, with a host and
// optional user:password. A URL without a scheme is taken as http://, as
// net/http does. The error never repeats the password.
func ParseProxyURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if u2, err2 := url.Parse("http://" + s); err2 == nil && u2.Host != "" && !strings.Contains(s, "://") {
			u, err = u2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: proxy URL %s does not parse", ErrConfig, redactRaw(s))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: proxy URL %s: scheme must be http or https", ErrConfig, Redact(u))
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w: proxy URL %s has no host", ErrConfig, Redact(u))
	case u.Port() != "" && !validPort(u.Port()):
		return nil, fmt.Errorf("%w: proxy URL %s: bad port", ErrConfig, Redact(u))
	case u.Path != "" && u.Path != "/", u.RawQuery != "":
		return nil, fmt.Errorf("%w: proxy URL %s: a proxy URL has no path or query", ErrConfig, Redact(u))
	}
	return u, nil
}

// LoadCAFile reads every PEM certificate in path (a company CA bundle).
func LoadCAFile(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %w", ErrConfig, err)
	}
	var certs []*x509.Certificate
	for len(b) > 0 {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: CA file %s: %w", ErrConfig, path, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrConfig, path)
	}
	return certs, nil
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
