package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/convctl/convctl/pkg/netcheck"
	"github.com/convctl/convctl/pkg/netpath"
)

// ---- the text report of `convctl netcheck` ---------------------------------

// renderNetcheckText writes one round as a person reads it: a line per
// endpoint, the warnings, and a verdict that says what to do.
func renderNetcheckText(w io.Writer, cs *ColorScheme, tty bool, rep *netcheck.Report) {
	phases := netcheckPhases(rep.Endpoints)
	t := &table{}
	head := []cell{{}, {text: "ENDPOINT"}, {text: "PROTO"}, {text: "ADDRESS"}}
	for _, p := range phases {
		head = append(head, cell{text: strings.ToUpper(p)})
	}
	head = append(head, cell{text: "STATUS"})
	for i := range head {
		head[i].paint = cs.Dim
	}
	head[0].text = strings.Repeat(" ", markWidth(tty))
	t.add(head...)
	for _, r := range rep.Endpoints {
		row := []cell{
			{text: markPlain(tty, r.OK), paint: func(string) string { return mark(cs, tty, r.OK, false) }},
			{text: peerText(r.Host)},
			{text: r.Protocol},
			{text: addressText(r)},
		}
		for _, p := range phases {
			v := "-"
			if d := r.Timing.Get(p); d != nil {
				v = fmtMS(*d)
			}
			row = append(row, cell{text: v})
		}
		st := cell{text: statusText(r)}
		if !r.OK {
			st.paint = cs.Red
		}
		if !r.Required {
			st.text += "  (informative)"
			if r.OK {
				st.paint = cs.Dim
			}
		}
		row = append(row, st)
		t.add(row...)
	}
	t.write(w)

	writeNetcheckWarnings(w, cs, rep)
	writeNetcheckVerdict(w, cs, rep)
}

// netcheckPhases are the phases any endpoint went through, in the order a
// connection takes them: the timing columns worth showing.
func netcheckPhases(rs []*netcheck.Result) []string {
	var out []string
	for _, p := range netcheck.Phases {
		for _, r := range rs {
			if r.Timing.Get(p) != nil {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// addressText is the address that carried the connection, "via proxy",
// the first one tried when none answered, or "-".
func addressText(r *netcheck.Result) string {
	if r.Proxy != nil {
		return "via proxy"
	}
	if a := (&netpath.Path{Addresses: r.Addresses}).Used(); a != nil {
		return peerText(a.Address)
	}
	switch n := len(r.Addresses); {
	case n == 1:
		return peerText(r.Addresses[0].Address)
	case n > 1:
		return peerText(r.Addresses[0].Address) + " +" + strconv.Itoa(n-1)
	}
	return "-"
}

// statusText is an endpoint's answer (HTTP 101, HTTP 404) or, when it
// failed, what failed with the status that came, if any.
func statusText(r *netcheck.Result) string {
	if r.OK {
		if r.HTTPStatus != nil {
			return "HTTP " + strconv.Itoa(*r.HTTPStatus)
		}
		return "ok"
	}
	s := r.Kind
	switch {
	case r.HTTPStatus != nil:
		s += " (HTTP " + strconv.Itoa(*r.HTTPStatus) + ")"
	case r.Proxy != nil && r.Proxy.ConnectStatus != nil && *r.Proxy.ConnectStatus/100 != 2:
		s += " (proxy " + strconv.Itoa(*r.Proxy.ConnectStatus) + ")"
	}
	return s
}

// warningGroup is the warnings of one kind and message, with the
// endpoints they were raised for.
type warningGroup struct {
	msg, hint string
	hosts     []string
}

// warningGroups folds warnings that say the same thing of several
// endpoints (an inspecting proxy re-signs every one) into one.
func warningGroups(ws []netcheck.Warning) []*warningGroup {
	var groups []*warningGroup
	for _, wn := range ws {
		var g *warningGroup
		for _, x := range groups {
			if x.msg == wn.Message && x.hint == wn.Hint {
				g = x
			}
		}
		if g == nil {
			g = &warningGroup{msg: wn.Message, hint: wn.Hint}
			groups = append(groups, g)
		}
		if wn.Host != "" {
			g.hosts = append(g.hosts, wn.Host)
		}
	}
	return groups
}

// writeNetcheckWarnings lists the warnings, each with the endpoints it
// applies to and what to do.
func writeNetcheckWarnings(w io.Writer, cs *ColorScheme, rep *netcheck.Report) {
	groups := warningGroups(rep.Warnings)
	if len(groups) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, cs.Bold("Warnings"))
	for _, g := range groups {
		fmt.Fprintf(w, "  %s %s\n", cs.Yellow("!"), peerText(g.msg))
		switch {
		case len(g.hosts) > 1 && len(g.hosts) == len(rep.Endpoints):
			fmt.Fprintln(w, "    on every endpoint")
		case len(g.hosts) > 0:
			fmt.Fprintf(w, "    on %s\n", peerText(strings.Join(g.hosts, ", ")))
		}
		if g.hint != "" {
			fmt.Fprintf(w, "    %s %s\n", cs.Bold("hint:"), peerText(g.hint))
		}
	}
}

// writeNetcheckVerdict says whether a client can work from here and, for
// each endpoint that failed, why and what to do.
func writeNetcheckVerdict(w io.Writer, cs *ColorScheme, rep *netcheck.Report) {
	req, opt := rep.Failed()
	total := 0
	for _, r := range rep.Endpoints {
		if r.Required {
			total++
		}
	}
	fmt.Fprintln(w)
	if len(req) == 0 {
		line := fmt.Sprintf("every required endpoint is reachable (%d of %d)", total, total)
		if n := len(warningGroups(rep.Warnings)); n > 0 {
			line += ", " + plural(n, "warning") + " above"
		}
		fmt.Fprintf(w, "%s %s\n", cs.Green("ok"), line)
	} else {
		var names []string
		for _, r := range req {
			names = append(names, r.Host)
		}
		verb := "is"
		if len(names) > 1 {
			verb = "are"
		}
		fmt.Fprintf(w, "%s %s %s not reachable (%d of %d required endpoints are)\n", cs.Red("FAIL"),
			peerText(strings.Join(names, ", ")), verb, total-len(req), total)
	}
	for _, r := range append(req, opt...) {
		label := "failed at " + r.Phase
		if !r.Required {
			label = "informative, " + label
		}
		fmt.Fprintf(w, "  %s (%s)\n", cs.Bold(peerText(r.Host)), label)
		if r.Error != nil {
			fmt.Fprintf(w, "    %s\n", peerText(*r.Error))
		}
		if r.Hint != nil {
			fmt.Fprintf(w, "    %s %s\n", cs.Bold("hint:"), peerText(*r.Hint))
		}
	}
	if len(req) > 0 {
		fmt.Fprintf(w, "  Ask IT to allow what failed; the list for the ticket: %s\n", allowlistCommand(rep.Region))
	}
}

// allowlistCommand is the command line that prints the allowlist of region.
func allowlistCommand(region string) string {
	if region == defaultRegion {
		return "convctl netcheck --allowlist"
	}
	return "convctl netcheck --allowlist --region " + region
}

// ---- --every: a line per round, then the summary ---------------------------

// renderNetcheckRound is one round of --every on one line, then a line per
// failed endpoint with its error.
func renderNetcheckRound(w io.Writer, cs *ColorScheme, tty bool, n int, rep *netcheck.Report) {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d  %s", n, rep.Started.Local().Format("15:04:05"))
	for _, r := range rep.Endpoints {
		b.WriteString("  " + mark(cs, tty, r.OK, false) + " " + shortHost(r.Host))
		if r.OK {
			b.WriteString(" " + fmtDur(r.Duration))
		} else {
			b.WriteString(" " + cs.Red(r.Kind))
		}
	}
	if len(rep.Warnings) > 0 {
		var codes []string
		for _, wn := range rep.Warnings {
			if !slices.Contains(codes, wn.Code) {
				codes = append(codes, wn.Code)
			}
		}
		b.WriteString("  " + cs.Yellow("! "+strings.Join(codes, ", ")))
	}
	fmt.Fprintln(w, b.String())
	for _, r := range rep.Endpoints {
		if !r.OK && r.Error != nil {
			fmt.Fprintf(w, "    %s: %s\n", peerText(r.Host), peerText(*r.Error))
		}
	}
}

// shortHost is a host's first label: tsock for tsock.us1.twilio.com.
func shortHost(h string) string {
	s, _, _ := strings.Cut(h, ".")
	return peerText(s)
}

// renderNetcheckSummary is the end of --every: each endpoint's success
// ratio and the p50/p95 of its whole check and of each phase.
func renderNetcheckSummary(w io.Writer, cs *ColorScheme, tty bool, sum *netcheck.Summary, failed int) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%s %s\n", cs.Bold("Summary of"), cs.Bold(plural(sum.Rounds, "round")))
	var phases []string
	for _, p := range netcheck.Phases {
		for _, e := range sum.Endpoints {
			if _, ok := e.Phases[p]; ok {
				phases = append(phases, p)
				break
			}
		}
	}
	t := &table{}
	head := []cell{{text: strings.Repeat(" ", markWidth(tty))}, {text: "ENDPOINT"}, {text: "ANSWERED"}, {text: "TOTAL p50/p95"}}
	for _, p := range phases {
		head = append(head, cell{text: strings.ToUpper(p) + " p50/p95"})
	}
	head = append(head, cell{text: "FAILURES"})
	for i := range head {
		head[i].paint = cs.Dim
	}
	t.add(head...)
	pair := func(p50, p95 float64) string { return fmtMS(p50) + " / " + fmtMS(p95) }
	for _, e := range sum.Endpoints {
		all := e.OK == e.Rounds
		row := []cell{
			{text: markPlain(tty, all), paint: func(string) string { return mark(cs, tty, all, false) }},
			{text: peerText(e.Host)},
			{text: fmt.Sprintf("%d/%d %3.0f%%", e.OK, e.Rounds, 100*e.SuccessRatio)},
		}
		total := "-"
		if e.P50MS != nil {
			total = pair(*e.P50MS, *e.P95MS)
		}
		row = append(row, cell{text: total})
		for _, p := range phases {
			v := "-"
			if pc, ok := e.Phases[p]; ok {
				v = pair(pc.P50MS, pc.P95MS)
			}
			row = append(row, cell{text: v})
		}
		var fails []string
		for _, k := range slices.Sorted(maps.Keys(e.Failures)) {
			fails = append(fails, fmt.Sprintf("%s ×%d", k, e.Failures[k]))
		}
		fc := cell{text: strings.Join(fails, ", ")}
		if fc.text == "" {
			fc.text = "-"
		} else {
			fc.paint = cs.Red
		}
		if !e.Required {
			fc.text += "  (informative)"
		}
		t.add(append(row, fc)...)
	}
	t.write(w)

	fmt.Fprintln(w)
	switch {
	case sum.Rounds == 0:
		fmt.Fprintf(w, "%s no round finished\n", cs.Red("FAIL"))
	case failed == 0:
		fmt.Fprintf(w, "%s every required endpoint was reachable in every round (%d)\n", cs.Green("ok"), sum.Rounds)
	default:
		var worst []string
		for _, e := range sum.Endpoints {
			if e.Required && e.OK < e.Rounds {
				worst = append(worst, fmt.Sprintf("%s failed %s", peerText(e.Host), plural(e.Rounds-e.OK, "time")))
			}
		}
		fmt.Fprintf(w, "%s %d of %d rounds had a required endpoint down: %s\n", cs.Red("FAIL"), failed, sum.Rounds, strings.Join(worst, ", "))
	}
}

// ---- --allowlist -----------------------------------------------------------

// renderAllowlist writes what a firewall must allow for region, plain
// text to paste into a ticket: a host:port protocol line per endpoint,
// required ones first, then what else the network must let through.
func renderAllowlist(w io.Writer, region string, eps []netcheck.Endpoint) {
	fmt.Fprintf(w, "Twilio Conversations clients, region %s: allow outbound TCP 443 (TLS) to\n\n", region)
	sorted := slices.Clone(eps)
	slices.SortStableFunc(sorted, func(a, b netcheck.Endpoint) int {
		switch {
		case a.Required == b.Required:
			return 0
		case a.Required:
			return -1
		}
		return 1
	})
	width := 0
	for _, e := range sorted {
		width = max(width, len(e.HostPort()+" "+e.Protocol))
	}
	for _, e := range sorted {
		need := "required"
		if !e.Required {
			need = "informative"
		}
		fmt.Fprintf(w, "%-*s  # %s: %s\n", width, e.HostPort()+" "+e.Protocol, need, e.Purpose)
	}
	var tsock string
	for _, e := range eps {
		if e.Protocol == netcheck.ProtocolWSS {
			tsock = e.Host
		}
	}
	fmt.Fprint(w, "\nNotes\n")
	fmt.Fprint(w, "- Allow these by host name, not by IP address: Twilio publishes no static IP\n  addresses, and the addresses behind these names change.\n")
	fmt.Fprint(w, "- Exempt *.twilio.com from TLS inspection: a re-signed certificate breaks\n  Twilio's mobile SDKs, which pin certificates, and Node clients that do not\n  trust the inspection CA.\n")
	if tsock != "" {
		fmt.Fprintf(w, "- WebSockets must pass to %s: the HTTP Upgrade\n  (Upgrade: websocket) of /v3/wsconnect, then a connection held open for hours.\n", tsock)
	}
	fmt.Fprint(w, "- Through a proxy: CONNECT to these names on port 443 must be allowed.\n")
	fmt.Fprint(w, "- The informative ones are reached inside the WebSocket by the JavaScript SDK;\n  other SDKs may reach them directly.\n")
	if !netcheck.KnownRegion(region) {
		fmt.Fprintf(w, "- Conversations runs in %s; %s is not one of them.\n", oneOf(netcheck.Regions), region)
	}
}

// ---- progress --------------------------------------------------------------

// netcheckProgress shows, on the status line, which endpoints are done
// and which are still being checked; between --every rounds, when the
// next one starts. Silent unless stderr is a terminal, and with --debug
// (the log says it all). observe is called from the checks' goroutines.
type netcheckProgress struct {
	on     bool
	line   *statusLine
	cs     *ColorScheme
	region string

	mu      sync.Mutex
	round   int
	pending []string
	done    []string
}

func newNetcheckProgress(io *IOStreams, opts *NetcheckOptions) *netcheckProgress {
	return &netcheckProgress{on: !opts.Debug, line: newStatusLine(io), cs: io.ErrColorScheme(), region: opts.Region}
}

func (p *netcheckProgress) begin(round int, eps []netcheck.Endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.round, p.pending, p.done = round, nil, nil
	for _, e := range eps {
		p.pending = append(p.pending, e.Host)
	}
	p.showLocked()
}

func (p *netcheckProgress) observe(r *netcheck.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.pending, r.Host); i >= 0 {
		p.pending = slices.Delete(p.pending, i, i+1)
	}
	p.done = append(p.done, mark(p.cs, true, r.OK, false)+" "+shortHost(r.Host))
	p.showLocked()
}

func (p *netcheckProgress) showLocked() {
	if !p.on {
		return
	}
	head := "checking " + p.region
	if p.round > 0 {
		head += fmt.Sprintf(" (round %d)", p.round)
	}
	text := p.cs.Cyan("…") + " " + p.cs.Bold(head)
	if len(p.done) > 0 {
		text += " " + strings.Join(p.done, " ")
	}
	if len(p.pending) > 0 {
		var short []string
		for _, h := range p.pending {
			short = append(short, shortHost(h))
		}
		text += p.cs.Dim(" · waiting for " + strings.Join(short, ", "))
	}
	p.line.show(text)
}

// waiting shows when round n starts.
func (p *netcheckProgress) waiting(n int, at time.Time) {
	if !p.on {
		return
	}
	p.line.show(p.cs.Dim(fmt.Sprintf("round %d at %s (Ctrl-C: stop and summarise)", n, at.Local().Format("15:04:05"))))
}

func (p *netcheckProgress) clear() { p.line.clear() }

// ---- a table of aligned columns --------------------------------------------

// cell is one table cell: its text (what its width is measured on) and
// how to paint it (nil: as is). paint gets the text and may return
// something else of the same visible width (a mark).
type cell struct {
	text  string
	paint func(string) string
}

// table aligns cells in columns two spaces apart; the last column is not
// padded.
type table struct{ rows [][]cell }

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	for _, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			s := c.text
			if c.paint != nil {
				s = c.paint(c.text)
			}
			b.WriteString(s)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)))
				if i == 0 {
					b.WriteString(" ")
				} else {
					b.WriteString("  ")
				}
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

// markPlain is mark's text without color, for measuring.
func markPlain(tty, ok bool) string { return mark(newColorScheme(false), tty, ok, false) }

// markWidth is how wide a mark is: one rune on a terminal, a word on a pipe.
func markWidth(tty bool) int { return utf8.RuneCountInString(markPlain(tty, false)) }
