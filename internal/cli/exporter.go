package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/tokensource"
)

// ExporterOptions is everything `convctl exporter` was told.
type ExporterOptions struct {
	IO      *IOStreams
	Listen  string
	Source  tokensource.Source
	Secret  []byte
	Hold    time.Duration
	Ping    time.Duration
	History int
	Debug   bool
	LogJSON bool
	Version string
	// Net is the network flags' configuration; its Logger is set per probe.
	Net netpath.Config
	// Handler builds the HTTP handler from these options (Program.Exporter).
	Handler ExporterHandlerFunc
}

// ExporterHandlerFunc builds the exporter's HTTP handler (/probe, /metrics
// and /) from the parsed options, the one dialer every probe shares, and the
// log. cmd/convctl-exporter gives one built on pkg/exporter; the command
// around it (flags, listening, stopping) is the same in every program.
type ExporterHandlerFunc func(opts *ExporterOptions, network *netpath.Dialer, log *slog.Logger) (http.Handler, error)

const (
	defaultExporterListen = "127.0.0.1:9469"
	defaultExporterHold   = time.Second
	defaultExporterPing   = 250 * time.Millisecond
	// defaultExporterHistory is pkg/exporter's DefaultHistory, which this
	// package cannot name without linking the exporter (companion.go).
	defaultExporterHistory = 100
	// exporterStopTimeout bounds a stop: probes in flight are cancelled at
	// once and answer within about 0.3 s; idle scrape connections close.
	exporterStopTimeout = 1500 * time.Millisecond
)

// NewCmdExporter builds `convctl exporter`. runF runs the parsed options,
// so tests can check what the flags turn into without listening. Nil:
// runExporter where the program links the exporter (f.Exporter), otherwise
// hand the command line to convctl-exporter, which does.
func NewCmdExporter(f *Factory, runF func(context.Context, *ExporterOptions) error) *cobra.Command {
	opts := &ExporterOptions{}
	var (
		tf        tokenFlags
		sf        secretFlags
		nf        netFlags
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "exporter",
		Short: "Serve Prometheus probes of Twilio reachability, as blackbox_exporter does",
		Long: `Serve Twilsock probes to Prometheus, in the style of blackbox_exporter, to watch
from every site whether Conversations clients can connect, how long it takes,
and when tokens or certificates are about to bite.

Prometheus scrapes /probe?target=us1&module=connect (target: a Twilio region
such as us1 or ie1, or a ws:// or wss:// URL). Each scrape runs one probe
within the scrape timeout (the X-Prometheus-Scrape-Timeout-Seconds header
less 0.5s; 10s without it). module=connect (the default) fetches a fresh
token from the token source, opens one connection as the SDK would, holds it
for --hold with pings every --ping, disconnects, and answers the outcome,
each phase's duration, the HTTP status and Twilio error of a failure, the
seconds left on the token and on the server's certificate, and the ping round
trip. It does not reconnect: the next scrape is the next try.
module=netcheck checks every endpoint of the target's region as 'convctl
netcheck' does (no token needed) and answers convctl_endpoint_up{host,protocol}
and each endpoint's phases, certificate expiry and TLS interception. Add
&debug=true to read the probe's log instead (token signatures redacted).
docs/prometheus.md has the scrape configuration, the relabelling and the
alert rules.

The network flags (--proxy, --ca-file, --resolve, --connect-to, -4/-6) apply
to both modules, as they do to connect and netcheck.

/metrics has the exporter's own metrics (Go, process, probes by module and
outcome); / lists the recent probes with links to their logs.

The token source must give a fresh token on each probe: use --token-url (an
endpoint of your app that mints tokens) or --token-cmd; a file or variable is
read anew each time. Without one, module=connect answers 400 and
module=netcheck, which needs no token, works. The URL the exporter listens
on is the first line on stdout; a line per failed probe goes to stderr
(every probe with --debug).
SIGINT or SIGTERM stops it within 2s, cancelling probes in flight.

The exporter itself is the convctl-exporter program: convctl with
Prometheus' client library linked in, which convctl leaves out so that its
other commands start fast. convctl exporter runs it in its own place (same
process ID, same arguments); install it next to convctl (make build builds
both) or on PATH.`,
		Example: `  # Tokens from your app's token endpoint; Prometheus scrapes this machine
  convctl exporter --listen 0.0.0.0:9469 --token-url https://example.com/token?identity=probe

  # Try a probe by hand, and read its log
  curl 'http://127.0.0.1:9469/probe?target=us1'
  curl 'http://127.0.0.1:9469/probe?target=us1&debug=true'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			opts.Version = buildVersion()
			if _, _, err := net.SplitHostPort(opts.Listen); err != nil {
				return usageErrorf("--listen %q: want HOST:PORT, such as 127.0.0.1:9469 or :9469", opts.Listen)
			}
			if opts.Hold < 0 || opts.Ping < 0 {
				return usageErrorf("--hold and --ping cannot be negative")
			}
			if opts.History < 1 {
				return usageErrorf("--history %d: want 1 or more", opts.History)
			}
			opts.LogJSON = logFormat == "json"
			if runF == nil && f.Exporter == nil {
				// Before anything is read (a secret on stdin is the
				// companion's to read): it parses this command line again.
				return handOff(cmd.Context(), f, exporterProgram)
			}
			opts.Handler = f.Exporter
			var err error
			// A token piped in cannot be renewed: each probe needs a source
			// it can ask again. Without one, module=connect is off and
			// module=netcheck still works.
			if tf.given() || anyChanged(cmd, "token-file", "token-env", "token-cmd", "token-url") {
				if opts.Source, err = tf.source(f, ""); err != nil {
					return err
				}
			}
			if opts.Net, err = nf.config(f, nil); err != nil {
				return err
			}
			if opts.Secret, err = sf.read(f); err != nil {
				return err
			}
			if runF == nil {
				return runExporter(cmd.Context(), opts)
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	tf.register(fs)
	sf.register(fs, "to explain a rejected token in the probe's log (its signature is checked)")
	fs.StringVar(&opts.Listen, "listen", defaultExporterListen, "listen on `HOST:PORT` (port 0: any free port)")
	fs.DurationVar(&opts.Hold, "hold", defaultExporterHold, "stay connected this long in each probe before disconnecting")
	fs.DurationVar(&opts.Ping, "ping", defaultExporterPing, "ping interval while holding, for the round-trip metric (0: none)")
	fs.IntVar(&opts.History, "history", defaultExporterHistory, "how many recent probes / lists and keeps the logs of")
	fs.BoolVar(&opts.Debug, "debug", false, "log every probe to stderr, not only failed ones")
	enumFlag(cmd, &logFormat, "log-format", "", "text", []string{"text", "json"}, "stderr log format")
	nf.register(cmd)
	return cmd
}

// runExporter serves until ctx ends, then stops within about 2 s.
func runExporter(ctx context.Context, opts *ExporterOptions) error {
	logger := serverLogger(opts.IO, opts.Debug, opts.LogJSON)
	log := debuglog.Component(logger, "exporter")

	// One dialer for every probe: it is safe for concurrent use, and root
	// pools load once.
	network, err := netpath.New(opts.Net)
	if err != nil {
		return asUsage(err)
	}
	h, err := opts.Handler(opts, network, log)
	if err != nil {
		return cannotFinish(err)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return cannotFinish(fmt.Errorf("listening on %s: %w", opts.Listen, err))
	}
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		// Probes run on the request's context: stopping cancels them.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	url := "http://" + reachableAddr(opts.Listen, ln.Addr()) + "/"
	if opts.Source == nil {
		log.Warn("no token source: module=connect answers 400 until the exporter is started with --token-url or --token-cmd; module=netcheck works")
		log.Info("serving probes", "url", url, "probe", url+"probe?target=us1&module=netcheck")
	} else {
		log.Info("serving probes", "url", url, "probe", url+"probe?target=us1&module=connect", "token_source", opts.Source.Name())
	}
	// The URL last, as serve does: whoever reads it finds the log above written.
	fmt.Fprintln(opts.IO.Out, url)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), exporterStopTimeout)
	defer cancel()
	if err := hs.Shutdown(stopCtx); err != nil {
		_ = hs.Close()
		log.Warn("closed connections that were still busy", "err", err)
	}
	if serveErr == nil {
		serveErr = <-served
	}
	log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return cannotFinish(fmt.Errorf("serving: %w", serveErr))
	}
	return nil
}

func anyChanged(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}
