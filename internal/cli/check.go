package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/probe"
	"github.com/convctl/convctl/pkg/tokensource"
)

// CheckOptions is everything `convctl check` was told.
type CheckOptions struct {
	IO     *IOStreams
	Source tokensource.Source
	Secret []byte // nil: signatures are not verified, and the report says so

	Product      inspect.Product
	MinRemaining time.Duration

	URL   string // the Twilsock endpoint; empty with Local
	Local bool   // serve an emulator on 127.0.0.1 and connect to it

	Timeout     time.Duration // bounds the token fetch, and the connection part as a whole
	Hold        time.Duration
	UpdateToken bool

	Output  string // text or json
	JUnit   string // write a JUnit XML report here too ("" = no)
	Version string
	Now     func() time.Time

	// tune lets tests compress the SDK's timings (backoff, disconnect wait).
	tune func(*probe.Config)
}

// The checks, in the order they run. Every run reports all six, skipped when
// not asked for or not reachable, so a CI dashboard sees a stable list.
const (
	checkTokenFetch   = "token.fetch"
	checkTokenInspect = "token.inspect"
	checkConnect      = "connect"
	checkTokenUpdate  = "token.update"
	checkHold         = "hold"
	checkDisconnect   = "disconnect"
)

var checkNames = []string{checkTokenFetch, checkTokenInspect, checkConnect, checkTokenUpdate, checkHold, checkDisconnect}

// checkStatus is a check's verdict, as JSON and JUnit name it.
type checkStatus string

const (
	checkPass checkStatus = "pass"
	checkFail checkStatus = "fail"
	checkSkip checkStatus = "skip"
)

// checkCause says why a check failed: a token finding (Kind is its code), a
// probe cause (Kind is its kind) or the token source ("token_source").
type checkCause struct {
	Kind        string `json:"kind"`
	HTTPStatus  *int   `json:"http_status"`
	TwilioError *int   `json:"twilio_error"`
	Message     string `json:"message"`
	Hint        string `json:"hint"`
	Phase       string `json:"phase,omitempty"`
}

// checkResult is one check's line in every output format.
type checkResult struct {
	Name       string      `json:"name"`
	Status     checkStatus `json:"status"`
	DurationMS float64     `json:"duration_ms"`
	Message    string      `json:"message"`
	Cause      *checkCause `json:"cause,omitempty"`

	// exit is the code a failure stands for: 1 (failed), 2 (input), 3 (could not finish).
	exit int
}

// checkReport is the whole run: `convctl check -o json`.
type checkReport struct {
	OK         bool            `json:"ok"`
	Local      bool            `json:"local"`
	Checks     []checkResult   `json:"checks"`
	Token      *inspect.Report `json:"token"`
	Connection *probe.Report   `json:"connection"`

	Started time.Time `json:"-"`
}

func newCmdCheck(f *Factory) *cobra.Command { return newCmdCheckWith(f, runCheck) }

// newCmdCheckWith builds the command around runF, so tests can check what
// the flags turn into without fetching or connecting anything.
func newCmdCheckWith(f *Factory, runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{}
	var (
		tf              tokenFlags
		sf              secretFlags
		region, product string
	)
	cmd := &cobra.Command{
		Use:   "check [TOKEN|-]",
		Short: "Check a token source and a connection end to end, for CI",
		Long: `Run every check a CI pipeline needs in one command, each with a verdict:

  token.fetch    get a token from its source (typically your app's token
                 endpoint with --token-url, or --token-cmd)
  token.inspect  judge it as Twilio would (--product, --min-remaining; the
                 signature too with --secret-env or --secret-file)
  connect        open a Twilsock connection with it, as the SDK does
  token.update   with --update-token: fetch a fresh token, send update
  hold           with --hold: stay connected that long
  disconnect     close cleanly

A check that is not asked for, or cannot run because an earlier one failed,
is skipped. --local connects to a Twilsock server started inside convctl on
127.0.0.1, so a pipeline without Twilio access still checks its token
endpoint end to end; without a secret that server accepts any signature, and
the report says so. --timeout bounds the token fetch, and separately the
whole connection, reconnects included.

The report goes to stdout (text, or one JSON object with -o json); --junit
also writes JUnit XML for GitHub Actions, GitLab or Jenkins to render. On a
terminal, progress goes to stderr.

Exit status: 0 when every check passed or was skipped; 1 when a check
failed; 2 on bad flags or a token that cannot be fetched (the --junit file
is still written, naming the failure); 3 when the connection could not be
made (unreachable, timeout, protocol error).`,
		Example: `  # Offline, no Twilio account: mint a token, check it against the built-in server
  export TWILIO_API_SECRET=0123456789abcdef0123456789abcdef
  convctl token mint --account-sid AC0123456789abcdef0123456789abcdef --api-key SK0123456789abcdef0123456789abcdef --secret-env TWILIO_API_SECRET --identity alice --chat-service-sid IS0123456789abcdef0123456789abcdef > token.jwt
  convctl check --local --secret-env TWILIO_API_SECRET --token-file token.jwt --hold 1s --junit convctl-check.xml

  # CI: your app's token endpoint, end to end against the built-in server
  convctl check --local --token-url "$TOKEN_URL" --update-token --junit convctl-check.xml

  # Against Twilio in ie1: signature checked, token good for at least 10 more minutes
  convctl check --region ie1 --token-url "$TOKEN_URL" --secret-env TWILIO_API_SECRET --min-remaining 10m -o json`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.IO = f.IO
			opts.Now = f.Now
			opts.Version = buildVersion()
			if err := opts.validate(cmd, region, product); err != nil {
				return err
			}
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			src, err := tf.source(f, arg)
			if err != nil {
				return opts.failEarly(checkTokenFetch, err)
			}
			opts.Source = src
			if opts.Secret, err = sf.read(f); err != nil {
				return opts.failEarly(checkTokenInspect, err)
			}
			return runF(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	tf.register(fs)
	sf.register(fs, "for verifying signatures (also in --local's server)")
	fs.StringVar(&product, "product", string(inspect.ProductConversations), "the `PRODUCT` whose grant the token must carry: conversations, sync, voice, video or any")
	fs.DurationVar(&opts.MinRemaining, "min-remaining", 0, "fail token.inspect when less than this is left before the token expires")
	fs.StringVar(&opts.URL, "url", "", "Twilsock `URL` (ws:// or wss://); default wss://tsock.<region>.twilio.com/v3/wsconnect")
	fs.StringVar(&region, "region", defaultRegion, "Twilio `REGION` whose Twilsock endpoint to use")
	fs.BoolVar(&opts.Local, "local", false, "connect to a Twilsock server convctl runs on 127.0.0.1 instead of Twilio")
	fs.DurationVar(&opts.Timeout, "timeout", defaultTimeout, "bound the token fetch, and the whole connection (reconnects included)")
	fs.DurationVar(&opts.Hold, "hold", 0, "stay connected this long before disconnecting")
	fs.BoolVar(&opts.UpdateToken, "update-token", false, "once connected, fetch a fresh token from the same source and send update")
	fs.StringVarP(&opts.Output, "output", "o", "text", "report format: `text|json`")
	fs.StringVar(&opts.JUnit, "junit", "", "also write a JUnit XML report to `FILE`")
	return cmd
}

// validate checks every flag that needs no I/O, and settles the URL.
func (o *CheckOptions) validate(cmd *cobra.Command, region, product string) error {
	changed := cmd.Flags().Changed
	switch {
	case o.Local && (changed("url") || changed("region")):
		return usageErrorf("--local connects to convctl's own server; drop --url and --region")
	case changed("url") && changed("region"):
		return usageErrorf("give --url or --region, not both")
	case o.Local:
		o.URL = ""
	case o.URL != "":
		if err := checkWSURL(o.URL); err != nil {
			return err
		}
	default:
		if !regionRE.MatchString(region) {
			return usageErrorf("--region %s is not a Twilio region (like us1, ie1, au1)", safeFlagValue(region))
		}
		o.URL = regionURL(region)
	}
	p, ok := inspect.ParseProduct(product)
	if !ok {
		return usageErrorf("--product %s: want conversations, sync, voice, video or any", safeFlagValue(product))
	}
	o.Product = p
	if o.Output != "text" && o.Output != "json" {
		return usageErrorf("--output %s: want text or json", safeFlagValue(o.Output))
	}
	if o.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %v", o.Timeout)
	}
	if o.Hold < 0 || o.MinRemaining < 0 {
		return usageErrorf("--hold and --min-remaining cannot be negative")
	}
	if o.Hold > 0 && o.Hold >= o.Timeout {
		return usageErrorf("--hold %v needs a longer --timeout (now %v): the timeout bounds the whole connection", o.Hold, o.Timeout)
	}
	if o.JUnit != "" {
		dir := filepath.Dir(o.JUnit)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageErrorf("--junit %s: directory %s does not exist", safeFlagText(o.JUnit), safeFlagText(dir))
		}
	}
	return nil
}

// failEarly is an input error found before anything ran: it still writes
// the JUnit report, so a pipeline shows which check could not start and
// why, then exits 2 with the message on stderr.
func (o *CheckOptions) failEarly(name string, err error) error {
	rep := newCheckReport(o)
	msg := err.Error()
	for i := range rep.Checks {
		c := &rep.Checks[i]
		switch {
		case c.Name == name:
			c.Status, c.Message, c.exit = checkFail, msg, exitUsage
			c.Cause = &checkCause{Kind: "input", Message: msg}
		case c.Status == "":
			c.Status, c.Message = checkSkip, "not run: "+name+" could not start"
		}
	}
	if werr := writeCheckJUnit(o.JUnit, rep); werr != nil {
		return asUsage(errors.Join(err, werr))
	}
	return asUsage(err)
}

func newCheckReport(o *CheckOptions) *checkReport {
	rep := &checkReport{Local: o.Local, Started: time.Now()}
	for _, n := range checkNames {
		rep.Checks = append(rep.Checks, checkResult{Name: n})
	}
	return rep
}

func (r *checkReport) get(name string) *checkResult {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	panic("check: unknown check " + name)
}

// skipRest marks every check not yet decided as skipped, with why.
func (r *checkReport) skipRest(why string) {
	for i := range r.Checks {
		if r.Checks[i].Status == "" {
			r.Checks[i].Status, r.Checks[i].Message = checkSkip, why
		}
	}
}

// exitCode picks the contract's exit code from the failed checks: input
// beats could-not-finish beats failed.
func (r *checkReport) exitCode() int {
	rank := map[int]int{exitOK: 0, exitFailed: 1, exitCannotFinish: 2, exitUsage: 3}
	code := exitOK
	for _, c := range r.Checks {
		if c.Status == checkFail && rank[c.exit] > rank[code] {
			code = c.exit
		}
	}
	return code
}

func (c *checkResult) pass(d time.Duration, msg string) {
	c.Status, c.DurationMS, c.Message = checkPass, checkMS(d), msg
}

func (c *checkResult) fail(d time.Duration, exit int, msg string, cause *checkCause) {
	c.Status, c.DurationMS, c.Message, c.exit, c.Cause = checkFail, checkMS(d), msg, exit, cause
}

func (c *checkResult) skip(msg string) { c.Status, c.Message = checkSkip, msg }

// runCheck runs the checks in order, renders the report and picks the exit code.
func runCheck(ctx context.Context, opts *CheckOptions) error {
	rep := newCheckReport(opts)
	prog := newCheckProgress(opts.IO)
	defer prog.clear()

	tok, err := checkFetch(ctx, opts, rep, prog)
	if err != nil {
		prog.clear()
		if werr := writeCheckJUnit(opts.JUnit, rep); werr != nil {
			err = errors.Join(err, werr)
		}
		if ctx.Err() != nil {
			return cannotFinish(fmt.Errorf("interrupted: %w", err))
		}
		if c := rep.get(checkTokenFetch); c.Cause != nil && c.Cause.Hint != "" {
			err = fmt.Errorf("%w\nhint: %s", err, c.Cause.Hint)
		}
		return asUsage(err)
	}
	if checkInspect(opts, rep, tok, prog) {
		if err := checkConnection(ctx, opts, rep, tok, prog); err != nil {
			prog.clear()
			return err
		}
	}
	prog.clear()

	rep.OK = rep.exitCode() == exitOK
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return cannotFinish(err)
		}
	} else {
		renderCheckText(opts.IO.Out, opts.IO.ColorScheme(), opts.IO.IsStdoutTTY(), rep)
	}
	if err := writeCheckJUnit(opts.JUnit, rep); err != nil {
		return asUsage(err)
	}
	return silentExit(rep.exitCode())
}

// checkFetch runs token.fetch, bounded by --timeout.
func checkFetch(ctx context.Context, opts *CheckOptions, rep *checkReport, prog *checkProgress) (string, error) {
	c := rep.get(checkTokenFetch)
	prog.show(checkTokenFetch, "fetching a token from "+opts.Source.Name())
	fctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	start := time.Now()
	tok, err := opts.Source.Fetch(fctx)
	d := time.Since(start)
	if err != nil {
		cause := &checkCause{Kind: "token_source", Message: err.Error()}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			cause.Hint = fmt.Sprintf("%s gave no token within --timeout %v: make it answer faster, or raise --timeout", opts.Source.Name(), opts.Timeout)
		}
		c.fail(d, exitUsage, err.Error(), cause)
		rep.skipRest("not run: " + checkTokenFetch + " failed")
		return "", err
	}
	c.pass(d, fmt.Sprintf("%s gave a token (%d bytes)", opts.Source.Name(), len(tok)))
	return tok, nil
}

// checkInspect runs token.inspect and reports whether the token is good
// enough to connect with. A token Twilio would reject is not sent: the
// connection checks would only repeat the finding.
func checkInspect(opts *CheckOptions, rep *checkReport, tok string, prog *checkProgress) bool {
	c := rep.get(checkTokenInspect)
	prog.show(checkTokenInspect, "inspecting the token")
	iopts := []inspect.Option{inspect.WithProduct(opts.Product), inspect.WithMinRemaining(opts.MinRemaining)}
	if opts.Now != nil {
		iopts = append(iopts, inspect.WithClock(opts.Now))
	}
	if len(opts.Secret) > 0 {
		iopts = append(iopts, inspect.WithSecret(opts.Secret))
	}
	start := time.Now()
	ir := inspect.Inspect(tok, iopts...)
	d := time.Since(start)
	rep.Token = ir

	if f := ir.FirstError(); f != nil {
		msg := f.Message
		if n := countErrors(ir); n > 1 {
			msg += fmt.Sprintf(" (and %d more problem(s))", n-1)
		}
		c.fail(d, exitFailed, msg, &checkCause{Kind: f.Code, TwilioError: f.TwilioError, Message: f.Message, Hint: f.Hint})
		rep.skipRest("not run: " + checkTokenInspect + " failed")
		return false
	}
	var parts []string
	if ir.Identity != "" {
		parts = append(parts, "identity "+ir.Identity)
	}
	if len(ir.Grants) > 0 {
		parts = append(parts, "grants "+strings.Join(ir.Grants, ","))
	}
	if ir.ExpiresInSeconds != nil {
		parts = append(parts, "expires in "+(time.Duration(*ir.ExpiresInSeconds)*time.Second).String())
	}
	switch ir.Signature {
	case inspect.SignatureVerified:
		parts = append(parts, "signature verified")
	default:
		parts = append(parts, "signature not verified (no secret given)")
	}
	msg := "valid: " + strings.Join(parts, ", ")
	var warns []string
	for _, f := range ir.Findings {
		if f.Severity == inspect.SeverityWarning {
			warns = append(warns, f.Code)
		}
	}
	if len(warns) > 0 {
		msg += "; warning: " + strings.Join(warns, ", ")
	}
	c.pass(d, msg)
	return true
}

func countErrors(r *inspect.Report) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == inspect.SeverityError {
			n++
		}
	}
	return n
}

// checkConnection runs connect, token.update, hold and disconnect: one probe
// run, whose report is then read check by check. It returns an error only
// when the run could not start at all.
func checkConnection(ctx context.Context, opts *CheckOptions, rep *checkReport, tok string, prog *checkProgress) error {
	target := opts.URL
	note := ""
	if opts.Local {
		srv, err := startCheckServer(emulator.Config{Secret: opts.Secret, Product: opts.Product, Clock: opts.Now})
		if err != nil {
			return cannotFinish(err)
		}
		defer srv.stop()
		target = srv.url
		note = " (convctl's local server"
		if len(opts.Secret) == 0 {
			note += ", signature not verified"
		}
		note += ")"
	}

	first := true
	cfg := probe.Config{
		URL: target,
		Token: func(ctx context.Context) (string, error) {
			if first {
				first = false
				return tok, nil
			}
			return opts.Source.Fetch(ctx)
		},
		Secret:      opts.Secret,
		Timeout:     opts.Timeout,
		Hold:        opts.Hold,
		UpdateToken: opts.UpdateToken,
		Version:     opts.Version,
		Observer:    prog.observe(opts),
		Now:         opts.Now,
	}
	if opts.Hold > 0 {
		cfg.PingInterval = defaultPing // a half-open connection fails the hold instead of passing it
	}
	if opts.tune != nil {
		opts.tune(&cfg)
	}
	prog.show(checkConnect, "connecting to "+safeURL(target))
	pr, err := probe.Run(ctx, cfg)
	if err != nil {
		if errors.Is(err, probe.ErrConfig) {
			return asUsage(err)
		}
		return cannotFinish(err)
	}
	pr.URL = safeURL(pr.URL)
	rep.Connection = pr
	judgeConnection(opts, rep, pr, note)
	return nil
}

// judgeConnection reads one probe report as the four connection checks.
func judgeConnection(opts *CheckOptions, rep *checkReport, pr *probe.Report, note string) {
	conn, upd, hold, disc := rep.get(checkConnect), rep.get(checkTokenUpdate), rep.get(checkHold), rep.get(checkDisconnect)

	connectedAt, ok := innerAt(pr, probe.InnerConnected, 0, false)
	if !ok {
		d := msDur(pr.DurationMS)
		cause := fromProbeCause(pr.Cause)
		conn.fail(d, probeExit(pr), string(pr.Outcome)+": "+cause.Message, cause)
		if pr.Interrupted {
			conn.exit = exitCannotFinish
		}
		rep.skipRest("not run: " + checkConnect + " failed")
		return
	}
	msg := "connected to " + pr.URL + note
	if n := reconnectsBefore(pr, connectedAt); n > 0 {
		msg += fmt.Sprintf(" after %d reconnect(s)", n)
	}
	conn.pass(msDur(connectedAt), msg)

	// The run's clean end, when it had one: our disconnecting, then disconnected.
	clean := pr.Outcome == probe.OutcomeConnected
	var discAt, discEnd float64
	if clean {
		discAt, _ = innerAt(pr, probe.InnerDisconnecting, 0, true)
		discEnd, _ = innerAt(pr, probe.InnerDisconnected, 0, true)
	}
	ended := false // a check already failed for the way the connection ended

	// token.update
	switch {
	case !opts.UpdateToken:
		upd.skip("not asked for (--update-token)")
	default:
		ended = judgeUpdate(upd, pr, connectedAt)
	}

	// hold
	switch {
	case opts.Hold <= 0:
		hold.skip("not asked for (--hold)")
	case ended:
		hold.skip("not run: the connection ended at " + checkTokenUpdate)
	case pr.Interrupted:
		hold.fail(msDur(pr.DurationMS-connectedAt), exitCannotFinish, "interrupted while holding",
			&checkCause{Kind: string(probe.CauseTimeout), Message: "the run was interrupted while holding"})
		ended = true
	case clean:
		held := msDur(discAt - connectedAt)
		if held+time.Millisecond < opts.Hold {
			msg := fmt.Sprintf("held %s of %s: --timeout %v ended the run", checkDurText(held), opts.Hold, opts.Timeout)
			hold.fail(held, exitCannotFinish, msg, &checkCause{Kind: string(probe.CauseTimeout), Message: msg,
				Hint: "the connection came up late (see its reconnects); raise --timeout or shorten --hold"})
			ended = true
			break
		}
		msg := "stayed connected for " + opts.Hold.String()
		if n := len(pr.Reconnects) - reconnectsBefore(pr, connectedAt); n > 0 {
			msg += fmt.Sprintf(", reconnecting %d time(s)", n)
		}
		if n := len(pr.PingsMS); n > 0 {
			msg += fmt.Sprintf(", %d ping(s) answered", n)
		}
		hold.pass(held, msg)
	default:
		cause := fromProbeCause(pr.Cause)
		hold.fail(msDur(pr.DurationMS-connectedAt), probeExit(pr), string(pr.Outcome)+" while holding: "+cause.Message, cause)
		ended = true
	}

	// disconnect
	switch {
	case clean:
		disc.pass(msDur(discEnd-discAt), "closed cleanly: client close, then WebSocket close")
	case ended:
		disc.skip("not run: the connection had already ended")
	default:
		cause := fromProbeCause(pr.Cause)
		disc.fail(msDur(pr.DurationMS-connectedAt), probeExit(pr), string(pr.Outcome)+" before disconnecting: "+cause.Message, cause)
	}
}

// judgeUpdate fills token.update from the run and reports whether the
// connection ended there.
func judgeUpdate(c *checkResult, pr *probe.Report, connectedAt float64) (ended bool) {
	sent, ok := innerAt(pr, probe.InnerUpdating, connectedAt, false)
	for _, e := range pr.Events {
		if e.AtMS < connectedAt {
			continue
		}
		switch e.Name {
		case probe.EventTokenRefreshFailed:
			msg := "fetching a fresh token failed: " + e.Message
			c.fail(msDur(e.AtMS-connectedAt), exitFailed, msg, &checkCause{Kind: "token_source", Message: e.Message,
				Hint: "the token source worked once and then failed: check it answers every request, not just the first"})
			return false
		case probe.EventTokenUpdated:
			msg := "the server accepted a fresh token"
			if t := pr.Token; t != nil && t.ExpiresAt != nil {
				msg += ", expiring " + t.ExpiresAt.UTC().Format(time.RFC3339)
			}
			// From the connection coming up, when the probe starts the
			// update: fetching the fresh token is part of the check.
			c.pass(msDur(e.AtMS-connectedAt), msg)
			return false
		}
	}
	if !ok {
		// Connected, but the run ended before the update went out.
		cause := fromProbeCause(pr.Cause)
		c.fail(msDur(pr.DurationMS-connectedAt), probeExit(pr), "the connection ended before the update: "+cause.Message, cause)
		return true
	}
	if pr.Outcome == probe.OutcomeDenied {
		cause := fromProbeCause(pr.Cause)
		c.fail(msDur(pr.DurationMS-sent), exitFailed, "update rejected: "+cause.Message, cause)
		return true
	}
	// Answered with something other than 200 or 401, or not answered.
	for _, e := range pr.Events {
		if e.AtMS >= sent && e.Name == probe.EventConnectionError {
			cause := &checkCause{Kind: string(probe.CauseProtocol), HTTPStatus: e.HTTPStatus, TwilioError: e.TwilioError,
				Message: e.Message, Hint: "the server did not take the fresh token; the SDK keeps the old one until it expires"}
			c.fail(msDur(e.AtMS-sent), exitFailed, e.Message, cause)
			return false
		}
	}
	cause := fromProbeCause(pr.Cause)
	c.fail(msDur(pr.DurationMS-sent), probeExit(pr), "no answer to update: "+cause.Message, cause)
	return true
}

// innerAt finds when the run entered inner state s at or after from: the
// first such time, or the last when last is set.
func innerAt(pr *probe.Report, s probe.Inner, from float64, last bool) (float64, bool) {
	at, found := 0.0, false
	for _, ch := range pr.InnerStates {
		if ch.State != s || ch.AtMS < from {
			continue
		}
		at, found = ch.AtMS, true
		if !last {
			break
		}
	}
	return at, found
}

func reconnectsBefore(pr *probe.Report, at float64) int {
	n := 0
	for _, ch := range pr.InnerStates {
		if ch.AtMS > at {
			break
		}
		if ch.State == probe.InnerRetrying {
			n++
		}
	}
	return min(n, len(pr.Reconnects))
}

// probeExit is the exit code a failed connection check stands for, as
// `convctl connect` decides it: could not finish, or failed.
func probeExit(pr *probe.Report) int {
	switch {
	case pr.Interrupted:
		return exitCannotFinish
	case pr.Outcome == probe.OutcomeTimeout || pr.Outcome == probe.OutcomeUnreachable:
		return exitCannotFinish
	case pr.Cause != nil && (pr.Cause.Kind == probe.CauseProtocol || pr.Cause.Kind == probe.CauseTimeout):
		return exitCannotFinish
	}
	return exitFailed
}

func fromProbeCause(c *probe.Cause) *checkCause {
	if c == nil {
		return &checkCause{Kind: "unknown", Message: "the run ended without saying why"}
	}
	return &checkCause{Kind: string(c.Kind), HTTPStatus: c.HTTPStatus, TwilioError: c.TwilioError,
		Message: c.Message, Hint: c.Hint, Phase: string(c.Phase)}
}

// ---------------------------------------------------------------------------
// The local server (--local).

type checkServer struct {
	emu  *emulator.Server
	http *http.Server
	url  string
	done chan struct{}
}

func startCheckServer(cfg emulator.Config) (*checkServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("--local: starting the local server: %w", err)
	}
	s := &checkServer{emu: emulator.New(cfg), done: make(chan struct{}),
		url: "ws://" + ln.Addr().String() + emulator.PathWS}
	s.http = &http.Server{Handler: s.emu, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln) // http.ErrServerClosed once stopped
	}()
	return s, nil
}

// stop closes every connection, then the listener, and waits for both.
func (s *checkServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = s.emu.Shutdown(ctx)
	_ = s.http.Shutdown(ctx)
	<-s.done
}

// ---------------------------------------------------------------------------
// Progress on stderr: one line, rewritten, for a person at a terminal.

type checkProgress struct {
	on    bool
	w     io.Writer
	cs    *ColorScheme
	shown bool
}

func newCheckProgress(io *IOStreams) *checkProgress {
	return &checkProgress{on: io.IsStderrTTY(), w: io.ErrOut, cs: io.ErrColorScheme()}
}

func (p *checkProgress) show(name, what string) {
	if !p.on {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s %s %s", p.cs.Cyan("…"), p.cs.Bold(name), p.cs.Dim(what))
	p.shown = true
}

func (p *checkProgress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

// observe follows the probe run. It is called from Run's goroutine only.
func (p *checkProgress) observe(opts *CheckOptions) func(probe.Update) {
	return func(u probe.Update) {
		switch u.Kind {
		case probe.UpdateRetry:
			p.show(checkConnect, fmt.Sprintf("retry %d in %s: %s", u.Reconnect.Attempt, checkDurText(u.Duration), u.Reconnect.Error))
		case probe.UpdateState:
			switch u.Inner {
			case probe.InnerConnecting:
				p.show(checkConnect, "connecting")
			case probe.InnerInitialising:
				p.show(checkConnect, "initialising")
			case probe.InnerUpdating:
				p.show(checkTokenUpdate, "sending update")
			case probe.InnerConnected:
				if opts.Hold > 0 {
					p.show(checkHold, "connected, holding for "+opts.Hold.String())
				} else {
					p.show(checkConnect, "connected")
				}
			case probe.InnerDisconnecting:
				p.show(checkDisconnect, "disconnecting")
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Text report.

func renderCheckText(w io.Writer, cs *ColorScheme, tty bool, rep *checkReport) {
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range rep.Checks {
		mark := checkMark(cs, tty, c.Status)
		dur := "-"
		if c.Status != checkSkip {
			dur = checkDurText(msDur(c.DurationMS))
		}
		msg := c.Message
		if c.Status == checkSkip {
			msg = cs.Dim(msg)
		}
		fmt.Fprintf(w, "%s %-*s %9s  %s\n", mark, width, c.Name, dur, msg)
	}

	var failed, passed, skipped int
	for _, c := range rep.Checks {
		switch c.Status {
		case checkFail:
			failed++
		case checkPass:
			passed++
		default:
			skipped++
		}
	}
	for _, c := range rep.Checks {
		if c.Status != checkFail || c.Cause == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s %s\n", cs.Bold(c.Name+":"), cs.Red(causeHead(c.Cause)))
		fmt.Fprintf(w, "  %s\n", c.Cause.Message)
		if c.Cause.Hint != "" {
			fmt.Fprintf(w, "  %s %s\n", cs.Bold("hint:"), c.Cause.Hint)
		}
	}
	if pr := rep.Connection; pr != nil && len(pr.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, s := range pr.Warnings {
			fmt.Fprintf(w, "%s %s\n", cs.Yellow("warning:"), s)
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed, %d skipped", passed, failed, skipped)
	if failed > 0 {
		fmt.Fprintf(w, "\n%s %s\n", cs.Red("FAIL"), summary)
	} else {
		fmt.Fprintf(w, "\n%s %s\n", cs.Green("ok"), summary)
	}
}

func checkMark(cs *ColorScheme, tty bool, s checkStatus) string {
	switch {
	case tty && s == checkPass:
		return cs.Green("✓")
	case tty && s == checkFail:
		return cs.Red("✗")
	case tty:
		return cs.Dim("-")
	case s == checkPass:
		return "PASS"
	case s == checkFail:
		return "FAIL"
	}
	return "SKIP"
}

// causeHead is a cause's kind with its codes: "token_rejected (HTTP 401, Twilio error 20107)".
func causeHead(c *checkCause) string {
	var codes []string
	if c.HTTPStatus != nil {
		codes = append(codes, "HTTP "+strconv.Itoa(*c.HTTPStatus))
	}
	if c.TwilioError != nil {
		codes = append(codes, "Twilio error "+strconv.Itoa(*c.TwilioError))
	}
	if c.Phase != "" {
		codes = append(codes, "phase "+c.Phase)
	}
	if len(codes) == 0 {
		return c.Kind
	}
	return c.Kind + " (" + strings.Join(codes, ", ") + ")"
}

// checkMS is a duration in milliseconds, to the microsecond, as the probe reports them.
func checkMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// checkDurText is fmtDur, except that a step too quick to show in tenths
// of a millisecond says so rather than "0.0ms".
func checkDurText(d time.Duration) string {
	if d > 0 && d < 50*time.Microsecond {
		return "<0.1ms"
	}
	return fmtDur(d)
}

// ---------------------------------------------------------------------------
// JUnit XML, in the shape GitHub Actions reporters, GitLab and Jenkins read:
// <testsuites> around one <testsuite>, a <testcase> per check, time in
// seconds, <failure message type> with the hint in its body, <skipped/>.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// The bodies are CDATA so that their line breaks stay line breaks in the
// file, for a person reading it raw.
type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

const junitSuiteName = "convctl check"

func checkJUnit(rep *checkReport) *junitSuites {
	s := junitSuite{Name: junitSuiteName, Timestamp: rep.Started.UTC().Format(time.RFC3339)}
	var total float64
	for _, c := range rep.Checks {
		jc := junitCase{Name: c.Name, Classname: "convctl.check", Time: junitSeconds(c.DurationMS)}
		total += c.DurationMS
		switch c.Status {
		case checkFail:
			s.Failures++
			f := &junitFailure{Message: c.Message, Type: "fail"}
			if c.Cause != nil {
				f.Type = c.Cause.Kind
				body := causeHead(c.Cause) + "\n" + c.Cause.Message
				if c.Cause.Hint != "" {
					body += "\nhint: " + c.Cause.Hint
				}
				f.Body = junitClean(body)
			}
			jc.Failure = f
		case checkSkip:
			s.Skipped++
			jc.Skipped = &junitSkipped{Message: c.Message}
		default:
			jc.SystemOut = &junitText{Text: junitClean(c.Message)}
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	s.Time = junitSeconds(total)
	if pr := rep.Connection; pr != nil {
		s.Properties = append(s.Properties, junitProperty{Name: "url", Value: pr.URL},
			junitProperty{Name: "outcome", Value: string(pr.Outcome)})
	}
	s.Properties = append(s.Properties, junitProperty{Name: "local", Value: strconv.FormatBool(rep.Local)})
	return &junitSuites{Name: junitSuiteName, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped,
		Time: s.Time, Suites: []junitSuite{s}}
}

// junitClean replaces what XML 1.0 cannot carry (most control characters)
// with U+FFFD: encoding/xml does that for attributes, not for CDATA, and
// one stray byte from a token's identity would make the file unreadable.
func junitClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

func junitSeconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

// writeCheckJUnit writes the report as JUnit XML to path ("" writes nothing).
func writeCheckJUnit(path string, rep *checkReport) error {
	if path == "" {
		return nil
	}
	b, err := xml.MarshalIndent(checkJUnit(rep), "", "  ")
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	b = append([]byte(xml.Header), b...)
	b = append(b, '\n')
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("--junit: cannot write the report: %w", err)
	}
	return nil
}
