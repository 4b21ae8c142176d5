package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
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
	Expect      probe.Outcome // connected or denied
	Output      string        // text or json
	Version     string
	Now         func() time.Time

	// tick is the countdown's refresh interval (default 1s).
	tick time.Duration
	// tune lets tests compress the SDK's timings (backoff, disconnect wait).
	tune func(*probe.Config)
}

const (
	defaultRegion  = "us1"
	defaultTimeout = 30 * time.Second
	defaultPing    = 5 * time.Second
)

// regionURL is Twilio's Twilsock endpoint for a region.
func regionURL(region string) string {
	return "wss://tsock." + region + ".twilio.com/v3/wsconnect"
}

var regionRE = regexp.MustCompile(`^[a-z]{2}[0-9]$`)

func newCmdConnect(f *Factory) *cobra.Command { return newCmdConnectWith(f, runConnect) }

// newCmdConnectWith builds the command around runF, so tests can check what
// the flags turn into without connecting anywhere.
func newCmdConnectWith(f *Factory, runF func(context.Context, *ConnectOptions) error) *cobra.Command {
	opts := &ConnectOptions{}
	var (
		tf             tokenFlags
		sf             secretFlags
		region, expect string
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

The token comes from the token flags or the TOKEN argument; prefer
--token-env, --token-file or -: an argument is visible to every user of the
machine (ps, /proc) and stays in the shell's history.

The report goes to stdout (-o text or json); on a terminal, live progress
goes to stderr. --debug logs every frame both ways (token signatures
redacted) and every inner state change to stderr.

Exit status: 0 when the run ends as --expect says (default connected);
1 when it is denied or disconnected instead (or connects when denied was
expected); 3 on a timeout, an unreachable server or a protocol error;
2 on bad flags or a token that cannot be read.`,
		Example: `  # Against the local server (convctl serve prints its URL)
  convctl connect --url ws://127.0.0.1:4567/v3/wsconnect --token-env TOKEN

  # Why does my app's token fail in ie1? Check the signature too
  convctl connect --region ie1 --token-url https://example.com/token --secret-env TWILIO_API_SECRET

  # Stay connected across the token's expiry, renewing it as an app should
  convctl connect --token-cmd './mint-token' --hold 10m --renew --debug

  # CI: a bad token must be denied
  convctl connect --token-file bad.jwt --expect denied -o json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			opts.Now = f.Now
			opts.Version = buildVersion()
			if cmd.Flags().Changed("url") && cmd.Flags().Changed("region") {
				return usageErrorf("give --url or --region, not both")
			}
			if opts.URL == "" {
				if !regionRE.MatchString(region) {
					return usageErrorf("--region %s is not a Twilio region (like us1, ie1, au1)", safeFlagValue(region))
				}
				opts.URL = regionURL(region)
			} else if err := checkWSURL(opts.URL); err != nil {
				return err
			}
			switch probe.Outcome(expect) {
			case probe.OutcomeConnected, probe.OutcomeDenied:
				opts.Expect = probe.Outcome(expect)
			default:
				return usageErrorf("--expect %s: want connected or denied", safeFlagValue(expect))
			}
			if opts.Output != "text" && opts.Output != "json" {
				return usageErrorf("--output %s: want text or json", safeFlagValue(opts.Output))
			}
			if opts.Timeout <= 0 {
				return usageErrorf("--timeout must be positive, got %v", opts.Timeout)
			}
			if opts.Hold < 0 || opts.Ping < 0 {
				return usageErrorf("--hold and --ping cannot be negative")
			}
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			src, err := tf.source(f, arg)
			if err != nil {
				return err
			}
			opts.Source = src
			if opts.Secret, err = sf.read(f); err != nil {
				return err
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	tf.register(fs)
	sf.register(fs, "to explain a rejected token (its signature is checked)")
	fs.StringVar(&opts.URL, "url", "", "Twilsock `URL` (ws:// or wss://); default wss://tsock.<region>.twilio.com/v3/wsconnect")
	fs.StringVar(&region, "region", defaultRegion, "Twilio `REGION` whose Twilsock endpoint to use")
	fs.BoolVar(&opts.Debug, "debug", false, "log every frame and inner state change to stderr (token signatures redacted)")
	fs.DurationVar(&opts.Timeout, "timeout", defaultTimeout, "bound the whole run, reconnects included")
	fs.DurationVar(&opts.Hold, "hold", 0, "stay connected this long after first connecting, then disconnect (also while reconnecting, as an app would)")
	fs.DurationVar(&opts.Ping, "ping", defaultPing, "ping interval while connected, to measure round trips and catch a dead peer (0: none, like the SDK)")
	fs.BoolVar(&opts.UpdateToken, "update-token", false, "once connected, fetch a fresh token from the same source and send update")
	fs.BoolVar(&opts.Renew, "renew", false, "on tokenAboutToExpire, fetch a fresh token and send update, as an app should")
	fs.BoolVar(&opts.NoReconnect, "no-reconnect", false, "stop at the first failure instead of retrying with backoff")
	fs.StringVar(&expect, "expect", string(probe.OutcomeConnected), "the outcome that exits 0: `connected|denied`")
	fs.StringVarP(&opts.Output, "output", "o", "text", "report format: `text|json`")
	return cmd
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

// runConnect runs the probe, renders its report and picks the exit code.
func runConnect(ctx context.Context, opts *ConnectOptions) error {
	io := opts.IO
	start := time.Now()
	var logger *slog.Logger
	if opts.Debug {
		logger = debuglog.New(io.ErrOut, debuglog.Options{Level: slog.LevelDebug, Color: io.ErrColorEnabled(), Start: start})
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
	if opts.tune != nil {
		opts.tune(&cfg)
	}
	if opts.Hold >= opts.Timeout {
		fmt.Fprintf(io.ErrOut, "%s --hold %v is not shorter than --timeout %v: the run ends at the timeout\n",
			io.ErrColorScheme().Yellow("warning:"), opts.Hold, opts.Timeout)
	}

	live.begin()
	rep, err := probe.Run(ctx, cfg)
	live.end()
	if rep != nil {
		rep.URL = safeURL(rep.URL)
	}
	if err != nil {
		switch {
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
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return cannotFinish(err)
		}
	} else {
		renderConnectText(io.Out, io.ColorScheme(), rep, opts.Expect)
	}
	code := connectExitCode(rep, opts.Expect)
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

// connectExitCode maps a report to the contract's exit codes: could not
// finish (timeout, unreachable, protocol error) is 3 whatever was expected.
func connectExitCode(rep *probe.Report, expect probe.Outcome) int {
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

func hasEvent(rep *probe.Report, name string) bool {
	for _, e := range rep.Events {
		if e.Name == name {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Live progress on stderr, for a person at a terminal.

// liveView prints a line per public state change, retry and event, and
// while holding keeps one line rewritten with a countdown. It is silent
// unless stderr is a terminal; with --debug the log says it all.
type liveView struct {
	enabled bool
	w       io.Writer
	cs      *ColorScheme
	hold    time.Duration
	now     func() time.Time
	tick    time.Duration

	mu          sync.Mutex
	holdEnd     time.Time  // zero until first connected
	expiresAt   *time.Time // the current token's
	connected   bool
	countdownOn bool // a countdown line is on screen
	stop        chan struct{}
	done        chan struct{}
}

func newLiveView(io *IOStreams, opts *ConnectOptions) *liveView {
	v := &liveView{
		enabled: io.IsStderrTTY() && !opts.Debug,
		w:       io.ErrOut,
		cs:      io.ErrColorScheme(),
		hold:    opts.Hold,
		now:     opts.Now,
		tick:    opts.tick,
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.tick <= 0 {
		v.tick = time.Second
	}
	return v
}

func (v *liveView) begin() {
	if !v.enabled || v.hold <= 0 {
		return
	}
	v.stop, v.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(v.done)
		t := time.NewTicker(v.tick)
		defer t.Stop()
		for {
			select {
			case <-v.stop:
				return
			case <-t.C:
				v.mu.Lock()
				if v.connected && !v.holdEnd.IsZero() {
					v.printCountdown()
				}
				v.mu.Unlock()
			}
		}
	}()
}

func (v *liveView) end() {
	if v.stop != nil {
		close(v.stop)
		<-v.done
	}
	v.mu.Lock()
	v.clearCountdown()
	v.mu.Unlock()
}

// countdownText is the held line: time left to hold and to the token's expiry.
func (v *liveView) countdownText(now time.Time) string {
	left := max(time.Until(v.holdEnd), 0).Round(time.Second)
	s := "holding, " + left.String() + " left"
	if v.expiresAt != nil {
		if exp := v.expiresAt.Sub(now).Round(time.Second); exp > 0 {
			s += " · token expires in " + exp.String()
		} else {
			s += " · token expired " + (-exp).String() + " ago"
		}
	}
	return s
}

func (v *liveView) printCountdown() {
	fmt.Fprintf(v.w, "\r\033[K  %s", v.cs.Dim(v.countdownText(v.now())))
	v.countdownOn = true
}

func (v *liveView) clearCountdown() {
	if v.countdownOn {
		fmt.Fprint(v.w, "\r\033[K")
		v.countdownOn = false
	}
}

func (v *liveView) observe(u probe.Update) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch u.Kind {
	case probe.UpdateToken:
		v.expiresAt = u.Token.ExpiresAt
	case probe.UpdateState:
		v.connected = u.State == probe.StateConnected
		if v.connected && v.holdEnd.IsZero() {
			v.holdEnd = time.Now().Add(v.hold)
		}
	}
	if !v.enabled {
		return
	}
	var line string
	switch u.Kind {
	case probe.UpdateState:
		if !u.PublicChanged {
			return
		}
		line = paintState(v.cs, u.State)
		if string(u.Inner) != string(u.State) {
			line += v.cs.Dim(" (" + string(u.Inner) + ")")
		}
	case probe.UpdateRetry:
		line = fmt.Sprintf("retry %d in %s: %s", u.Reconnect.Attempt, fmtDur(u.Duration), u.Reconnect.Error)
	case probe.UpdateEvent:
		line = "event " + v.cs.Cyan(u.Event.Name)
		if u.Event.Message != "" {
			line += ": " + u.Event.Message
		}
	case probe.UpdateToken:
		line = "token"
		if u.Token.Identity != "" {
			line += " for " + u.Token.Identity
		}
		if u.Token.ExpiresAt != nil {
			line += ", expires in " + u.Token.ExpiresAt.Sub(v.now()).Round(time.Second).String()
		}
	default:
		return
	}
	v.clearCountdown()
	fmt.Fprintf(v.w, "%s %s\n", v.cs.Dim(fmt.Sprintf("%9s", "+"+fmtMS(ms(u.At)))), line)
}

func paintState(cs *ColorScheme, s probe.State) string {
	switch s {
	case probe.StateConnected:
		return cs.Green(string(s))
	case probe.StateDenied:
		return cs.Red(string(s))
	case probe.StateDisconnecting, probe.StateDisconnected:
		return cs.Yellow(string(s))
	}
	return string(s)
}

// ---------------------------------------------------------------------------
// The text report.

func renderConnectText(w io.Writer, cs *ColorScheme, rep *probe.Report, expect probe.Outcome) {
	label := func(s string) string { return cs.Bold(fmt.Sprintf("%-11s", s)) }
	section := func(s string) { fmt.Fprintln(w, cs.Bold(s)) }
	outcome := string(rep.Outcome)
	switch {
	case rep.Outcome == expect:
		outcome = cs.Green(outcome)
	case rep.Outcome == probe.OutcomeConnected || rep.Outcome == probe.OutcomeDenied:
		outcome = cs.Red(outcome) + " (expected " + string(expect) + ")"
	default:
		outcome = cs.Red(outcome)
	}
	fmt.Fprintf(w, "%s %s\n", label("URL"), rep.URL)
	fmt.Fprintf(w, "%s %s\n", label("Outcome"), outcome)
	if t := rep.Token; t != nil {
		var parts []string
		if t.Identity != "" {
			parts = append(parts, "identity "+t.Identity)
		}
		if t.ExpiresAt != nil {
			parts = append(parts, "expires "+t.ExpiresAt.UTC().Format(time.RFC3339))
		}
		if t.Region != "" {
			parts = append(parts, "region "+t.Region)
		}
		sig := "signature " + t.Signature
		if t.Signature == "unchecked" {
			sig = "signature not verified (no secret given)"
		}
		parts = append(parts, sig)
		if t.Renewals > 0 {
			parts = append(parts, fmt.Sprintf("renewed %d time(s)", t.Renewals))
		}
		fmt.Fprintf(w, "%s %s\n", label("Token"), strings.Join(parts, ", "))
	}

	type entry struct {
		at   float64
		text string
	}
	var tl []entry
	for _, s := range rep.States {
		tl = append(tl, entry{s.AtMS, paintState(cs, s.State)})
	}
	for _, e := range rep.Events {
		txt := "· " + cs.Cyan(e.Name)
		var det []string
		if e.Terminal != nil && *e.Terminal {
			det = append(det, "terminal")
		}
		if e.HTTPStatus != nil {
			det = append(det, "HTTP "+strconv.Itoa(*e.HTTPStatus))
		}
		if e.TwilioError != nil {
			det = append(det, "Twilio "+strconv.Itoa(*e.TwilioError))
		}
		if e.Message != "" {
			det = append(det, e.Message)
		}
		if len(det) > 0 {
			txt += " (" + strings.Join(det, ", ") + ")"
		}
		tl = append(tl, entry{e.AtMS, txt})
	}
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].at < tl[j].at })
	section("Timeline")
	for _, e := range tl {
		fmt.Fprintf(w, "  %10s  %s\n", "+"+fmtMS(e.at), e.text)
	}
	if len(rep.Reconnects) > 0 {
		section("Reconnects")
		for _, r := range rep.Reconnects {
			fmt.Fprintf(w, "  %d  after %s: %s\n", r.Attempt, fmtDur(time.Duration(r.DelayMS*float64(time.Millisecond))), r.Error)
		}
	}

	section("Phases")
	tm := rep.Timing
	for _, p := range []struct {
		name string
		v    *float64
	}{{"dns", tm.DNS}, {"tcp", tm.TCP}, {"tls", tm.TLS}, {"upgrade", tm.Upgrade}, {"init", tm.Init}, {"connected", tm.Connected}} {
		val := "-"
		if p.v != nil {
			val = fmtMS(*p.v)
		}
		fmt.Fprintf(w, "  %-10s %10s\n", p.name, val)
	}
	if rep.ClockSkewSeconds != nil {
		fmt.Fprintf(w, "%s %+.0fs (this machine minus the server's Date)\n", label("Clock skew"), *rep.ClockSkewSeconds)
	}
	if n := len(rep.PingsMS); n > 0 {
		lo, hi, sum := rep.PingsMS[0], rep.PingsMS[0], 0.0
		for _, p := range rep.PingsMS {
			lo, hi, sum = min(lo, p), max(hi, p), sum+p
		}
		fmt.Fprintf(w, "%s %d, round trip min %s / avg %s / max %s\n", label("Pings"), n, fmtMS(lo), fmtMS(sum/float64(n)), fmtMS(hi))
	}
	if c := rep.Cause; c != nil {
		head := string(c.Kind)
		var codes []string
		if c.HTTPStatus != nil {
			codes = append(codes, "HTTP "+strconv.Itoa(*c.HTTPStatus))
		}
		if c.TwilioError != nil {
			codes = append(codes, "Twilio error "+strconv.Itoa(*c.TwilioError))
		}
		if c.Phase != "" {
			codes = append(codes, "phase "+string(c.Phase))
		}
		if len(codes) > 0 {
			head += " (" + strings.Join(codes, ", ") + ")"
		}
		fmt.Fprintf(w, "%s %s\n", label("Cause"), cs.Red(head))
		fmt.Fprintf(w, "  %s\n", c.Message)
		if c.Hint != "" {
			fmt.Fprintf(w, "  %s %s\n", cs.Bold("hint:"), c.Hint)
		}
	}
	if len(rep.Warnings) > 0 {
		section("Warnings")
		for _, s := range rep.Warnings {
			fmt.Fprintf(w, "  %s %s\n", cs.Yellow("!"), s)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fmtMS shows milliseconds as a person reads them: 0.4ms, 41.2ms, 1.043s.
func fmtMS(v float64) string {
	if v >= 1000 || v <= -1000 {
		return strconv.FormatFloat(v/1000, 'f', 3, 64) + "s"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
}

func fmtDur(d time.Duration) string { return fmtMS(ms(d)) }
