package netpath

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind names what failed. Callers switch on it; the strings are stable.
type Kind string

const (
	KindDNS Kind = "dns" // the name did not resolve (or to no address of the wanted family)
	KindTCP Kind = "tcp" // no address accepted a TCP connection

	KindProxyUnreachable     Kind = "proxy_unreachable"      // no TCP (or TLS, for https://) to the proxy
	KindProxyAuth            Kind = "proxy_auth_required"    // 407, and Basic would do: credentials missing or wrong
	KindProxyAuthUnsupported Kind = "proxy_auth_unsupported" // 407 asking only for schemes this client cannot do (NTLM, Negotiate)
	KindProxyForbidden       Kind = "proxy_forbidden"        // 403: the proxy's policy refuses this target or port
	KindProxyUpstream        Kind = "proxy_upstream"         // 500/502/503/504: the proxy could not reach the target
	KindProxyRefused         Kind = "proxy_refused"          // any other non-2xx answer to CONNECT
	KindProxyBadAnswer       Kind = "proxy_bad_answer"       // the answer was not HTTP, or the proxy hung up
	KindProxyTimeout         Kind = "proxy_timeout"          // no answer to CONNECT in time

	KindTLSExpired     Kind = "tls_expired"       // a certificate in the chain has expired
	KindTLSNotYetValid Kind = "tls_not_yet_valid" // ... or is not valid yet (a clock problem, usually)
	KindTLSWrongName   Kind = "tls_wrong_name"    // the certificate is for another name
	KindTLSIntercepted Kind = "tls_intercepted"   // re-signed by an issuer this machine does not trust
	KindTLSUntrusted   Kind = "tls_untrusted"     // signed by an unknown authority, no sign of interception
	KindTLSPlainHTTP   Kind = "tls_plain_http"    // the server answered the handshake in plain HTTP
	KindTLSReset       Kind = "tls_reset"         // the connection was cut during the handshake
	KindTLSHandshake   Kind = "tls_handshake"     // any other handshake failure (alert, protocol)
	KindTLSTimeout     Kind = "tls_timeout"       // no handshake in time

	KindCanceled Kind = "canceled" // the caller's context ended the dial
)

// IsProxy reports whether the kind is the proxy's doing.
func (k Kind) IsProxy() bool { return strings.HasPrefix(string(k), "proxy_") }

// IsTLS reports whether the kind is a TLS failure with the target.
func (k Kind) IsTLS() bool { return strings.HasPrefix(string(k), "tls_") }

// Error is a failed dial: what failed (Kind), in which step (Phase), and
// the facts a message needs. Err is the underlying error (errors.Is and
// errors.As see through to it: context.DeadlineExceeded, a net.Error, an
// x509 error).
type Error struct {
	Kind  Kind
	Phase Phase
	Err   error

	// Host is the target's name (TLS checks, messages).
	Host string
	// Proxy is the proxy URL, redacted, when one was used.
	Proxy string
	// Status is the proxy's answer to CONNECT (0: none).
	Status int
	// Reason is the proxy's status text (peer text).
	Reason string
	// Schemes are the proxy's Proxy-Authenticate schemes for a 407.
	Schemes []string
	// Issuer is the distinguished name of the certificate's issuer (TLS).
	Issuer string
	// NotAfter / NotBefore of the certificate that is out of its validity.
	NotAfter, NotBefore time.Time
	// Names are the names the certificate is valid for (KindTLSWrongName).
	Names []string
	// Credentials says whether Basic credentials were sent (407).
	Credentials bool
	// Now is when the certificate was judged.
	Now time.Time
}

func (e *Error) Error() string { return e.Message() }
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the dial ran out of time (the context's deadline
// or a socket timeout).
func (e *Error) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &t) && t.Timeout())
}

// Message states what happened, in one line.
func (e *Error) Message() string {
	via := "the proxy " + e.Proxy
	switch e.Kind {
	case KindDNS:
		return fmt.Sprintf("DNS: %v", e.Err)
	case KindTCP:
		return fmt.Sprintf("TCP: %v", e.Err)
	case KindProxyUnreachable:
		return fmt.Sprintf("%s is unreachable: %v", via, e.Err)
	case KindProxyAuth:
		if e.Credentials {
			return fmt.Sprintf("%s rejected the credentials given (%d %s, it accepts %s)", via, e.Status, e.Reason, schemeList(e.Schemes))
		}
		return fmt.Sprintf("%s requires credentials (407 Proxy Authentication Required, it accepts %s)", via, schemeList(e.Schemes))
	case KindProxyAuthUnsupported:
		return fmt.Sprintf("%s requires %s authentication (407), which this client does not support: only Basic is", via, schemeList(e.Schemes))
	case KindProxyForbidden:
		return fmt.Sprintf("%s refused CONNECT to %s (%d %s): its policy does not allow this destination or port", via, e.Host, e.Status, e.Reason)
	case KindProxyUpstream:
		return fmt.Sprintf("%s could not reach %s (%d %s)", via, e.Host, e.Status, e.Reason)
	case KindProxyRefused:
		return fmt.Sprintf("%s refused CONNECT to %s (%d %s)", via, e.Host, e.Status, e.Reason)
	case KindProxyBadAnswer:
		return fmt.Sprintf("%s did not answer CONNECT with HTTP: %v", via, e.Err)
	case KindProxyTimeout:
		return fmt.Sprintf("%s did not answer CONNECT in time", via)
	case KindTLSExpired:
		return fmt.Sprintf("TLS: the certificate for %s expired %s (%s ago)", e.Host, e.NotAfter.UTC().Format(time.RFC3339), roundAgo(e.Now.Sub(e.NotAfter)))
	case KindTLSNotYetValid:
		return fmt.Sprintf("TLS: the certificate for %s is not valid until %s (by this machine's clock)", e.Host, e.NotBefore.UTC().Format(time.RFC3339))
	case KindTLSWrongName:
		return fmt.Sprintf("TLS: the certificate is not for %s (it names %s)", e.Host, nameList(e.Names))
	case KindTLSIntercepted:
		return fmt.Sprintf("TLS interception: the certificate for %s was issued by %q, not a public CA, and this machine does not trust it", e.Host, e.Issuer)
	case KindTLSUntrusted:
		return fmt.Sprintf("TLS: the certificate for %s is signed by an unknown authority (%q)", e.Host, e.Issuer)
	case KindTLSPlainHTTP:
		return fmt.Sprintf("TLS: %s answered in plain HTTP, not TLS: the port serves http://, not https:// or wss://", e.Host)
	case KindTLSReset:
		if e.Proxy != "" {
			return fmt.Sprintf("TLS: the connection to %s was cut during the handshake, inside the tunnel %s opened: %v", e.Host, via, e.Err)
		}
		return fmt.Sprintf("TLS: the connection to %s was cut during the handshake: %v", e.Host, e.Err)
	case KindTLSHandshake:
		return fmt.Sprintf("TLS handshake with %s failed: %v", e.Host, e.Err)
	case KindTLSTimeout:
		return fmt.Sprintf("TLS: no handshake with %s in time", e.Host)
	case KindCanceled:
		return fmt.Sprintf("%s: interrupted", e.Phase)
	}
	return fmt.Sprintf("%s: %v", e.Phase, e.Err)
}

// Hint says what to change, or what to ask the network's administrators
// for. It never names a command-line flag.
func (e *Error) Hint() string {
	switch e.Kind {
	case KindDNS:
		return "check the host name and this machine's DNS resolver; on a network that only allows a proxy, set the proxy"
	case KindTCP:
		return "a firewall may block the port, or the host is down; on a network that only allows a proxy, set the proxy (ask IT for its address)"
	case KindProxyUnreachable:
		return "check the proxy's host and port (ask IT for the proxy address), or go direct if this network allows it"
	case KindProxyAuth:
		if e.Credentials {
			return "the proxy rejected the user name or password in the proxy URL: ask IT for valid proxy credentials"
		}
		return "put the proxy credentials in the proxy URL (http://user:password@host:port); ask IT for them"
	case KindProxyAuthUnsupported:
		return "ask IT for a proxy (or port) that accepts Basic authentication, or an authentication exemption for *.twilio.com; or run a local relay that does " + schemeList(e.Schemes) + " for you (such as cntlm or px) and use it as the proxy"
	case KindProxyForbidden:
		return "ask IT to allow CONNECT to *.twilio.com on port 443 (many proxies allow CONNECT only to 443; Twilio needs nothing else)"
	case KindProxyUpstream:
		return "the proxy itself could not connect onward: ask IT whether it can reach *.twilio.com on 443, or try again later"
	case KindProxyRefused:
		return "ask IT to allow CONNECT to *.twilio.com:443 through the proxy"
	case KindProxyBadAnswer:
		return "the address may not be an HTTP proxy (an https:// proxy spoken to as http://, or a SOCKS proxy?): ask IT for the HTTP proxy's URL"
	case KindProxyTimeout:
		return "the proxy accepted the connection but did not answer: it may be overloaded, or wait for something (ask IT)"
	case KindTLSExpired:
		return "if the real server's certificate expired, the service is misconfigured; if something in between re-signs certificates, it serves an expired one: ask IT; check this machine's clock"
	case KindTLSNotYetValid:
		return "check this machine's clock and time zone"
	case KindTLSWrongName:
		return "something answers for this host with another host's certificate: a captive portal, a misrouted address, or a TLS-inspecting box; check the address and ask IT"
	case KindTLSIntercepted:
		return interceptionHint
	case KindTLSUntrusted:
		return "the server's certificate is not signed by a CA this machine trusts: if it is a company CA, trust its certificate (PEM) here; otherwise ask IT"
	case KindTLSPlainHTTP:
		return "the server speaks plain HTTP on this port: use ws:// for it, or the port that serves TLS"
	case KindTLSReset:
		return "a firewall or inspecting proxy cut the TLS handshake: ask IT to allow TLS to *.twilio.com on 443"
	case KindTLSHandshake:
		return "the server and this client found no common TLS ground, or something in between interferes: ask IT"
	case KindTLSTimeout:
		return "the TLS handshake got no answer: something in between may hold it; ask IT"
	}
	return ""
}

// interceptionHint says what TLS inspection breaks for Twilio's SDKs and
// what to ask for.
const interceptionHint = "a TLS-inspecting proxy or firewall re-signs the server's certificate: ask IT to exempt *.twilio.com from TLS inspection; " +
	"otherwise every client must trust the inspection CA: Node needs NODE_EXTRA_CA_CERTS=<ca.pem>, browsers and desktops the OS store, " +
	"and Twilio's mobile SDKs pin certificates, so they fail behind inspection unless told to trust the platform store"

// InterceptionHint is the hint for a chain re-signed by a non-public
// issuer, also when this machine trusts it and the dial succeeds.
func InterceptionHint() string { return interceptionHint }

func schemeList(s []string) string {
	if len(s) == 0 {
		return "no scheme named"
	}
	return strings.Join(s, ", ")
}

func nameList(s []string) string {
	if len(s) == 0 {
		return "no DNS name"
	}
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + fmt.Sprintf(" and %d more", len(s)-5)
	}
	return strings.Join(s, ", ")
}

func roundAgo(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
