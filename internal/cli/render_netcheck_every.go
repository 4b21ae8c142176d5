package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convctl/convctl/pkg/netcheck"
)

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
