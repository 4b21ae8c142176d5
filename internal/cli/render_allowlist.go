package cli

import (
	"fmt"
	"io"
	"slices"

	"github.com/convctl/convctl/pkg/netcheck"
)

// renderAllowlist writes what a firewall must allow for region, plain
// text to paste into a ticket: a host:port protocol line per endpoint,
// required ones first, then what else the network must let through.
func renderAllowlist(w io.Writer, region string, eps []netcheck.Endpoint) {
	fmt.Fprintf(w, "Twilio Conversations clients, region %s: allow outbound TCP 443 (TLS) to\n\n", region)
	sorted := slices.Clone(eps)
	slices.SortStableFunc(sorted, func(a, b netcheck.Endpoint) int {
		switch {
		case a.Required == b.Required:
			return 0
		case a.Required:
			return -1
		}
		return 1
	})
	width := 0
	for _, e := range sorted {
		width = max(width, len(e.HostPort()+" "+e.Protocol))
	}
	for _, e := range sorted {
		need := "required"
		if !e.Required {
			need = "informative"
		}
		fmt.Fprintf(w, "%-*s  # %s: %s\n", width, e.HostPort()+" "+e.Protocol, need, e.Purpose)
	}
	var tsock string
	for _, e := range eps {
		if e.Protocol == netcheck.ProtocolWSS {
			tsock = e.Host
		}
	}
	fmt.Fprint(w, "\nNotes\n")
	fmt.Fprint(w, "- Allow these by host name, not by IP address: Twilio publishes no static IP\n  addresses, and the addresses behind these names change.\n")
	fmt.Fprint(w, "- Exempt *.twilio.com from TLS inspection: a re-signed certificate breaks\n  Twilio's mobile SDKs, which pin certificates, and Node clients that do not\n  trust the inspection CA.\n")
	if tsock != "" {
		fmt.Fprintf(w, "- WebSockets must pass to %s: the HTTP Upgrade\n  (Upgrade: websocket) of /v3/wsconnect, then a connection held open for hours.\n", tsock)
	}
	fmt.Fprint(w, "- Through a proxy: CONNECT to these names on port 443 must be allowed.\n")
	fmt.Fprint(w, "- The informative ones are reached inside the WebSocket by the JavaScript SDK;\n  other SDKs may reach them directly.\n")
	if !netcheck.KnownRegion(region) {
		fmt.Fprintf(w, "- Conversations runs in %s; %s is not one of them.\n", oneOf(netcheck.Regions), region)
	}
}
