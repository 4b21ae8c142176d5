package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/convctl/convctl/pkg/netpath"
	"github.com/convctl/convctl/pkg/probe"
)

// ---- the network path: connect's "Network" block, check's summary ---------

// writeNetwork writes the path one attempt took, as a person reads it at a
// glance: the proxy (or why none), each address tried, the TLS handshake,
// the chain as presented, and the verdict.
// The TLS error is left out of the verdict when the cause repeats it below.
func writeNetwork(w io.Writer, cs *ColorScheme, p *netpath.Path, cause *probe.Cause) {
	if p == nil {
		return
	}
	fmt.Fprintln(w, cs.Bold("Network"))
	row := func(label, text string) { fmt.Fprintf(w, "  %-10s %s\n", label, text) }
	more := func(text string) { fmt.Fprintf(w, "  %-10s %s\n", "", text) }

	row("proxy", netProxyText(cs, p))
	switch {
	case p.Proxy != nil:
		row("addresses", cs.Dim("resolved by the proxy"))
	case len(p.Addresses) == 0:
		row("addresses", "-")
	default:
		width := 0
		for _, a := range p.Addresses {
			width = max(width, len(a.Address))
		}
		for i, a := range p.Addresses {
			line := fmt.Sprintf("%-*s  %s  %s", width, a.Address, a.Family, netAddressResult(cs, a))
			if i == 0 {
				row("addresses", line)
			} else {
				more(line)
			}
		}
	}
	t := p.TLS
	if t == nil {
		row("tls", "-")
		return
	}
	var hs []string
	if t.Version != "" {
		hs = append(hs, t.Version, t.Cipher)
	}
	if t.ALPN != "" {
		hs = append(hs, "ALPN "+peerText(t.ALPN))
	}
	hs = append(hs, "server name "+peerText(t.ServerName))
	row("tls", strings.Join(hs, ", "))
	for i, c := range t.Chain {
		label := ""
		if i == 0 {
			label = "chain"
		}
		fmt.Fprintf(w, "  %-10s %d %s\n", label, i, safeText(c.Subject))
		more(fmt.Sprintf("    issuer %s", safeText(c.Issuer)))
		more(fmt.Sprintf("    valid %s to %s%s, sha256 %s", c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly),
			certExpiryNote(cs, c.NotAfter), shortFingerprint(c.SHA256)))
	}
	said := t.Error != nil && cause != nil && cause.Message == *t.Error
	row("verdict", tlsVerdictText(cs, t, !said))
}

// netProxyText is the proxy line: the redacted URL, where it came from and
// what it answered, or why none was used.
func netProxyText(cs *ColorScheme, p *netpath.Path) string {
	pr := p.Proxy
	if pr == nil {
		if p.ProxyBypassedBy != nil {
			return "none (" + peerText(*p.ProxyBypassedBy) + ")"
		}
		return "none"
	}
	src := pr.Source
	if src == "config" || src == "flag" {
		src = "--proxy"
	}
	s := fmt.Sprintf("%s (%s), CONNECT %s", pr.URL, src, peerText(pr.Target))
	if pr.ConnectStatus != nil {
		ans := strconv.Itoa(*pr.ConnectStatus)
		if pr.Reason != "" {
			ans += " " + safeText(pr.Reason)
		}
		if *pr.ConnectStatus/100 == 2 {
			ans = cs.Green(ans)
		} else {
			ans = cs.Red(ans)
		}
		s += " answered " + ans
	} else {
		s += " " + cs.Red("not answered")
	}
	if pr.ConnectMS != nil {
		s += " in " + fmtMS(*pr.ConnectMS)
	}
	if len(pr.Via) > 0 {
		s += ", via " + safeText(strings.Join(pr.Via, ", "))
	}
	if len(pr.ProxyAuthenticate) > 0 {
		s += ", wants " + safeText(strings.Join(pr.ProxyAuthenticate, "; "))
	}
	return s
}

func netAddressResult(cs *ColorScheme, a netpath.Address) string {
	switch {
	case a.Used:
		return cs.Green("connected") + " in " + fmtMS(netDeref(a.TCPMS)) + " (used)"
	case a.Error != nil && a.TCPMS != nil:
		return "connected in " + fmtMS(*a.TCPMS) + ", " + peerText(*a.Error)
	case a.Error != nil:
		return cs.Red("failed") + ": " + peerText(*a.Error)
	}
	return "-"
}

func netDeref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// tlsVerdictText says whether the chain verifies here and publicly, and
// names an interceptor.
func tlsVerdictText(cs *ColorScheme, t *netpath.TLS, withError bool) string {
	var parts []string
	if t.Verified {
		parts = append(parts, cs.Green("verified")+" by this machine's trust store")
	} else {
		parts = append(parts, cs.Red("not verified"))
	}
	switch {
	case len(t.Chain) == 0:
	case t.PubliclyTrusted:
		parts = append(parts, "publicly trusted")
	default:
		parts = append(parts, cs.Yellow("not publicly trusted"))
	}
	if t.InterceptedBy != nil {
		parts = append(parts, cs.Yellow("intercepted by "+safeText(*t.InterceptedBy)))
	}
	s := strings.Join(parts, ", ")
	if t.Error != nil && withError {
		s += ": " + peerText(*t.Error)
	}
	return s
}

// tlsSummary is the TLS verdict on one line, for check's report.
func tlsSummary(t *netpath.TLS) string {
	if t == nil {
		return ""
	}
	var p []string
	if t.Version != "" {
		p = append(p, t.Version)
	}
	switch {
	case t.Error != nil:
		p = append(p, "failed")
	case t.Verified:
		p = append(p, "verified")
	}
	if len(t.Chain) > 0 {
		if t.PubliclyTrusted {
			p = append(p, "publicly trusted")
		} else {
			p = append(p, "not publicly trusted")
		}
	}
	if t.InterceptedBy != nil {
		p = append(p, "intercepted by "+safeText(*t.InterceptedBy))
	}
	if exp, ok := t.CertExpiry(); ok && t.Error == nil {
		p = append(p, "certificate expires "+exp.Format(time.DateOnly))
	}
	return strings.Join(p, ", ")
}

// proxySummary is the proxy on one line, for check's report: "" when direct
// and no environment proxy was bypassed.
func proxySummary(p *netpath.Path) string {
	if p == nil {
		return ""
	}
	if p.Proxy == nil {
		if p.ProxyBypassedBy != nil {
			return "none (" + peerText(*p.ProxyBypassedBy) + ")"
		}
		return ""
	}
	src := p.Proxy.Source
	if src == "config" || src == "flag" {
		src = "--proxy"
	}
	s := p.Proxy.URL + " (" + src + ")"
	if p.Proxy.ConnectStatus != nil {
		s += ", CONNECT answered " + strconv.Itoa(*p.Proxy.ConnectStatus)
	}
	return s
}

// certExpiryNote flags a certificate that has expired or soon will.
func certExpiryNote(cs *ColorScheme, notAfter time.Time) string {
	left := time.Until(notAfter)
	switch {
	case left < 0:
		return " " + cs.Red("(expired "+shortDur(-left)+" ago)")
	case left < 14*24*time.Hour:
		return " " + cs.Yellow("(expires in "+shortDur(left)+")")
	}
	return ""
}

// shortFingerprint is the first and last 8 hex digits of a SHA-256.
func shortFingerprint(h string) string {
	if len(h) <= 20 {
		return h
	}
	return h[:8] + "…" + h[len(h)-8:]
}
