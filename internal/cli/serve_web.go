package cli

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
)

// serveWebFlags are serve's flags for its web side: the token endpoint and
// the control token (docs/control-api.md, docs/local-dev.md).
type serveWebFlags struct {
	tokenEndpoint   bool
	accountSID      string
	apiKeySID       string
	chatServiceSID  string
	ttl             time.Duration
	controlTokenEnv string
	getenv          func(string) string
}

// Well-formed stand-ins for the SIDs of tokens the endpoint mints: serve
// checks their shape only, so a web app in development needs no account.
const (
	devAccountSID = "AC00000000000000000000000000000000"
	devAPIKeySID  = "SK00000000000000000000000000000000"
	devServiceSID = "IS00000000000000000000000000000000"
)

func (w *serveWebFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&w.tokenEndpoint, "token-endpoint", false, "answer GET /token?identity=NAME with a token signed with this server's secret (for web apps in development)")
	fl.StringVar(&w.accountSID, "account-sid", devAccountSID, "with --token-endpoint: the tokens' Account `SID` (AC…)")
	fl.StringVar(&w.apiKeySID, "api-key", devAPIKeySID, "with --token-endpoint: the tokens' API Key `SID` (SK…)")
	fl.StringVar(&w.chatServiceSID, "chat-service-sid", devServiceSID, "with --token-endpoint: the tokens' Conversations Service `SID` (IS…)")
	fl.DurationVar(&w.ttl, "ttl", inspect.DefaultTTL, "with --token-endpoint: how long each token lives (`DURATION`, at most 24h)")
	fl.StringVar(&w.controlTokenEnv, "control-token-env", "", "require the control token in environment variable `NAME` for the dashboard, control API and /token\n(off loopback a random one is made when this is not given)")
}

func (w *serveWebFlags) validate(cmd *cobra.Command, product inspect.Product) error {
	fl := cmd.Flags()
	if !w.tokenEndpoint {
		for _, name := range []string{"account-sid", "api-key", "chat-service-sid", "ttl"} {
			if fl.Changed(name) {
				return usageErrorf("--%s shapes the tokens of the token endpoint: add --token-endpoint", name)
			}
		}
		return nil
	}
	if product == inspect.ProductVoice || product == inspect.ProductVideo {
		return usageErrorf("--token-endpoint mints Conversations tokens (a chat grant), which --product %s does not accept", product)
	}
	// Mint one now, so bad SIDs or a bad --ttl are a usage error at start,
	// not a 400 for every request.
	_, err := inspect.Mint(inspect.MintOptions{AccountSID: w.accountSID, APIKeySID: w.apiKeySID, Secret: []byte("x"),
		Identity: "check", ChatServiceSID: w.chatServiceSID, TTL: w.ttl})
	if err != nil {
		return usageErrorf("--token-endpoint: %v", err)
	}
	return nil
}

// config turns the flags into the emulator's web settings. Off loopback the
// dashboard, control API and token endpoint need a control token.
func (w *serveWebFlags) config(addr string) (emulator.WebConfig, error) {
	var c emulator.WebConfig
	if w.tokenEndpoint {
		c.TokenEndpoint = &emulator.TokenEndpoint{AccountSID: w.accountSID, APIKeySID: w.apiKeySID,
			ChatServiceSID: w.chatServiceSID, TTL: w.ttl}
	}
	if w.controlTokenEnv != "" {
		tok := ""
		if w.getenv != nil {
			tok = strings.TrimSpace(w.getenv(w.controlTokenEnv))
		}
		if tok == "" {
			return c, usageErrorf("--control-token-env %s: the variable is empty or not set", w.controlTokenEnv)
		}
		if strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r == ';' || r == ',' || r == '"' || r == '\\' || r > '~' }) {
			return c, usageErrorf("--control-token-env %s: the token must be printable ASCII without spaces, quotes, commas, semicolons or backslashes (it travels in a cookie)", w.controlTokenEnv)
		}
		c.ControlToken = tok
		return c, nil
	}
	if !isLoopbackAddr(addr) {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		c.ControlToken = hex.EncodeToString(b)
	}
	return c, nil
}

// isLoopbackAddr reports whether HOST:PORT listens on loopback only: a
// loopback IP or "localhost". An empty host, 0.0.0.0, :: or any other name
// may be reachable from elsewhere.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpBase is http://HOST:PORT for a listener, with a host a browser on this
// machine reaches: loopback for a server on every interface.
func httpBase(requested string, addr net.Addr) string {
	return "http://" + strings.TrimSuffix(strings.TrimPrefix(wsURL(requested, addr), "ws://"), emulator.PathWS)
}
