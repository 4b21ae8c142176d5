package netpath

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// Route is how a connection to a Target goes, decided before any packet
// is sent.
type Route struct {
	// Proxy is the proxy to go through, nil for direct.
	Proxy *url.URL
	// Source is where Proxy came from: Config.ProxySource ("config"
	// unless set), or the environment variable as written.
	Source string
	// BypassedBy says why an environment proxy is not used: the NO_PROXY
	// entry that matched ("NO_PROXY entry .example.com"), the loopback rule,
	// or the configuration turning the environment off. Empty otherwise.
	BypassedBy string
	// Host and Port are what is dialled, or asked for in CONNECT, after
	// ConnectTo rules.
	Host, Port string
	// Err is set when the environment names a proxy this package cannot
	// use (a socks5:// URL, a bad port); the dial then fails with it.
	Err error
}

// Route decides how a connection to t goes.
func (d *Dialer) Route(t Target) Route {
	r := Route{Host: t.Host, Port: t.Port}
	for _, c := range d.cfg.ConnectTo {
		if (c.FromHost == "" || strings.EqualFold(c.FromHost, t.Host)) && (c.FromPort == "" || c.FromPort == t.Port) {
			if c.ToHost != "" {
				r.Host = c.ToHost
			}
			if c.ToPort != "" {
				r.Port = c.ToPort
			}
			break
		}
	}
	if d.cfg.Proxy != nil {
		r.Proxy, r.Source = d.cfg.Proxy, d.cfg.ProxySource
		if r.Source == "" {
			r.Source = "config"
		}
		return r
	}
	env := d.envProxy(t.TLS)
	if env.url == nil && env.err == nil {
		return r
	}
	if d.cfg.NoProxyEnv {
		r.BypassedBy = "configuration: environment proxies ignored"
		return r
	}
	if by := env.bypass(t.Host, t.Port); by != "" {
		r.BypassedBy = by
		return r
	}
	r.Proxy, r.Source, r.Err = env.url, env.source, env.err
	return r
}

// envRule is the environment's proxy for one scheme and its NO_PROXY list.
type envRule struct {
	url           *url.URL
	source        string // the variable's name as written
	noProxy       string
	noProxySource string
	err           error
}

// envProxy reads the environment as httpproxy.FromEnvironment does: the
// lower-case variable first.
func (d *Dialer) envProxy(tls bool) envRule {
	names := []string{"http_proxy", "HTTP_PROXY"}
	if tls {
		names = []string{"https_proxy", "HTTPS_PROXY"}
	}
	var r envRule
	for _, n := range names {
		if v := d.getenv(n); v != "" {
			if !tls && d.getenv("REQUEST_METHOD") != "" {
				// net/http refuses HTTP_PROXY under CGI (golang.org/s/cgihttpproxy).
				return envRule{}
			}
			u, err := ParseProxyURL(v)
			if err != nil {
				r.err = fmt.Errorf("%s: %w", n, err)
			}
			r.url, r.source = u, n
			break
		}
	}
	for _, n := range []string{"no_proxy", "NO_PROXY"} {
		if v := d.getenv(n); v != "" {
			r.noProxy, r.noProxySource = v, n
			break
		}
	}
	return r
}

// bypass returns why host:port is not proxied by the environment's rules,
// or "" when it is. It follows golang.org/x/net/http/httpproxy's useProxy
// exactly (a test compares the two), naming the entry that matched.
func (r envRule) bypass(host, port string) string {
	if host == "localhost" {
		return "loopback: localhost is never proxied"
	}
	var ip net.IP
	if a, err := netip.ParseAddr(host); err == nil {
		ip = net.IP(a.AsSlice())
		if ip.IsLoopback() {
			return "loopback: " + host + " is never proxied"
		}
	}
	host = strings.ToLower(strings.TrimSpace(host))
	by := func(entry string) string { return r.noProxySource + " entry " + entry }
	var domainHit string
	for _, raw := range strings.Split(r.noProxy, ",") {
		p := strings.ToLower(strings.TrimSpace(raw))
		if p == "" {
			continue
		}
		if p == "*" {
			return by("*")
		}
		if _, cidr, err := net.ParseCIDR(p); err == nil {
			if ip != nil && cidr.Contains(ip) {
				return by(p)
			}
			continue
		}
		phost, pport, err := net.SplitHostPort(p)
		if err == nil {
			if phost == "" {
				continue
			}
			if phost[0] == '[' && phost[len(phost)-1] == ']' {
				phost = phost[1 : len(phost)-1]
			}
		} else {
			phost = p
		}
		if pip := net.ParseIP(phost); pip != nil {
			if ip != nil && pip.Equal(ip) && (pport == "" || pport == port) {
				return by(p)
			}
			continue
		}
		if phost == "" {
			continue
		}
		if domainHit != "" {
			continue
		}
		if strings.HasPrefix(phost, "*.") {
			phost = phost[1:]
		}
		matchHost := false
		if phost[0] != '.' {
			matchHost = true
			phost = "." + phost
		}
		if ip == nil && (strings.HasSuffix(host, phost) || (matchHost && host == phost[1:])) && (pport == "" || pport == port) {
			domainHit = p
		}
	}
	if domainHit != "" {
		return by(domainHit)
	}
	return ""
}

func (d *Dialer) getenv(k string) string { return d.getenvFn(k) }
