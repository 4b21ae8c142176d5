package cli

import (
	"fmt"
	"io"

	"github.com/convctl/convctl/pkg/probe"
)

// ---- the text report of `convctl check` ------------------------------------

func renderCheckText(w io.Writer, cs *ColorScheme, tty bool, rep *checkReport) {
	width := 0
	for _, c := range rep.Checks {
		width = max(width, len(c.Name))
	}
	var failed, passed, skipped int
	for _, c := range rep.Checks {
		dur, msg := "-", peerText(c.Message)
		switch c.Status {
		case checkFail:
			failed++
			dur = fmtMS(c.DurationMS)
		case checkPass:
			passed++
			dur = fmtMS(c.DurationMS)
		default:
			skipped++
			msg = cs.Dim(msg)
		}
		fmt.Fprintf(w, "%s %-*s %9s  %s\n", mark(cs, tty, c.Status == checkPass, c.Status == checkSkip), width, c.Name, dur, msg)
	}
	for _, c := range rep.Checks {
		if c.Status == checkFail && c.Cause != nil {
			fmt.Fprintln(w)
			writeCause(w, cs, "", cs.Bold(c.Name+":"), c.Cause)
		}
	}
	if pr := rep.Connection; pr != nil && pr.Network != nil {
		if s := proxySummary(pr.Network); s != "" || pr.Network.TLS != nil {
			fmt.Fprintln(w)
		}
		if s := proxySummary(pr.Network); s != "" {
			fmt.Fprintf(w, "%s %s\n", cs.Bold("proxy:"), s)
		}
		if t := pr.Network.TLS; t != nil {
			fmt.Fprintf(w, "%s %s\n", cs.Bold("tls:"), tlsSummary(t))
		}
	}
	if pr := rep.Connection; pr != nil && len(pr.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, s := range pr.Warnings {
			fmt.Fprintf(w, "%s %s\n", cs.Yellow("warning:"), peerText(s))
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed, %d skipped", passed, failed, skipped)
	if failed > 0 {
		fmt.Fprintf(w, "\n%s %s\n", cs.Red("FAIL"), summary)
	} else {
		fmt.Fprintf(w, "\n%s %s\n", cs.Green("ok"), summary)
	}
}

// ---- progress of `convctl check` -------------------------------------------

// checkProgress shows the check running now on the status line.
type checkProgress struct {
	line *statusLine
	cs   *ColorScheme
}

func newCheckProgress(io *IOStreams) *checkProgress {
	return &checkProgress{line: newStatusLine(io), cs: io.ErrColorScheme()}
}

func (p *checkProgress) show(name, what string) {
	p.line.show(fmt.Sprintf("%s %s %s", p.cs.Cyan("…"), p.cs.Bold(name), p.cs.Dim(what)))
}

func (p *checkProgress) clear() { p.line.clear() }

// observe follows the probe run. It is called from Run's goroutine only.
func (p *checkProgress) observe(opts *CheckOptions) func(probe.Update) {
	return func(u probe.Update) {
		switch u.Kind {
		case probe.UpdateRetry:
			p.show(checkConnect, retryText(u))
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
