package exporter

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Target is what /probe was asked to probe: a Twilio region, or a Twilsock URL.
type Target struct {
	// Raw is the target parameter as given; it is the instance label
	// Prometheus puts on the series.
	Raw string
	// Region is the Twilio region: the target itself (us1), or the one in a
	// Twilio Twilsock URL's host (tsock.ie1.twilio.com). Empty otherwise.
	Region string
	// URL is the Twilsock endpoint: the target itself, or the region's.
	URL string
}

// maxTargetLen bounds the target parameter; a URL longer than this is a mistake.
const maxTargetLen = 2048

var ()

// RegionURL is Twilio's Twilsock endpoint for a region.
func RegionURL(region string) string {
	return "wss://tsock." + region + ".twilio.com/v3/wsconnect"
}

// ParseTarget reads a target parameter: a region (us1, ie1) or a ws:// or
// wss:// URL. Its errors are one line saying what a target may be.
func ParseTarget(raw string) (Target, error) {
	switch {
	case raw == "":
		return Target{}, errors.New("missing: want a Twilio region such as us1 or ie1, or a ws:// or wss:// URL")
	case len(raw) > maxTargetLen:
		return Target{}, fmt.Errorf("%d bytes long, more than %d", len(raw), maxTargetLen)
	case isRegion(raw):
		return Target{Raw: raw, Region: raw, URL: RegionURL(raw)}, nil
	}
	if shown := hideUserinfo(raw); shown != raw {
		return Target{}, fmt.Errorf("%q: a Twilsock URL carries no user information (credentials go in the token)", shown)
	}
	if !strings.Contains(raw, "://") {
		return Target{}, fmt.Errorf("%q is neither a Twilio region (two letters and a digit, such as us1) nor a ws:// or wss:// URL", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Target{}, fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		return Target{}, fmt.Errorf("%q: Twilsock is a WebSocket, use ws:// or wss://", raw)
	case u.Scheme != "ws" && u.Scheme != "wss":
		return Target{}, fmt.Errorf("%q: want a ws:// or wss:// URL", raw)
	case u.Host == "" || u.Hostname() == "":
		return Target{}, fmt.Errorf("%q has no host", raw)
	case u.User != nil:
		return Target{}, errors.New("a Twilsock URL carries no user information (credentials go in the token)")
	}
	t := Target{Raw: raw, URL: raw}
	t.Region = tsockRegion(strings.ToLower(u.Hostname()))
	return t, nil
}

// hideUserinfo replaces the user information of a URL-looking string with
// ***, so an error message never repeats a password.
func hideUserinfo(raw string) string {
	start := 0
	if i := strings.Index(raw, "//"); i >= 0 {
		start = i + 2
	}
	rest := raw[start:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return raw
	}
	return raw[:start] + "***" + rest[at:]
}

// isRegion is a Twilio region's shape: two letters and a digit (us1, ie1).
// Plain code, not a regexp: this package is linked into every convctl
// command, and a package-level regexp is compiled at each start.
func isRegion(s string) bool {
	return len(s) == 3 && 'a' <= s[0] && s[0] <= 'z' && 'a' <= s[1] && s[1] <= 'z' && '0' <= s[2] && s[2] <= '9'
}

// tsockRegion is the region of a tsock.<region>.twilio.com host, or "".
func tsockRegion(host string) string {
	r, ok := strings.CutPrefix(host, "tsock.")
	if !ok {
		return ""
	}
	if r, ok = strings.CutSuffix(r, ".twilio.com"); !ok || !isRegion(r) {
		return ""
	}
	return r
}
