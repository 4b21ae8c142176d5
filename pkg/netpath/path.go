package netpath

import (
	"math"
	"net/url"
	"strings"
	"time"
)

// Phase names a step of a dial.
type Phase string

const (
	PhaseDNS   Phase = "dns"   // looking up the target's addresses
	PhaseTCP   Phase = "tcp"   // connecting to one of them
	PhaseProxy Phase = "proxy" // TCP (and TLS) to the proxy, then its answer to CONNECT
	PhaseTLS   Phase = "tls"   // the handshake with the target
)

// Path is what one Dial did, in the JSON shape of the connect report's
// "network" object (docs/json-reports.md, "connect"). Fields that did not
// apply are nil; Addresses is empty through a proxy (the proxy resolves the
// target itself).
type Path struct {
	Proxy           *Proxy    `json:"proxy"`
	ProxyBypassedBy *string   `json:"proxy_bypassed_by"`
	Addresses       []Address `json:"addresses"`
	TLS             *TLS      `json:"tls"`

	// Dialled is the host:port the connection was for after ConnectTo
	// rules: what was dialled directly or asked for in CONNECT.
	Dialled string `json:"dialled"`
	// Timing holds each phase's duration; nil when the phase did not happen.
	Timing Timing `json:"-"`
}

// Timing is how long each phase took. Proxy covers TCP (and TLS) to the
// proxy and its CONNECT answer; TCP is the time until the address that
// carried the connection connected, counted from the first attempt.
type Timing struct {
	DNS, TCP, Proxy, TLS *time.Duration
}

// Proxy is the proxy a connection went through and what it answered.
type Proxy struct {
	// URL is the proxy URL with its password shown as ***.
	URL string `json:"url"`
	// Source is where it came from: Config.ProxySource for Config.Proxy
	// ("config" unless set), or the environment variable as written
	// (HTTPS_PROXY, https_proxy, ...).
	Source string `json:"source"`
	// Target is the host:port asked for in CONNECT.
	Target string `json:"target"`
	// ConnectStatus is the status of the proxy's answer (nil: none came).
	ConnectStatus *int     `json:"connect_status"`
	ConnectMS     *float64 `json:"connect_ms"`
	// Reason is the answer's status text as the proxy wrote it (peer text).
	Reason string `json:"reason,omitempty"`
	// ProxyAuthenticate lists the answer's Proxy-Authenticate headers
	// (the schemes the proxy accepts: Basic, NTLM, Negotiate, ...).
	ProxyAuthenticate []string `json:"proxy_authenticate,omitempty"`
	// Via lists the answer's Via headers.
	Via []string `json:"via,omitempty"`
	// Server is the answer's Server header.
	Server string `json:"server,omitempty"`
	// Credentials says whether Basic credentials were sent.
	Credentials bool `json:"credentials"`
}

// Address is one address tried, in the order tried.
type Address struct {
	Address string   `json:"address"` // ip:port, IPv6 in brackets
	Family  string   `json:"family"`  // "ipv4" or "ipv6"
	TCPMS   *float64 `json:"tcp_ms"`  // connect time; nil when it failed
	Error   *string  `json:"error"`
	Used    bool     `json:"used"`
}

// TLS is the handshake with the target: present whenever one was
// attempted, failed ones included.
type TLS struct {
	Version    string `json:"version"` // "TLS 1.3"; "" when the handshake failed before
	Cipher     string `json:"cipher"`
	ALPN       string `json:"alpn"`
	ServerName string `json:"server_name"`
	// Chain is the certificates as presented, leaf first.
	Chain []Cert `json:"chain"`
	// Verified: the chain verifies for ServerName against this machine's
	// roots plus the extra ones.
	Verified bool `json:"verified"`
	// PubliclyTrusted: it verifies against the public Web PKI.
	PubliclyTrusted bool `json:"publicly_trusted"`
	// InterceptedBy names the issuer (its distinguished name) of a chain
	// that re-signs the target's certificate: trusted here but not
	// publicly, or untrusted with an issuer no public CA is.
	InterceptedBy *string `json:"intercepted_by"`
	// Error is why the handshake or the verification failed.
	Error *string `json:"error"`
}

// Cert is one presented certificate.
type Cert struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"`
	DNSNames  []string  `json:"dns_names,omitempty"`
	IsCA      bool      `json:"is_ca,omitempty"`
}

// IPv6Broken reports whether an IPv6 address failed and an IPv4 one
// carried the connection: the path works, but slower, and clients with a
// shorter fallback may not.
func (p *Path) IPv6Broken() bool {
	if p == nil {
		return false
	}
	v6failed, v4used := false, false
	for _, a := range p.Addresses {
		if a.Family == "ipv6" && a.Error != nil && a.TCPMS == nil {
			v6failed = true
		}
		if a.Family == "ipv4" && a.Used {
			v4used = true
		}
	}
	return v6failed && v4used
}

// Used returns the address that carried the connection, or nil.
func (p *Path) Used() *Address {
	if p == nil {
		return nil
	}
	for i := range p.Addresses {
		if p.Addresses[i].Used {
			return &p.Addresses[i]
		}
	}
	return nil
}

// Redact shows a URL with its password as ***: http://user:***@host:port.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	if _, has := u.User.Password(); !has {
		return u.String()
	}
	c := *u
	c.User = url.UserPassword(u.User.Username(), "xxx")
	return strings.Replace(c.String(), ":xxx@", ":***@", 1)
}

// redactRaw hides whatever sits between "://" (or the start) and the last
// "@" of a string that did not parse as a URL.
func redactRaw(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return quoteShort(s)
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + 3
	}
	user := s[start:at]
	if i := strings.Index(user, ":"); i >= 0 {
		user = user[:i] + ":***"
	} else {
		user = "***"
	}
	return quoteShort(s[:start] + user + s[at:])
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

func msp(d time.Duration) *float64 { v := ms(d); return &v }

func durp(d time.Duration) *time.Duration { return &d }

func strp(s string) *string { return &s }
