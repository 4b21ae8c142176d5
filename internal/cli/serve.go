package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// ServeOptions is everything `convctl serve` was told.
type ServeOptions struct {
	IO       *IOStreams
	Addr     string
	URLFile  string // write the URL here too, once listening (for scripts that start serve in the background)
	Secret   []byte // nil only with NoVerify
	NoVerify bool
	Debug    bool
	LogJSON  bool
	Server   emulator.Config // faults and timings; Secret and Logger are set by runServe
	TLS      *tls.Config     // serve wss:// (nil: ws://)
	TLSCAOut string          // write TLSCA here once listening
	TLSCA    []byte          // the throwaway CA's certificate (PEM), with --tls

	web serveWebFlags
	// listen opens the listener; nil: TCP on Addr. Tests bind loopback
	// whatever Addr says, to see what serve does off loopback.
	listen func(ctx context.Context, network, addr string) (net.Listener, error)
}

// serveShutdownTimeout bounds a stop: every peer gets a close frame and the
// emulator's half second to answer it; then what remains, hijacked or still
// sending its request headers, is cut, so serve exits within a second
// whatever its clients do.
const (
	serveShutdownTimeout = 900 * time.Millisecond
	serveHTTPDrain       = 500 * time.Millisecond // for requests in flight, before they are cut
)

// NewCmdServe builds `convctl serve`. runF runs the parsed options (nil:
// runServe), so tests can check what the flags turn into without starting
// a server.
func NewCmdServe(f *Factory, runF func(context.Context, *ServeOptions) error) *cobra.Command {
	if runF == nil {
		runF = runServe
	}
	opts := &ServeOptions{IO: f.IO}
	var (
		sf        secretFlags
		tf        serveTLSFlags
		product   string
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a local Twilsock server, with faults, that Twilio's own SDK accepts",
		Long: `Run a local Twilsock server: the WebSocket service under every Conversations
SDK, good enough that Twilio's JavaScript SDK connects to it (point the SDK's
twilsock.uri option at the printed URL), with the faults a client must survive.

It verifies each token with the API Key secret you give it, judging claims as
'convctl token inspect' does, and answers init and update with 200 or with 401
and the Twilio error code. It sends client_update token_about_to_expire when a
token enters its final --about-to-expire window, and close 410 when it expires,
unless an update with a later token came first. Every upstream request (such
as the Conversations client's Configuration fetch) is answered with HTTP 404,
so the SDK fails that request quickly instead of waiting.

With --tls it serves wss:// with a throwaway CA and a certificate for
localhost, 127.0.0.1, ::1 and each --tls-name; --tls-ca-out writes the CA
certificate for clients to trust (convctl connect --ca-file, Node's
NODE_EXTRA_CA_CERTS). --tls-cert and --tls-key serve a certificate you have.

The first line on stdout is the ws:// (or wss://) URL; logs go to stderr (every frame,
tokens redacted, with --debug). The control API on the same port
(docs/control-api.md) makes the server act on demand: list connections, push
token_about_to_expire, close with 410, 401 or 308, or cut a connection, and
arm faults for the next connections; GET /control/events streams what happens.
Open the server's address in a browser for a live dashboard with a button for
every one of those. --token-endpoint answers GET /token?identity=NAME with a
token signed with the server's secret, so a web app in development needs no
Twilio at all (docs/local-dev.md). Off loopback (--addr 0.0.0.0:4567), the
dashboard, the control API and /token require a control token, printed on
stderr at start; the WebSocket endpoint stays open.
SIGINT or SIGTERM stops the server within a second, exit 0: every connection
gets a close frame, and those that do not close within half a second are cut.

Limits (docs/serve-limits.md): at most --max-conns WebSocket connections at
once (by default the open-file limit less a tenth); one more upgrade is
answered HTTP 503 and the control API still answers. A connection that sends
no init within --init-timeout is closed (1008). A request whose Twilsock
header is over 64 KiB is answered 413 on its id; a WebSocket message over
256 KiB is closed with 1009. An update or message before init is answered
400. Ignored frames are logged at most ten per 10 s, clipped and redacted.

The faults that fire "after the first connection is initialised" fire once per
run, so a client that reconnects finds a healthy server.`,
		Example: `  # A throwaway secret, a server, and a token it accepts
  export TWILIO_API_SECRET=$(openssl rand -hex 16)
  convctl serve --secret-env TWILIO_API_SECRET --addr 127.0.0.1:4567 &
  convctl token mint --secret-env TWILIO_API_SECRET --account-sid AC... --api-key SK... \
    --identity alice --chat-service-sid IS...

  # Tokens announce their expiry 30 s ahead; every frame on stderr
  convctl serve --secret-env TWILIO_API_SECRET --about-to-expire 30s --debug

  # Cut the first connection after 2 s, refuse the next two upgrades with 503
  convctl serve --secret-env TWILIO_API_SECRET --drop-after 2s --refuse-upgrades 2

  # wss:// offline: a throwaway CA, trusted by the client
  convctl serve --secret-env TWILIO_API_SECRET --tls --tls-ca-out ca.pem --addr 127.0.0.1:4567 &
  convctl connect --url wss://127.0.0.1:4567/v3/wsconnect --ca-file ca.pem --token-env TOKEN

  # Deny every init as Twilio does a bad signature
  convctl serve --secret-env TWILIO_API_SECRET --deny 20107

  # Push token_about_to_expire to every connected client, now
  curl -X POST http://127.0.0.1:4567/control/connections/all/about-to-expire

  # A web app's tokens from the server itself, 5-minute ones; the dashboard at http://127.0.0.1:4567/
  convctl serve --secret-env TWILIO_API_SECRET --addr 127.0.0.1:4567 --token-endpoint --ttl 5m
  curl 'http://127.0.0.1:4567/token?identity=alice'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Server.Product = inspect.Product(product)
			opts.LogJSON = logFormat == "json"
			if err := opts.validate(cmd); err != nil {
				return err
			}
			var err error
			if opts.TLS, opts.TLSCA, err = tf.config(cmd); err != nil {
				return err
			}
			opts.TLSCAOut = tf.caOutFile
			switch {
			case opts.NoVerify && sf.given():
				return conflictError("no-verify", "secret-env or --secret-file", "--no-verify accepts any signature; pick one")
			case opts.NoVerify:
			case !sf.given():
				return usageErrorf("convctl serve verifies token signatures: give the API Key secret that signs your tokens\n" +
					"with --secret-env NAME or --secret-file PATH. For a throwaway one:\n" +
					"  export TWILIO_API_SECRET=$(openssl rand -hex 16)\n" +
					"  convctl serve --secret-env TWILIO_API_SECRET\n" +
					"and mint tokens with 'convctl token mint --secret-env TWILIO_API_SECRET ...'.\n" +
					"Or pass --no-verify to accept any signature (every other rule still applies).")
			default:
				secret, err := sf.read(f)
				if err != nil {
					return err
				}
				opts.Secret = secret
			}
			return runF(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "listen on `HOST:PORT` (port 0: any free port)")
	fl.StringVar(&opts.URLFile, "url-file", "", "also write the URL to `PATH` once listening (for scripts that run serve in the background)")
	sf.register(fl, "that signs the tokens, to verify them,")
	fl.BoolVar(&opts.NoVerify, "no-verify", false, "accept any token signature (no secret needed); every other rule still applies")
	productFlag(cmd, &product, "the product whose grant a token must carry")
	fl.DurationVar(&opts.Server.AboutToExpire, "about-to-expire", emulator.DefaultAboutToExpire, "send token_about_to_expire when a token has this long left")
	fl.IntVar(&opts.Server.Deny, "deny", 0, "fault: answer every init with 401 and this Twilio error `CODE` (5 digits, 10000-99999; e.g. 20107, 20104)")
	fl.DurationVar(&opts.Server.InitDelay, "init-delay", 0, "fault: wait this long before answering each init")
	fl.DurationVar(&opts.Server.DropAfter, "drop-after", 0, "fault: this long after the first connection is initialised, cut its TCP connection, no close frame")
	fl.DurationVar(&opts.Server.OffloadAfter, "offload-after", 0, "fault: this long after the first connection is initialised, send it close 308 (offload)")
	fl.DurationVar(&opts.Server.OffloadBackoff, "offload-backoff", emulator.DefaultOffloadBackoff, "backoff_policy.reconnect_min_ms of an offload")
	fl.IntVar(&opts.Server.RefuseUpgrades, "refuse-upgrades", 0, "fault: answer the first `N` WebSocket upgrades with HTTP 503")
	fl.IntVar(&opts.Server.UpstreamStatus, "upstream-status", emulator.DefaultUpstreamStatus, "HTTP `STATUS` every upstream request is answered with (400-599)")
	fl.DurationVar(&opts.Server.PingInterval, "ping-interval", emulator.DefaultPingInterval, "ping every connection this often; one silent for twice as long is closed")
	fl.DurationVar(&opts.Server.InitTimeout, "init-timeout", emulator.DefaultInitTimeout, "close a connection (WebSocket 1008) that sends no init this long after the upgrade; 0: never")
	fl.IntVar(&opts.Server.MaxConns, "max-conns", 0, "answer HTTP 503 to upgrades while `N` WebSocket connections are open (0: the open-file limit less a tenth); the control API stays reachable")
	tf.register(cmd)
	fl.BoolVar(&opts.Debug, "debug", false, "log every frame (tokens redacted) and every decision on stderr")
	enumFlag(cmd, &logFormat, "log-format", "", "text", []string{"text", "json"}, "stderr log format")
	opts.web.register(fl)
	opts.web.getenv = f.Getenv
	return cmd
}

func (o *ServeOptions) validate(cmd *cobra.Command) error {
	if err := checkListenAddr(o.Addr); err != nil {
		return err
	}
	if err := o.web.validate(cmd, o.Server.Product); err != nil {
		return err
	}
	s := &o.Server
	for _, d := range []struct {
		name     string
		v        time.Duration
		positive bool
	}{
		{"about-to-expire", s.AboutToExpire, true},
		{"init-delay", s.InitDelay, false},
		{"drop-after", s.DropAfter, false},
		{"offload-after", s.OffloadAfter, false},
		{"offload-backoff", s.OffloadBackoff, true},
		{"ping-interval", s.PingInterval, true},
		{"init-timeout", s.InitTimeout, false},
	} {
		if d.v < 0 || (d.positive && d.v == 0) {
			want := "0 or more"
			if d.positive {
				want = "more than 0"
			}
			return usageErrorf("--%s %v: want a duration of %s", d.name, d.v, want)
		}
	}
	// The zero values of these faults mean "off"; only an explicit flag is judged.
	// Twilio error codes are five digits; anything else (an HTTP status
	// such as 200 or 401) is not one.
	if cmd.Flags().Changed("deny") && (s.Deny < 10000 || s.Deny > 99999) {
		return usageErrorf("--deny %d: want a Twilio error code (5 digits, 10000-99999) such as %d (invalid signature) or %d (expired), not an HTTP status",
			s.Deny, twilsock.ErrInvalidSignature, twilsock.ErrTokenExpired)
	}
	if s.MaxConns < 0 {
		return usageErrorf("--max-conns %d: want 0 (the default cap) or more", s.MaxConns)
	}
	if s.RefuseUpgrades < 0 {
		return usageErrorf("--refuse-upgrades %d: want 0 or more", s.RefuseUpgrades)
	}
	if s.UpstreamStatus < 400 || s.UpstreamStatus > 599 {
		return usageErrorf("--upstream-status %d: want an HTTP error status, 400 to 599", s.UpstreamStatus)
	}
	return nil
}

// checkListenAddr checks --addr without resolving anything: HOST:PORT with
// a port from 0 to 65535 (0: any free port).
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return badAddr(addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil && port != "" {
		return usageErrorf("--addr %s: port %s is not a number from 0 to 65535 (0: any free port)", safeFlagValue(addr), safeFlagValue(port))
	}
	return nil
}

// runServe serves until ctx ends, then stops cleanly.
func runServe(ctx context.Context, opts *ServeOptions) error {
	logger := serverLogger(opts.IO, opts.Debug, opts.LogJSON)
	log := debuglog.Component(logger, "serve")

	// No TCP keepalive: the server pings every WebSocket itself, and each
	// accepted connection saves the syscalls that would set it up.
	listen := opts.listen
	if listen == nil {
		listen = (&net.ListenConfig{KeepAlive: -1}).Listen
	}
	web, err := opts.web.config(opts.Addr)
	if err != nil {
		return err
	}
	ln, err := listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return cannotFinish(fmt.Errorf("listening on %s: %w", opts.Addr, err))
	}
	cfg := opts.Server
	cfg.Secret = opts.Secret
	cfg.Logger = logger
	cfg.Web = web
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = -1 // --init-timeout 0: no deadline
	}
	emu := emulator.New(cfg)
	ln = emu.Listener(ln)
	hs := &http.Server{
		Handler:           emu,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	url := wsURL(opts.Addr, ln.Addr())
	base := httpBase(opts.Addr, ln.Addr())
	if opts.TLSCAOut != "" && opts.TLSCA != nil {
		// Only now that it listens: a serve that cannot bind must not
		// replace the CA of the one holding the port.
		if err := writeFileAtomic(opts.TLSCAOut, opts.TLSCA); err != nil {
			_ = ln.Close()
			return asUsage(fmt.Errorf("--tls-ca-out: %w", err))
		}
	}
	if opts.TLS != nil {
		hs.TLSConfig = opts.TLS
		ln = tls.NewListener(ln, opts.TLS)
		url = "wss" + strings.TrimPrefix(url, "ws")
		base = "https" + strings.TrimPrefix(base, "http")
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	attrs := []any{"url", url, "dashboard", base + "/", "control", base + "/control/"}
	if web.TokenEndpoint != nil {
		attrs = append(attrs, "token_endpoint", base+"/token?identity=NAME")
	}
	if web.ControlToken != "" {
		// A generated token is printed: nobody else knows it. One read
		// from the environment is the user's secret and stays out of the
		// output; $NAME in the URL expands in a shell.
		shown := web.ControlToken
		if opts.web.controlTokenEnv != "" {
			shown = "$" + opts.web.controlTokenEnv
		}
		if opts.LogJSON {
			log.Info("control token", "control_token", shown, "open", base+"/?control_token="+shown)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "control token: %s (open %s/?control_token=%s)\n", shown, base, shown)
		}
	}
	if opts.NoVerify {
		log.Warn("--no-verify: token signatures are not checked")
	}
	maxConns := cfg.MaxConns
	if maxConns == 0 {
		maxConns = emulator.DefaultMaxConns()
	}
	attrs = append(attrs, "max_conns", maxConns, "init_timeout", opts.Server.InitTimeout)
	for _, fault := range faultList(&cfg) {
		attrs = append(attrs, fault...)
	}
	log.Info("serving Twilsock", attrs...)
	// The URL last: whoever reads it finds the lines above already written.
	fmt.Fprintln(opts.IO.Out, url)
	if opts.URLFile != "" {
		if err := writeFileAtomic(opts.URLFile, []byte(url+"\n")); err != nil {
			_ = hs.Close()
			<-served
			return asUsage(fmt.Errorf("--url-file: %w", err))
		}
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), serveShutdownTimeout)
	defer cancel()
	// Both at once: the http.Server stops accepting and drains the requests
	// in flight while the emulator says goodbye on the WebSockets it took
	// over. A request still arriving when the time is up (a client sending
	// its headers slowly) is cut: not a failure to stop cleanly.
	httpDone := make(chan error, 1)
	go func() {
		drainCtx, cancel := context.WithTimeout(stopCtx, serveHTTPDrain)
		defer cancel()
		httpDone <- hs.Shutdown(drainCtx)
	}()
	emuErr := emu.Shutdown(stopCtx)
	httpErr := <-httpDone
	if errors.Is(httpErr, context.DeadlineExceeded) {
		httpErr = nil
		_ = hs.Close()
	}
	if serveErr == nil {
		serveErr = <-served
	}
	st := emu.Stats()
	log.Info("stopped", "upgrades", st.Upgrades, "inits", st.Inits, "denied", st.Denied, "refused", st.Refused,
		"server_closes", st.ServerCloses, "drops", st.Drops, "init_timeouts", st.InitTimeouts, "cap_refused", st.CapRefused)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return cannotFinish(fmt.Errorf("serving: %w", serveErr))
	}
	if err := errors.Join(emuErr, httpErr); err != nil {
		return cannotFinish(fmt.Errorf("stopping cleanly: %w", err))
	}
	return nil
}

// wsURL is the URL clients connect to, on an address this machine reaches
// (reachableAddr).
func wsURL(requested string, addr net.Addr) string {
	return "ws://" + reachableAddr(requested, addr) + emulator.PathWS
}

// faultList names the faults in force, for the startup line.
func faultList(c *emulator.Config) [][]any {
	var out [][]any
	add := func(on bool, k string, v any) {
		if on {
			out = append(out, []any{k, v})
		}
	}
	add(true, "about_to_expire", c.AboutToExpire)
	add(c.Deny != 0, "deny", c.Deny)
	add(c.InitDelay > 0, "init_delay", c.InitDelay)
	add(c.DropAfter > 0, "drop_after", c.DropAfter)
	add(c.OffloadAfter > 0, "offload_after", c.OffloadAfter)
	add(c.OffloadAfter > 0, "offload_backoff", c.OffloadBackoff)
	add(c.RefuseUpgrades > 0, "refuse_upgrades", c.RefuseUpgrades)
	add(c.UpstreamStatus != emulator.DefaultUpstreamStatus, "upstream_status", c.UpstreamStatus)
	return out
}

// writeFileAtomic writes data to path through a rename, so a script polling
// for the file never reads half of it.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
