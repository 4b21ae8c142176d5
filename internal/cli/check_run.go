package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
)

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

// Cause kinds of check's own, beside the probe's and the token findings' codes.
const (
	causeInput       probe.CauseKind = "input"        // a flag or file that could not be used
	causeTokenSource probe.CauseKind = "token_source" // the token source failed
	causeUnknown     probe.CauseKind = "unknown"      // the run ended without saying why
)

// checkResult is one check's line in every output format. A cause is a
// probe.Cause; for token.inspect its kind is the finding's code, for the
// token source "token_source".
type checkResult struct {
	Name       string       `json:"name"`
	Status     checkStatus  `json:"status"`
	DurationMS float64      `json:"duration_ms"`
	Message    string       `json:"message"`
	Cause      *probe.Cause `json:"cause,omitempty"`

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
	// Network is the connection's path (connection.network, repeated at
	// the top for scripts): the proxy and its answer, addresses, TLS verdict.
	Network *netpath.Path `json:"network"`

	Started time.Time `json:"-"`
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
			r.Checks[i].skip(why)
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
	c.Status, c.DurationMS, c.Message = checkPass, ms(d), msg
}

func (c *checkResult) fail(d time.Duration, exit int, msg string, cause *probe.Cause) {
	c.Status, c.DurationMS, c.Message, c.exit, c.Cause = checkFail, ms(d), msg, exit, cause
}

// failRun fails c for the way the probe run ended, with its cause and the
// exit code connect would give the same run.
func (c *checkResult) failRun(d time.Duration, pr *probe.Report, what string) {
	cause := runCause(pr)
	code := runExitCode(pr, probe.OutcomeConnected)
	if code == exitOK {
		code = exitFailed // the run went well, but not this check
	}
	c.fail(d, code, what+cause.Message, cause)
}

func (c *checkResult) skip(msg string) { c.Status, c.Message = checkSkip, msg }

// runCause is the run's cause, never nil.
func runCause(pr *probe.Report) *probe.Cause {
	if pr.Cause == nil {
		return &probe.Cause{Kind: causeUnknown, Message: "the run ended without saying why"}
	}
	c := *pr.Cause
	return &c
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
		cause := &probe.Cause{Kind: causeTokenSource, Message: err.Error()}
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
		c.fail(d, exitFailed, msg, &probe.Cause{Kind: probe.CauseKind(f.Code), TwilioError: f.TwilioError, Message: f.Message, Hint: f.Hint})
		rep.skipRest("not run: " + checkTokenInspect + " failed")
		return false
	}
	c.pass(d, inspectSummary(ir))
	return true
}

// inspectSummary is a valid token on one line: who, what, how long, and
// whether its signature was checked.
func inspectSummary(ir *inspect.Report) string {
	var parts []string
	if ir.Identity != "" {
		parts = append(parts, "identity "+ir.Identity)
	}
	if len(ir.Grants) > 0 {
		parts = append(parts, "grants "+strings.Join(ir.Grants, ","))
	}
	if ir.ExpiresInSeconds != nil {
		parts = append(parts, "expires "+relTime(time.Duration(*ir.ExpiresInSeconds)*time.Second))
	}
	if ir.Signature == inspect.SignatureVerified {
		parts = append(parts, "signature verified")
	} else {
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
	return msg
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
		srv, err := startLocalServer(emulator.Config{Secret: opts.Secret, Product: opts.Product, Clock: opts.Now})
		if err != nil {
			return cannotFinish(fmt.Errorf("--local: %w", err))
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
	if err := probeNetwork(&cfg, opts.Net, opts.tune); err != nil {
		return err
	}
	prog.show(checkConnect, "connecting to "+safeURL(target))
	pr, err := probe.Run(ctx, cfg)
	if err != nil {
		var tooLarge *probe.TokenTooLargeError
		if errors.As(err, &tooLarge) {
			return asUsage(tokenTooLarge(tooLarge))
		}
		if errors.Is(err, probe.ErrConfig) {
			return asUsage(err)
		}
		return cannotFinish(err)
	}
	pr.URL = safeURL(pr.URL)
	rep.Connection = pr
	rep.Network = pr.Network
	judgeConnection(opts, rep, pr, note)
	return nil
}

// judgeConnection reads one probe report as the four connection checks.
func judgeConnection(opts *CheckOptions, rep *checkReport, pr *probe.Report, note string) {
	conn := rep.get(checkConnect)
	connectedAt, ok := innerAt(pr, probe.InnerConnected, 0, false)
	if !ok {
		conn.failRun(msDur(pr.DurationMS), pr, string(pr.Outcome)+": ")
		rep.skipRest("not run: " + checkConnect + " failed")
		return
	}
	msg := "connected to " + pr.URL + note
	if s := proxySummary(pr.Network); s != "" && pr.Network.Proxy != nil {
		msg += " through proxy " + s
	}
	if pr.Network != nil && pr.Network.TLS != nil {
		msg += "; TLS " + tlsSummary(pr.Network.TLS)
	}
	if n := reconnectsBefore(pr, connectedAt); n > 0 {
		msg += " after " + plural(n, "reconnect")
	}
	conn.pass(msDur(connectedAt), msg)

	ended := false // a check already failed for the way the connection ended
	if opts.UpdateToken {
		ended = judgeUpdate(rep.get(checkTokenUpdate), pr, connectedAt)
	} else {
		rep.get(checkTokenUpdate).skip("not asked for (--update-token)")
	}
	ended = judgeHold(opts, rep.get(checkHold), pr, connectedAt, ended)
	judgeDisconnect(rep.get(checkDisconnect), pr, connectedAt, ended)
}

// cleanEnd is when the run's own clean end began and finished: our
// disconnecting, then disconnected. ok is false when the run did not end so.
func cleanEnd(pr *probe.Report) (discAt, discEnd float64, ok bool) {
	if pr.Outcome != probe.OutcomeConnected {
		return 0, 0, false
	}
	discAt, _ = innerAt(pr, probe.InnerDisconnecting, 0, true)
	discEnd, _ = innerAt(pr, probe.InnerDisconnected, 0, true)
	return discAt, discEnd, true
}

// judgeHold fills hold and reports whether the connection has ended in a
// failed check. An interrupt during the hold ends it early and cleanly, as
// in connect: the hold passes, saying so.
func judgeHold(opts *CheckOptions, c *checkResult, pr *probe.Report, connectedAt float64, ended bool) bool {
	discAt, _, clean := cleanEnd(pr)
	held := msDur(discAt - connectedAt)
	switch {
	case opts.Hold <= 0:
		c.skip("not asked for (--hold)")
	case ended:
		c.skip("not run: the connection ended at " + checkTokenUpdate)
	case clean && pr.Interrupted && held+time.Millisecond < opts.Hold:
		c.pass(held, fmt.Sprintf("ended early by an interrupt after %s of %s; closed cleanly", fmtDur(held), opts.Hold))
	case clean && held+time.Millisecond < opts.Hold:
		msg := fmt.Sprintf("held %s of %s: --timeout %v ended the run", fmtDur(held), opts.Hold, opts.Timeout)
		c.fail(held, exitCannotFinish, msg, &probe.Cause{Kind: probe.CauseTimeout, Message: msg,
			Hint: "the connection came up late (see its reconnects); raise --timeout or shorten --hold"})
		return true
	case clean:
		msg := "stayed connected for " + opts.Hold.String()
		if n := len(pr.Reconnects) - reconnectsBefore(pr, connectedAt); n > 0 {
			msg += ", reconnecting " + plural(n, "time")
		}
		if n := len(pr.PingsMS); n > 0 {
			msg += ", " + plural(n, "ping") + " answered"
		}
		c.pass(held, msg)
	default:
		c.failRun(msDur(pr.DurationMS-connectedAt), pr, string(pr.Outcome)+" while holding: ")
		return true
	}
	return ended
}

func judgeDisconnect(c *checkResult, pr *probe.Report, connectedAt float64, ended bool) {
	discAt, discEnd, clean := cleanEnd(pr)
	switch {
	case clean:
		c.pass(msDur(discEnd-discAt), "closed cleanly: client close, then WebSocket close")
	case ended:
		c.skip("not run: the connection had already ended")
	default:
		c.failRun(msDur(pr.DurationMS-connectedAt), pr, string(pr.Outcome)+" before disconnecting: ")
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
			c.fail(msDur(e.AtMS-connectedAt), exitFailed, msg, &probe.Cause{Kind: causeTokenSource, Message: e.Message,
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
		c.failRun(msDur(pr.DurationMS-connectedAt), pr, "the connection ended before the update: ")
		return true
	}
	if pr.Outcome == probe.OutcomeDenied {
		cause := runCause(pr)
		c.fail(msDur(pr.DurationMS-sent), exitFailed, "update rejected: "+cause.Message, cause)
		return true
	}
	// Answered with something other than 200 or 401, or not answered.
	for _, e := range pr.Events {
		if e.AtMS >= sent && e.Name == probe.EventConnectionError {
			cause := &probe.Cause{Kind: probe.CauseProtocol, HTTPStatus: e.HTTPStatus, TwilioError: e.TwilioError,
				Message: e.Message, Hint: "the server did not take the fresh token; the SDK keeps the old one until it expires"}
			c.fail(msDur(e.AtMS-sent), exitFailed, e.Message, cause)
			return false
		}
	}
	c.failRun(msDur(pr.DurationMS-sent), pr, "no answer to update: ")
	return true
}
