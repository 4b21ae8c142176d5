package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

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
