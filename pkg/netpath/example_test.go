package netpath_test

import (
	"fmt"
	"net/url"

	"github.com/convctl/convctl/pkg/netpath"
)

// A proxy URL is never shown with its password.
func ExampleRedact() {
	u, _ := url.Parse("http://alice:s3cret@proxy.corp:3128")
	fmt.Println(netpath.Redact(u))
	// Output: http://alice:***@proxy.corp:3128
}

// Route says how a connection would go before anything is sent: here a
// connect-to rule sends the real host name to a local server, through the
// environment's proxy, while NO_PROXY keeps another domain direct.
func ExampleDialer_Route() {
	ct, _ := netpath.ParseConnectTo("tsock.us1.twilio.com:443:127.0.0.1:8443")
	env := map[string]string{"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".internal.example"}
	d, _ := netpath.New(netpath.Config{ConnectTo: []netpath.ConnectTo{ct}, Getenv: func(k string) string { return env[k] }})

	r := d.Route(netpath.Target{Host: "tsock.us1.twilio.com", Port: "443", TLS: true})
	fmt.Println(netpath.Redact(r.Proxy), r.Source, r.Host+":"+r.Port)
	r = d.Route(netpath.Target{Host: "api.internal.example", Port: "443", TLS: true})
	fmt.Println(r.Proxy == nil, r.BypassedBy)
	// Output:
	// http://proxy.corp:3128 HTTPS_PROXY 127.0.0.1:8443
	// true NO_PROXY entry .internal.example
}
