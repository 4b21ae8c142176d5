package cli

import (
	"net/url"
	"time"

	"github.com/spf13/cobra"
)

const (
	defaultRegion  = "us1"
	defaultTimeout = 30 * time.Second
	defaultPing    = 5 * time.Second
)

// connFlags are the flags of every command that opens a Twilsock
// connection (connect, check): where to, for how long.
type connFlags struct {
	url, region string
	timeout     time.Duration
	hold        time.Duration
	updateToken bool
}

func (c *connFlags) register(cmd *cobra.Command, timeoutUsage string) {
	fs := cmd.Flags()
	fs.StringVar(&c.url, "url", "", "Twilsock `URL` (ws:// or wss://); default wss://tsock.<region>.twilio.com/v3/wsconnect")
	regionFlag(cmd, &c.region, defaultRegion, "Twilio `REGION` whose Twilsock endpoint to use")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, timeoutUsage+"; with --hold, the default is --hold plus 30s")
	fs.DurationVar(&c.hold, "hold", 0, "stay connected this long after first connecting, then disconnect (also while reconnecting, as an app would); an interrupt (Ctrl-C, SIGTERM) ends the hold early and cleanly")
	fs.BoolVar(&c.updateToken, "update-token", false, "once connected, fetch a fresh token from the same source and send update")
}

// target settles the URL: --url as given, or the region's endpoint.
func (c *connFlags) target(cmd *cobra.Command) (string, error) {
	if err := flagsConflict(cmd, "url", "region", "give one"); err != nil {
		return "", err
	}
	if c.url == "" {
		return regionURL(c.region), nil
	}
	return c.url, checkWSURL(c.url)
}

// runTimeout applies the one rule for --hold and --timeout that connect and
// check share: the timeout bounds the whole run, the hold included, so a
// hold needs a longer timeout. Left out, the timeout is the hold plus the
// default 30s; given, one not longer than the hold is a usage error.
func (c *connFlags) runTimeout(cmd *cobra.Command) (time.Duration, error) {
	switch {
	case c.hold < 0:
		return 0, usageErrorf("--hold cannot be negative, got %v", c.hold)
	case c.timeout <= 0:
		return 0, usageErrorf("--timeout must be positive, got %v", c.timeout)
	case c.hold > 0 && !cmd.Flags().Changed("timeout"):
		return c.hold + defaultTimeout, nil
	case c.hold > 0 && c.hold >= c.timeout:
		return 0, usageErrorf("--hold %v needs a longer --timeout (now %v): the timeout bounds the whole run, the hold included; raise --timeout, or leave it out to get --hold plus %v",
			c.hold, c.timeout, defaultTimeout)
	}
	return c.timeout, nil
}

func checkWSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return usageErrorf("--url %s: not a URL", safeFlagValue(safeURL(raw)))
	}
	switch {
	case u.Scheme == "http" || u.Scheme == "https":
		return usageErrorf("--url %s: Twilsock is a WebSocket; use ws:// or wss://", safeFlagValue(safeURL(raw)))
	case u.Scheme != "ws" && u.Scheme != "wss":
		return usageErrorf("--url %s: want ws:// or wss://", safeFlagValue(safeURL(raw)))
	case u.Host == "":
		return usageErrorf("--url %s has no host", safeFlagValue(safeURL(raw)))
	}
	return nil
}
