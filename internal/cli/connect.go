package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/tokensource"
)

// ConnectOptions is everything `convctl connect` was told.
type ConnectOptions struct {
	IO      *IOStreams
	Source  tokensource.Source
	Secret  []byte // nil: a rejected token is explained without checking its signature
	URL     string
	Debug   bool
	Timeout time.Duration
	Hold    time.Duration
	Ping    time.Duration // 0: no pings, like the SDK

	UpdateToken bool
	Renew       bool
	NoReconnect bool
	Expect      probe.Outcome  // connected or denied
	Net         netpath.Config // the network flags
	Output      string         // text or json
	Version     string
	Now         func() time.Time

	// tick is the countdown's refresh interval (default 1s).
	tick time.Duration
	// tune lets tests compress the SDK's timings (backoff, disconnect wait).
	tune func(*probe.Config)
}

// NewCmdConnect builds `convctl connect`. runF runs the parsed options
// (nil: runConnect), so tests can check what the flags turn into without
// connecting anywhere.
func NewCmdConnect(f *Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	if runF == nil {
		runF = runConnect
	}
	opts := &ConnectOptions{}
	var (
		tf     tokenFlags
		sf     secretFlags
		cf     connFlags
		nf     netFlags
		expect string
	)
	cmd := &cobra.Command{
		Use:   "connect [TOKEN|-]",
		Short: "Open a real Twilsock connection and say why it failed",
		Long: `Connect to Twilsock, the WebSocket service under every Twilio Conversations
SDK, exactly as the SDK would: the same init, acks, backoff and public states.
It walks the connection through every state, times each phase (DNS, TCP,
TLS, WebSocket upgrade, init) and ends with a verdict and its cause: a
rejected token is explained (give the API Key secret with --secret-env or
--secret-file to have its signature checked), an expiry during --hold says
whether tokenAboutToExpire came in time, a timeout names the phase it hit.

The token comes from the TOKEN argument, - (stdin), --token-file, --token-env,
--token-cmd or --token-url; with none of these and something piped in, from stdin.
Prefer --token-env, --token-file or -: an argument is visible to every user of
the machine (ps, /proc) and stays in the shell's history.

--timeout bounds the whole run, the hold included: with --hold and no
--timeout, the run may take --hold plus 30s; a --timeout not longer than
--hold is refused. An interrupt (Ctrl-C, SIGTERM) during the hold ends the
hold early: the client disconnects cleanly and the run is judged as usual.

The network path is shown and named: HTTPS_PROXY/HTTP_PROXY and NO_PROXY
are honoured as Go's net/http reads them (--proxy overrides them, --no-proxy
ignores them); the proxy's answer to CONNECT, every address tried (-4/-6 keep
one family), the TLS chain as presented, verified against this machine's
roots (plus --ca-file) and against the public Web PKI, so a TLS-inspecting
proxy is named. --resolve and --connect-to point a real host name elsewhere,
as curl's do. A proxy's password is always shown as ***.

The report goes to stdout (-o text or json); on a terminal, live progress
goes to stderr. --debug logs every frame both ways (token signatures
redacted) and every inner state change to stderr; of a flood, the first 10
frames of a kind each second, then one line counting the rest.

Exit status: 0 when the run ends as --expect says (default connected);
1 when it is denied or disconnected instead (or connects when denied was
expected); 3 on a timeout, an unreachable server or a protocol error;
2 on bad flags, or a token that cannot be read or is too large to send
(over 64 KiB with the init that carries it).`,
		Example: `  # Against the local server (convctl serve prints its URL)
  convctl connect --url ws://127.0.0.1:4567/v3/wsconnect --token-env TOKEN

  # Why does my app's token fail in ie1? Check the signature too
  convctl connect --region ie1 --token-url https://example.com/token --secret-env TWILIO_API_SECRET

  # Stay connected across the token's expiry, renewing it as an app should
  convctl connect --token-cmd './mint-token' --hold 10m --renew --debug

  # Behind a company proxy that inspects TLS: trust its CA, see the chain
  convctl connect --token-env TOKEN --proxy http://user:pass@proxy.corp:3128 --ca-file corp-ca.pem

  # CI: a bad token must be denied
  convctl connect --token-file bad.jwt --expect denied -o json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			opts.Now = f.Now
			opts.Version = buildVersion()
			opts.Expect = probe.Outcome(expect)
			var err error
			if opts.URL, err = cf.target(cmd); err != nil {
				return err
			}
			if opts.Timeout, err = cf.runTimeout(cmd); err != nil {
				return err
			}
			if opts.Net, err = nf.config(f, nil); err != nil {
				return err
			}
			opts.Hold, opts.UpdateToken = cf.hold, cf.updateToken
			if opts.Ping < 0 {
				return usageErrorf("--ping cannot be negative, got %v", opts.Ping)
			}
			if opts.Source, err = tf.source(f, firstArg(args)); err != nil {
				return err
			}
			if opts.Secret, err = sf.read(f); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	tf.register(fs)
	sf.register(fs, "to explain a rejected token (its signature is checked)")
	cf.register(cmd, "bound the whole run, reconnects included")
	nf.register(cmd)
	fs.BoolVar(&opts.Debug, "debug", false, "log every frame and inner state change to stderr (token signatures redacted; a flood's frames counted past 10 a second)")
	fs.DurationVar(&opts.Ping, "ping", defaultPing, "ping interval while connected, to measure round trips and catch a dead peer (0: none, like the SDK)")
	fs.BoolVar(&opts.Renew, "renew", false, "on tokenAboutToExpire, fetch a fresh token and send update, as an app should")
	fs.BoolVar(&opts.NoReconnect, "no-reconnect", false, "stop at the first failure instead of retrying with backoff")
	enumFlag(cmd, &expect, "expect", "", string(probe.OutcomeConnected),
		[]string{string(probe.OutcomeConnected), string(probe.OutcomeDenied)}, "the outcome that exits 0")
	outputFlag(cmd, &opts.Output)
	return cmd
}

// firstArg is the optional positional TOKEN, or "".
func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// runConnect runs the probe, renders its report and picks the exit code.
func runConnect(ctx context.Context, opts *ConnectOptions) error {
	io := opts.IO
	var logger *slog.Logger
	if opts.Debug {
		logger = debuglog.New(io.ErrOut, debuglog.Options{Level: slog.LevelDebug, Color: io.ErrColorEnabled(), Start: time.Now()})
	}
	live := newLiveView(io, opts)

	// The probe wraps a failed first fetch in ErrToken; keep the source's
	// own error, which says what to fix.
	var (
		fetches  int
		firstErr error
	)
	cfg := probe.Config{
		URL: opts.URL,
		Token: func(ctx context.Context) (string, error) {
			fetches++
			tok, err := opts.Source.Fetch(ctx)
			if err != nil && fetches == 1 {
				firstErr = err
			}
			return tok, err
		},
		Secret:       opts.Secret,
		Timeout:      opts.Timeout,
		Hold:         opts.Hold,
		UpdateToken:  opts.UpdateToken,
		Renew:        opts.Renew,
		NoReconnect:  opts.NoReconnect,
		PingInterval: opts.Ping,
		Version:      opts.Version,
		Logger:       logger,
		Observer:     live.observe,
		Now:          opts.Now,
	}
	if err := probeNetwork(&cfg, opts.Net, opts.tune); err != nil {
		return err
	}

	live.begin()
	rep, err := probe.Run(ctx, cfg)
	live.end()
	if rep != nil {
		rep.URL = safeURL(rep.URL)
	}
	if err != nil {
		var tooLarge *probe.TokenTooLargeError
		switch {
		case errors.As(err, &tooLarge):
			// Input no server could accept: nothing was dialed (exit 2).
			return asUsage(tokenTooLarge(tooLarge))
		case errors.Is(err, probe.ErrToken) && firstErr != nil:
			if errors.Is(firstErr, tokensource.ErrInput) {
				return asUsage(firstErr)
			}
			return cannotFinish(firstErr)
		case errors.Is(err, probe.ErrToken):
			return asUsage(errors.New("the token source gave an empty token"))
		case errors.Is(err, probe.ErrConfig):
			return asUsage(err)
		}
		return cannotFinish(err)
	}

	if opts.Output == "json" {
		if err := writeJSON(io.Out, rep); err != nil {
			return err
		}
	} else {
		renderConnectText(io.Out, io.ColorScheme(), rep, opts.Expect)
	}
	code := runExitCode(rep, opts.Expect)
	if code == exitOK && opts.UpdateToken && rep.Outcome == probe.OutcomeConnected && !hasEvent(rep, probe.EventTokenUpdated) {
		// --update-token asked for an update to be accepted; it was not.
		fmt.Fprintf(io.ErrOut, "%s --update-token: no update was accepted\n", io.ErrColorScheme().Red("failed:"))
		code = exitFailed
	}
	if code == exitFailed {
		return errFailed // the report says what failed
	}
	return silentExit(code)
}

// runExitCode maps a probe report to the contract's exit codes, for connect
// and for check's connection checks alike: could not finish (timeout,
// unreachable, protocol error) is 3 whatever was expected; the expected
// outcome is 0; any other outcome is 1. An interrupt during the hold ends
// it early and cleanly (outcome connected), so it is judged like any end.
func runExitCode(rep *probe.Report, expect probe.Outcome) int {
	switch {
	case rep.Outcome == probe.OutcomeTimeout || rep.Outcome == probe.OutcomeUnreachable:
		return exitCannotFinish
	case rep.Cause != nil && rep.Cause.Kind == probe.CauseProtocol && rep.Outcome != expect:
		return exitCannotFinish
	case rep.Outcome == expect:
		return exitOK
	}
	return exitFailed
}

// tokenTooLarge words a token too large to send as an input error.
func tokenTooLarge(e *probe.TokenTooLargeError) error {
	return fmt.Errorf("%w; an Access Token is a few hundred bytes to a few KiB: check that the token source gives the token alone", e)
}

func hasEvent(rep *probe.Report, name string) bool {
	for _, e := range rep.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}
