package cli

// The render layer: every word, number and byte a report shows a person or
// a script is chosen here, once. Command files parse flags into Options, run
// a pkg function and hand its facts to a render function; they never format
// a duration, a cause or a state themselves, and never write JSON.

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/convctl/convctl/pkg/probe"
)

// writeJSON writes v as indented JSON and a newline: the form of every
// report. No HTML escaping: hints say "Console > Conversations", not
// "Console \u003e Conversations".
func writeJSON(w io.Writer, v any) error { return encodeJSON(w, v, "  ") }

// writeJSONLine writes v as one compact JSON line: the form of reports that
// follow one another on stdout (netcheck --every).
func writeJSONLine(w io.Writer, v any) error { return encodeJSON(w, v, "") }

// encodeJSON is the one JSON writer of every report, HTML escaping off.
func encodeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return cannotFinish(fmt.Errorf("writing the report: %w", err))
	}
	return nil
}

// ---- durations -------------------------------------------------------------

// ms is a duration in milliseconds, to the microsecond, as reports carry them.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// msDur turns a report's milliseconds back into a duration.
func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// fmtMS shows milliseconds as a person reads a measurement: 0.4ms, 41.2ms,
// 1.043s. A positive value too small for tenths says "<0.1ms", not "0.0ms".
func fmtMS(v float64) string {
	switch {
	case v >= 1000 || v <= -1000:
		return strconv.FormatFloat(v/1000, 'f', 3, 64) + "s"
	case v > 0 && v < 0.05:
		return "<0.1ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
}

// fmtDur is fmtMS for a duration.
func fmtDur(d time.Duration) string { return fmtMS(ms(d)) }

// fmtAt is a timeline offset from the start of a run: "+0.0ms", "+41.2ms".
func fmtAt(atMS float64) string {
	if atMS >= 1000 {
		return "+" + strconv.FormatFloat(atMS/1000, 'f', 3, 64) + "s"
	}
	return "+" + strconv.FormatFloat(atMS, 'f', 1, 64) + "ms"
}

// shortDur shows a span of time as a person says it, keeping the two
// largest units: 45s, 3m, 3m20s, 2h5m, 41d16h. Negative spans keep their sign.
func shortDur(d time.Duration) string {
	if d < 0 {
		return "-" + shortDur(-d)
	}
	d = d.Truncate(time.Second)
	two := func(a int64, ua string, b int64, ub string) string {
		if b == 0 {
			return fmt.Sprintf("%d%s", a, ua)
		}
		return fmt.Sprintf("%d%s%d%s", a, ua, b, ub)
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int64(d/time.Second))
	case d < time.Hour:
		return two(int64(d/time.Minute), "m", int64(d%time.Minute/time.Second), "s")
	case d < 48*time.Hour:
		return two(int64(d/time.Hour), "h", int64(d%time.Hour/time.Minute), "m")
	}
	return two(int64(d/(24*time.Hour)), "d", int64(d%(24*time.Hour)/time.Hour), "h")
}

// relTime says how far a time is from a reference moment: "in 59m", "3m ago", "now".
func relTime(d time.Duration) string {
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + shortDur(d)
	}
	return shortDur(-d) + " ago"
}

// absTime is a moment in UTC, to the second.
func absTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// plural counts a thing: "1 warning", "3 warnings".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ---- peer text -------------------------------------------------------------

// peerText makes a string that came from a peer (a server's status text or
// error, a token claim, a proxy's header) safe to print on a terminal: shown
// as is when every rune is printable, quoted with Go escapes otherwise, so
// no peer can move the cursor, clear the screen or retitle the window.
func peerText(s string) string {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// safeText is peerText for a value shown on one short line (a token's
// claims): cut at 120 characters first.
func safeText(s string) string {
	const max = 120
	if utf8.RuneCountInString(s) > max {
		n := 0
		for i := range s {
			if n == max {
				s = s[:i] + "…"
				break
			}
			n++
		}
	}
	return peerText(s)
}

// ---- states, outcomes, causes ----------------------------------------------

// paintState colors a public connection state.
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

// outcomeText is a run's outcome, green when it is what was expected and
// red, naming the expectation, when it is not.
func outcomeText(cs *ColorScheme, got, expect probe.Outcome) string {
	switch {
	case got == expect:
		return cs.Green(string(got))
	case got == probe.OutcomeConnected || got == probe.OutcomeDenied:
		return cs.Red(string(got)) + " (expected " + string(expect) + ")"
	}
	return cs.Red(string(got))
}

// causeHead is a cause's kind with its codes: "token_rejected (HTTP 401,
// Twilio error 20107, phase init)".
func causeHead(c *probe.Cause) string {
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
	if len(codes) == 0 {
		return string(c.Kind)
	}
	return string(c.Kind) + " (" + strings.Join(codes, ", ") + ")"
}

// writeCause writes the cause block every report shares: indent and
// title, the head, then the message and the hint two spaces further in.
func writeCause(w io.Writer, cs *ColorScheme, indent, title string, c *probe.Cause) {
	fmt.Fprintf(w, "%s%s %s\n", indent, title, cs.Red(causeHead(c)))
	fmt.Fprintf(w, "%s  %s\n", indent, peerText(c.Message))
	if c.Hint != "" {
		fmt.Fprintf(w, "%s  %s %s\n", indent, cs.Bold("hint:"), peerText(c.Hint))
	}
	if t := causeFlags(c); t != "" {
		fmt.Fprintf(w, "%s  %s %s\n", indent, cs.Bold("try:"), t)
	}
}

// causeFlags words a cause's facts as the flags that act on them; the
// probe's hint says what to change, never which flag to pass.
func causeFlags(c *probe.Cause) string {
	if m := c.RegionMismatch; m != nil {
		return fmt.Sprintf("--region %s (the token's region), or mint the token with 'convctl token mint --region %s'",
			peerText(m.Token), peerText(m.URL))
	}
	return ""
}

// causeText is a cause as plain lines, for a JUnit failure body.
func causeText(c *probe.Cause) string {
	s := causeHead(c) + "\n" + c.Message
	if c.Hint != "" {
		s += "\nhint: " + c.Hint
	}
	if t := causeFlags(c); t != "" {
		s += "\ntry: " + t
	}
	return s
}

// mark is a verdict's sign: a check mark on a terminal, a word on a pipe.
func mark(cs *ColorScheme, tty bool, ok bool, skipped bool) string {
	switch {
	case tty && skipped:
		return cs.Dim("-")
	case tty && ok:
		return cs.Green("✓")
	case tty:
		return cs.Red("✗")
	case skipped:
		return "SKIP"
	case ok:
		return "PASS"
	}
	return "FAIL"
}
