package cli

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
)

// netFlags are the network flags of every command that opens a connection
// (connect, check, netcheck, exporter): one set, so each takes them the
// same way. They become a netpath.Config.
type netFlags struct {
	proxy     string
	noProxy   bool
	caFile    string
	resolve   []string
	connectTo []string
	ipv4      bool
	ipv6      bool
}

func (n *netFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&n.proxy, "proxy", "", "use this HTTP proxy for every connection, loopback included (`URL`: http:// or https://, credentials as user:password@; never printed); overrides HTTPS_PROXY/HTTP_PROXY and NO_PROXY")
	fs.BoolVar(&n.noProxy, "no-proxy", false, "ignore HTTPS_PROXY/HTTP_PROXY (otherwise honoured with NO_PROXY, as Go's net/http reads them)")
	fs.StringVar(&n.caFile, "ca-file", "", "also trust the PEM certificates in `PATH` (a company CA)")
	listVar(fs, &n.resolve, "resolve", "as curl: use these addresses for HOST:PORT, keeping the name for SNI, Host and certificate checks (`HOST:PORT:ADDR[,ADDR...]`, repeatable)")
	listVar(fs, &n.connectTo, "connect-to", "as curl: dial HOST2:PORT2 instead of HOST1:PORT1, keeping the name (`HOST1:PORT1:HOST2:PORT2`, repeatable; through a proxy, the CONNECT target)")
	fs.BoolVarP(&n.ipv4, "ipv4", "4", false, "IPv4 addresses only")
	fs.BoolVarP(&n.ipv6, "ipv6", "6", false, "IPv6 addresses only")
	_ = cmd.MarkFlagFilename("ca-file", "pem", "crt")
}

// config turns the flags into a dialer configuration. Every error is a
// usage error (exit 2); none repeats a proxy password.
func (n *netFlags) config(f *Factory, logger *slog.Logger) (netpath.Config, error) {
	cfg := netpath.Config{NoProxyEnv: n.noProxy, Getenv: f.Getenv, Logger: logger}
	// Checked here, not with cobra's flag groups, whose errors bypass the
	// flag error function and would exit 3 instead of 2.
	switch {
	case n.ipv4 && n.ipv6:
		return cfg, conflictError("ipv4", "ipv6", "give one family, or neither for both")
	case n.proxy != "" && n.noProxy:
		return cfg, conflictError("proxy", "no-proxy", "--proxy already ignores the environment")
	}
	if err := n.checkSensitive(); err != nil {
		return cfg, err
	}
	if n.proxy != "" {
		u, err := netpath.ParseProxyURL(n.proxy)
		if err != nil {
			return cfg, asUsage(netError("--proxy", err))
		}
		cfg.Proxy, cfg.ProxySource = u, "flag" // as reports name it (docs/json-reports.md)
	}
	if n.caFile != "" {
		certs, err := netpath.LoadCAFile(n.caFile)
		if err != nil {
			return cfg, asUsage(netError("--ca-file", err))
		}
		cfg.ExtraRoots = certs
	}
	for _, s := range n.resolve {
		r, err := netpath.ParseResolve(s)
		if err != nil {
			return cfg, asUsage(netError("--resolve", err))
		}
		cfg.Resolve = append(cfg.Resolve, r)
	}
	for _, s := range n.connectTo {
		c, err := netpath.ParseConnectTo(s)
		if err != nil {
			return cfg, asUsage(netError("--connect-to", err))
		}
		cfg.ConnectTo = append(cfg.ConnectTo, c)
	}
	switch {
	case n.ipv4:
		cfg.Family = netpath.FamilyIPv4
	case n.ipv6:
		cfg.Family = netpath.FamilyIPv6
	}
	return cfg, nil
}

// checkSensitive refuses, before anything is parsed or dialled, a network
// flag whose value looks like a token or a secret pasted in the wrong place,
// and a proxy URL with a query (no proxy has one, and it could carry a
// token): netpath's own errors would quote them.
func (n *netFlags) checkSensitive() error {
	if n.proxy != "" {
		if kind := debuglog.Sensitive(n.proxy); kind != "" && !strings.Contains(n.proxy, "://") {
			return usageErrorf("--proxy takes a proxy URL (http://HOST:PORT); %s", hiddenValue(kind))
		}
		if u, err := url.Parse(n.proxy); err == nil && (u.RawQuery != "" || u.ForceQuery || u.Fragment != "") {
			return usageErrorf("--proxy %s: a proxy URL has no query or fragment", safeURL(n.proxy))
		}
	}
	values := []struct{ flag, v string }{{"--ca-file", n.caFile}}
	for _, v := range n.resolve {
		values = append(values, struct{ flag, v string }{"--resolve", v})
	}
	for _, v := range n.connectTo {
		values = append(values, struct{ flag, v string }{"--connect-to", v})
	}
	for _, fv := range values {
		if kind := debuglog.Sensitive(fv.v); kind != "" {
			return usageErrorf("%s: %s", fv.flag, hiddenValue(kind))
		}
	}
	return nil
}

// netError words a netpath configuration error under the flag that gave it.
func netError(flag string, err error) error {
	msg := err.Error()
	if errors.Is(err, netpath.ErrConfig) {
		msg = strings.TrimPrefix(msg, netpath.ErrConfig.Error()+": ")
	}
	return errors.New(flag + ": " + msg)
}

// probeNetwork gives cfg the network path n describes, then lets a test's
// tune adjust cfg: what connect and check both do before probe.Run.
func probeNetwork(cfg *probe.Config, n netpath.Config, tune func(*probe.Config)) error {
	network, err := netpath.New(n)
	if err != nil {
		return asUsage(err)
	}
	cfg.Network = network
	if tune != nil {
		tune(cfg)
	}
	return nil
}
