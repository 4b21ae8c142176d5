package netpath

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/http/httpproxy"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func mustDialer(t testing.TB, cfg Config) *Dialer {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRouteEnvironment(t *testing.T) {
	env := map[string]string{
		"HTTPS_PROXY": "http://alice:pw@proxy.corp:3128",
		"http_proxy":  "http://plain.corp:8080",
		"NO_PROXY":    "internal.corp, .example.com,10.0.0.0/8,192.168.1.1:443,*.svc",
	}
	d := mustDialer(t, Config{Getenv: envOf(env)})
	for _, tc := range []struct {
		host, port string
		tls        bool
		proxy      string
		source     string
		bypass     string
	}{
		{host: "tsock.us1.twilio.com", port: "443", tls: true, proxy: "http://alice:***@proxy.corp:3128", source: "HTTPS_PROXY"},
		{host: "tsock.us1.twilio.com", port: "80", proxy: "http://plain.corp:8080", source: "http_proxy"},
		{host: "internal.corp", port: "443", tls: true, bypass: "NO_PROXY entry internal.corp"},
		{host: "a.internal.corp", port: "443", tls: true, bypass: "NO_PROXY entry internal.corp"},
		{host: "example.com", port: "443", tls: true, proxy: "http://alice:***@proxy.corp:3128", source: "HTTPS_PROXY"},
		{host: "www.example.com", port: "443", tls: true, bypass: "NO_PROXY entry .example.com"},
		{host: "10.1.2.3", port: "443", tls: true, bypass: "NO_PROXY entry 10.0.0.0/8"},
		{host: "192.168.1.1", port: "443", tls: true, bypass: "NO_PROXY entry 192.168.1.1:443"},
		{host: "192.168.1.1", port: "8443", tls: true, proxy: "http://alice:***@proxy.corp:3128", source: "HTTPS_PROXY"},
		{host: "x.svc", port: "443", tls: true, bypass: "NO_PROXY entry *.svc"},
		{host: "127.0.0.1", port: "443", tls: true, bypass: "loopback: 127.0.0.1 is never proxied"},
		{host: "::1", port: "443", tls: true, bypass: "loopback: ::1 is never proxied"},
		{host: "localhost", port: "443", tls: true, bypass: "loopback: localhost is never proxied"},
	} {
		r := d.Route(Target{Host: tc.host, Port: tc.port, TLS: tc.tls})
		if got := Redact(r.Proxy); got != tc.proxy || r.Source != tc.source || r.BypassedBy != tc.bypass {
			t.Errorf("%s:%s tls=%v: proxy %q source %q bypass %q; want %q %q %q", tc.host, tc.port, tc.tls,
				got, r.Source, r.BypassedBy, tc.proxy, tc.source, tc.bypass)
		}
	}

	// An explicit proxy carries everything, loopback included, and ignores NO_PROXY.
	pu, _ := url.Parse("http://p:1")
	d = mustDialer(t, Config{Getenv: envOf(env), Proxy: pu})
	for _, h := range []string{"127.0.0.1", "localhost", "www.example.com"} {
		if r := d.Route(Target{Host: h, Port: "443", TLS: true}); r.Proxy != pu || r.Source != "config" || r.BypassedBy != "" {
			t.Errorf("explicit proxy, %s: %+v", h, r)
		}
	}
	// A program names where its proxy came from.
	d = mustDialer(t, Config{Getenv: envOf(env), Proxy: pu, ProxySource: "flag"})
	if r := d.Route(Target{Host: "tsock.us1.twilio.com", Port: "443", TLS: true}); r.Proxy != pu || r.Source != "flag" {
		t.Errorf("ProxySource flag: %+v", r)
	}
	// Environment proxies off: say so.
	d = mustDialer(t, Config{Getenv: envOf(env), NoProxyEnv: true})
	if r := d.Route(Target{Host: "tsock.us1.twilio.com", Port: "443", TLS: true}); r.Proxy != nil || r.BypassedBy == "" {
		t.Errorf("NoProxyEnv: %+v", r)
	}
	// A socks proxy in the environment is an error, not a silent direct dial.
	d = mustDialer(t, Config{Getenv: envOf(map[string]string{"HTTPS_PROXY": "socks5://s:1080"})})
	if r := d.Route(Target{Host: "tsock.us1.twilio.com", Port: "443", TLS: true}); r.Err == nil {
		t.Errorf("socks5 in HTTPS_PROXY: %+v, want an error", r)
	}
}

func TestRouteConnectTo(t *testing.T) {
	pu, _ := url.Parse("http://p:1")
	ct, _ := ParseConnectTo("tsock.us1.twilio.com:443:127.0.0.1:8443")
	any, _ := ParseConnectTo("::other:1")
	d := mustDialer(t, Config{ConnectTo: []ConnectTo{ct, any}, Proxy: pu})
	r := d.Route(Target{Host: "tsock.us1.twilio.com", Port: "443", TLS: true})
	if r.Host != "127.0.0.1" || r.Port != "8443" {
		t.Errorf("route = %+v, want 127.0.0.1:8443", r)
	}
	r = d.Route(Target{Host: "mcs.us1.twilio.com", Port: "443", TLS: true})
	if r.Host != "other" || r.Port != "1" {
		t.Errorf("catch-all rule: %+v", r)
	}
}

// bypassSameAsHTTPProxy checks one case against golang.org/x/net/http/httpproxy.
func bypassSameAsHTTPProxy(t *testing.T, noProxy, host, port string) {
	t.Helper()
	if strings.ContainsAny(host, "/?#@[] %") || host == "" {
		return
	}
	for _, c := range noProxy + host {
		if c >= 0x80 {
			return // httpproxy maps IDNs to punycode; this package does not
		}
	}
	cfg := &httpproxy.Config{HTTPSProxy: "http://proxy:1", NoProxy: noProxy}
	u := &url.URL{Scheme: "https", Host: bracket(host) + ":" + port}
	if u.Hostname() != host {
		return
	}
	want, err := cfg.ProxyFunc()(u)
	if err != nil {
		return
	}
	d := mustDialer(t, Config{Getenv: envOf(map[string]string{"HTTPS_PROXY": "http://proxy:1", "NO_PROXY": noProxy})})
	r := d.Route(Target{Host: host, Port: port, TLS: true})
	if (want != nil) != (r.Proxy != nil) {
		t.Fatalf("NO_PROXY=%q host %s port %s: httpproxy proxies=%v, Route proxies=%v (%q)", noProxy, host, port, want != nil, r.Proxy != nil, r.BypassedBy)
	}
	if r.Proxy == nil && r.BypassedBy == "" {
		t.Fatalf("NO_PROXY=%q host %s: bypassed without a reason", noProxy, host)
	}
}

func TestRouteAgreesWithHTTPProxy(t *testing.T) {
	lists := []string{"", "*", "example.com", ".example.com", "*.example.com", "example.com:443", "example.com:80",
		"10.0.0.0/8", "10.1.2.3", "10.1.2.3:443", "[::2]:443", "::2", "2001:db8::/32", " Example.COM ,foo", ":443", "[]:1"}
	hosts := []string{"example.com", "www.example.com", "notexample.com", "EXAMPLE.com", "10.1.2.3", "10.9.9.9",
		"::2", "2001:db8::1", "127.0.0.1", "localhost", "::1", "foo", "x.foo"}
	for _, l := range lists {
		for _, h := range hosts {
			for _, p := range []string{"443", "80"} {
				bypassSameAsHTTPProxy(t, l, h, p)
			}
		}
	}
}

func FuzzRouteAgreesWithHTTPProxy(f *testing.F) {
	f.Add(".example.com,10.0.0.0/8", "www.example.com", "443")
	f.Add("*.a.b:443", "c.a.b", "443")
	f.Fuzz(func(t *testing.T, noProxy, host, port string) {
		if !validPort(port) {
			return
		}
		bypassSameAsHTTPProxy(t, noProxy, host, port)
	})
}
