package cli

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convctl/convctl/pkg/probe"
)

// ---- the text report of `convctl connect` ----------------------------------

// renderConnectText writes a probe report as a person reads it: the
// verdict, the token, the timeline, the reconnects, the phases of one
// attempt, and why the run ended as it did.
func renderConnectText(w io.Writer, cs *ColorScheme, rep *probe.Report, expect probe.Outcome) {
	label := func(s string) string { return cs.Bold(fmt.Sprintf("%-11s", s)) }
	fmt.Fprintf(w, "%s %s\n", label("URL"), peerText(rep.URL))
	fmt.Fprintf(w, "%s %s\n", label("Outcome"), outcomeText(cs, rep.Outcome, expect))
	if t := rep.Token; t != nil {
		fmt.Fprintf(w, "%s %s\n", label("Token"), tokenInfoText(t))
	}
	writeTimeline(w, cs, rep)
	writeReconnects(w, cs, rep)
	writePhases(w, cs, rep)
	writeNetwork(w, cs, rep.Network, rep.Cause)
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
		writeCause(w, cs, "", label("Cause"), c)
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintln(w, cs.Bold("Warnings"))
		for _, s := range rep.Warnings {
			fmt.Fprintf(w, "  %s %s\n", cs.Yellow("!"), peerText(s))
		}
	}
}

// tokenInfoText is what the probe read from its token, on one line.
func tokenInfoText(t *probe.TokenInfo) string {
	var parts []string
	if t.Identity != "" {
		parts = append(parts, "identity "+safeText(t.Identity))
	}
	if t.ExpiresAt != nil {
		parts = append(parts, "expires "+t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if t.Region != "" {
		parts = append(parts, "region "+safeText(t.Region))
	}
	if t.Signature == "unchecked" {
		parts = append(parts, "signature not verified (no secret given)")
	} else {
		parts = append(parts, "signature "+t.Signature)
	}
	if t.Renewals > 0 {
		parts = append(parts, "renewed "+plural(t.Renewals, "time"))
	}
	return strings.Join(parts, ", ")
}

// writeTimeline merges public states and events in time order.
func writeTimeline(w io.Writer, cs *ColorScheme, rep *probe.Report) {
	type entry struct {
		at   float64
		text string
	}
	var tl []entry
	for _, s := range rep.States {
		tl = append(tl, entry{s.AtMS, paintState(cs, s.State)})
	}
	for _, e := range rep.Events {
		tl = append(tl, entry{e.AtMS, "· " + cs.Cyan(e.Name) + eventDetail(e)})
	}
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].at < tl[j].at })
	fmt.Fprintln(w, cs.Bold("Timeline"))
	for _, e := range tl {
		fmt.Fprintf(w, "  %10s  %s\n", fmtAt(e.at), e.text)
	}
}

// eventDetail is an event's facts in parentheses, or "".
func eventDetail(e probe.Event) string {
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
		det = append(det, peerText(e.Message))
	}
	if e.Count > 1 {
		rep := fmt.Sprintf("×%d", e.Count)
		if e.LastAtMS != nil {
			rep += ", last at " + fmtAt(*e.LastAtMS)
		}
		det = append(det, rep)
	}
	if len(det) == 0 {
		return ""
	}
	return " (" + strings.Join(det, ", ") + ")"
}

func writeReconnects(w io.Writer, cs *ColorScheme, rep *probe.Report) {
	if len(rep.Reconnects) == 0 {
		return
	}
	fmt.Fprintln(w, cs.Bold("Reconnects"))
	for _, r := range rep.Reconnects {
		fmt.Fprintf(w, "  %d  after %s: %s\n", r.Attempt, fmtMS(r.DelayMS), peerText(r.Error))
	}
}

// writePhases shows the timing of one attempt, and which one when there
// were several: the first that connected, or else the last.
func writePhases(w io.Writer, cs *ColorScheme, rep *probe.Report) {
	head := "Phases"
	if rep.Attempts > 1 {
		if at, ok := innerAt(rep, probe.InnerConnected, 0, false); ok {
			head += fmt.Sprintf(" (attempt %d of %d, the first to connect)", reconnectsBefore(rep, at)+1, rep.Attempts)
		} else {
			head += fmt.Sprintf(" (attempt %d of %d, the last)", rep.Attempts, rep.Attempts)
		}
	}
	fmt.Fprintln(w, cs.Bold(head))
	tm := rep.Timing
	for _, p := range []struct {
		name string
		v    *float64
	}{{"dns", tm.DNS}, {"tcp", tm.TCP}, {"proxy", tm.Proxy}, {"tls", tm.TLS}, {"upgrade", tm.Upgrade}, {"init", tm.Init}, {"connected", tm.Connected}} {
		if p.name == "proxy" && p.v == nil {
			continue // shown only when a proxy carried the connection
		}
		val := "-"
		if p.v != nil {
			val = fmtMS(*p.v)
		}
		fmt.Fprintf(w, "  %-10s %10s\n", p.name, val)
	}
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

// reconnectsBefore counts the retries a run made before at.
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

// ---- live progress of `convctl connect` ------------------------------------

// liveView prints a line per public state change, retry and event on
// stderr, and while holding keeps the status line rewritten with a
// countdown. It is silent unless stderr is a terminal; with --debug the log
// says it all.
type liveView struct {
	enabled bool
	line    *statusLine
	cs      *ColorScheme
	hold    time.Duration
	now     func() time.Time
	tick    time.Duration

	mu        sync.Mutex
	holdEnd   time.Time  // zero until first connected
	expiresAt *time.Time // the current token's
	connected bool
	stop      chan struct{}
	done      chan struct{}
}

func newLiveView(io *IOStreams, opts *ConnectOptions) *liveView {
	v := &liveView{
		enabled: io.IsStderrTTY() && !opts.Debug,
		line:    newStatusLine(io),
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
					v.line.show("  " + v.cs.Dim(v.countdownText(v.now())))
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
	v.line.clear()
}

// countdownText is the held line: time left to hold and to the token's expiry.
func (v *liveView) countdownText(now time.Time) string {
	s := "holding, " + shortDur(max(time.Until(v.holdEnd), 0).Round(time.Second)) + " left"
	if v.expiresAt != nil {
		s += " · token expires " + relTime(v.expiresAt.Sub(now))
	}
	return s
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
	if line, ok := updateLine(v.cs, u, v.now()); ok {
		v.line.println(fmt.Sprintf("%s %s", v.cs.Dim(fmt.Sprintf("%9s", fmtAt(ms(u.At)))), line))
	}
}

// updateLine narrates one probe update for a person watching: public state
// changes (with the inner state when it differs), retries, events and the
// token read. Inner transitions alone are left to --debug.
func updateLine(cs *ColorScheme, u probe.Update, now time.Time) (string, bool) {
	switch u.Kind {
	case probe.UpdateState:
		if !u.PublicChanged {
			return "", false
		}
		line := paintState(cs, u.State)
		if string(u.Inner) != string(u.State) {
			line += cs.Dim(" (" + string(u.Inner) + ")")
		}
		return line, true
	case probe.UpdateRetry:
		return retryText(u), true
	case probe.UpdateEvent:
		line := "event " + cs.Cyan(u.Event.Name)
		if u.Event.Message != "" {
			line += ": " + peerText(u.Event.Message)
		}
		return line, true
	case probe.UpdateToken:
		line := "token"
		if u.Token.Identity != "" {
			line += " for " + safeText(u.Token.Identity)
		}
		if u.Token.ExpiresAt != nil {
			line += ", expires " + relTime(u.Token.ExpiresAt.Sub(now))
		}
		return line, true
	}
	return "", false
}

// retryText is a retry as every progress display words it.
func retryText(u probe.Update) string {
	return fmt.Sprintf("retry %d in %s: %s", u.Reconnect.Attempt, fmtDur(u.Duration), peerText(u.Reconnect.Error))
}
