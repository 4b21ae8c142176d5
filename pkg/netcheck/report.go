package netcheck

import (
	"time"

	"github.com/convctl/convctl/pkg/netpath"
)

// Report is one round: every endpoint of a region, checked at once.
type Report struct {
	Region    string    `json:"region"`
	OK        bool      `json:"ok"`
	Endpoints []*Result `json:"endpoints"`
	Warnings  []Warning `json:"warnings"`
	// Started is when the round began, in UTC.
	Started time.Time `json:"started"`
	// Duration is the whole round, the slowest endpoint.
	Duration time.Duration `json:"-"`
}

// Result is what checking one endpoint found. Proxy, Addresses and TLS are
// netpath's facts, in the shape a connect report uses.
type Result struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	Required bool   `json:"required"`
	Purpose  string `json:"purpose"`
	OK       bool   `json:"ok"`
	// HTTPStatus is the application's answer (101 for a WebSocket upgrade),
	// nil when none came.
	HTTPStatus *int `json:"http_status"`

	DNS       *DNS              `json:"dns"`
	Proxy     *netpath.Proxy    `json:"proxy"`
	Bypassed  *string           `json:"proxy_bypassed_by"`
	Addresses []netpath.Address `json:"addresses"`
	TLS       *netpath.TLS      `json:"tls"`
	Timing    Timing            `json:"timing_ms"`

	// Phase is the step that failed ("dns", "tcp", "proxy", "tls", "app"),
	// empty when OK.
	Phase string  `json:"failed_phase,omitempty"`
	Kind  string  `json:"kind,omitempty"` // netpath.Kind, or "app_status", "app_protocol", "timeout"
	Error *string `json:"error"`
	Hint  *string `json:"hint"`

	// Duration is the whole check of this endpoint.
	Duration time.Duration `json:"-"`
	// CertNotAfter is the leaf certificate's expiry, zero without one.
	CertNotAfter time.Time `json:"-"`
}

// DNS is the lookup of an endpoint's name, A and AAAA separately. It is nil
// when the name was not resolved here (a proxy resolves it, an IP address,
// or a resolve rule).
type DNS struct {
	A      []string `json:"a"`
	AAAA   []string `json:"aaaa"`
	AMS    *float64 `json:"a_ms"`
	AAAAMS *float64 `json:"aaaa_ms"`
	AErr   *string  `json:"a_error"`
	AAAAEr *string  `json:"aaaa_error"`
}

// Timing is each phase's duration in milliseconds; nil when the phase did
// not happen.
type Timing struct {
	DNS   *float64 `json:"dns"`
	TCP   *float64 `json:"tcp"`
	TLS   *float64 `json:"tls"`
	Proxy *float64 `json:"proxy"`
	App   *float64 `json:"app"`
}

// Phases are Timing's keys, in the order a connection takes them.
var Phases = []string{"dns", "proxy", "tcp", "tls", "app"}

// Get returns the phase's duration by its key.
func (t Timing) Get(phase string) *float64 {
	switch phase {
	case "dns":
		return t.DNS
	case "tcp":
		return t.TCP
	case "tls":
		return t.TLS
	case "proxy":
		return t.Proxy
	case "app":
		return t.App
	}
	return nil
}

// Warning is something that works today but will bite.
type Warning struct {
	Code    string `json:"code"` // ipv6_broken, tls_intercepted, cert_expires_soon, proxy_in_use, proxy_bypassed, unknown_region
	Host    string `json:"host,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// Warning codes.
const (
	WarnIPv6Broken      = "ipv6_broken"
	WarnTLSIntercepted  = "tls_intercepted"
	WarnCertExpiresSoon = "cert_expires_soon"
	WarnProxyInUse      = "proxy_in_use"
	WarnProxyBypassed   = "proxy_bypassed"
	WarnUnknownRegion   = "unknown_region"
)

// CertWarnWithin is how close to its expiry a certificate gets a warning.
const CertWarnWithin = 14 * 24 * time.Hour

// Failed returns the required endpoints that failed, then the optional ones.
func (r *Report) Failed() (required, optional []*Result) {
	for _, e := range r.Endpoints {
		switch {
		case e.OK:
		case e.Required:
			required = append(required, e)
		default:
			optional = append(optional, e)
		}
	}
	return required, optional
}
