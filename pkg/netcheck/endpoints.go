package netcheck

import (
	"fmt"
	"slices"
)

// Regions are the regions Conversations runs in.
var Regions = []string{"us1", "ie1"}

// Protocols an endpoint is reached with.
const (
	ProtocolWSS   = "wss"
	ProtocolHTTPS = "https"
)

// Endpoint is one host a Conversations client reaches.
type Endpoint struct {
	Host     string
	Port     string
	Protocol string // ProtocolWSS or ProtocolHTTPS
	// Path is what the application step asks for.
	Path string
	// Required: a client cannot work without it.
	Required bool
	// Purpose says what the client uses it for.
	Purpose string
}

// HostPort is Host:Port.
func (e Endpoint) HostPort() string { return e.Host + ":" + e.Port }

// Endpoints lists what a client of region needs, required ones first, as
// Twilio documents them: every one on TCP 443, by name (Twilio publishes no
// static addresses).
func Endpoints(region string) []Endpoint {
	h := func(name string) string { return fmt.Sprintf("%s.%s.twilio.com", name, region) }
	return []Endpoint{
		{Host: h("tsock"), Port: "443", Protocol: ProtocolWSS, Path: "/v3/wsconnect", Required: true,
			Purpose: "Twilsock: every API call and event of the SDK rides on it"},
		{Host: h("mcs"), Port: "443", Protocol: ProtocolHTTPS, Path: "/", Required: true,
			Purpose: "media service (attachments)"},
		{Host: h("media"), Port: "443", Protocol: ProtocolHTTPS, Path: "/", Required: true,
			Purpose: "media download"},
		{Host: h("cds"), Port: "443", Protocol: ProtocolHTTPS, Path: "/", Required: false,
			Purpose: "configuration (the JS SDK reaches it through Twilsock)"},
		{Host: h("aim"), Port: "443", Protocol: ProtocolHTTPS, Path: "/", Required: false,
			Purpose: "client API (the JS SDK reaches it through Twilsock)"},
	}
}

// KnownRegion reports whether Conversations runs in region.
func KnownRegion(region string) bool { return slices.Contains(Regions, region) }
