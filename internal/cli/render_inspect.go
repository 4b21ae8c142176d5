package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// ---- the text report of `convctl token inspect` ----------------------------

func renderReport(w io.Writer, cs *ColorScheme, tty bool, r *inspect.Report, opts *InspectOptions) {
	now := r.JudgedAt
	var b strings.Builder

	// The verdict first: what a person came for.
	errs, warns := 0, 0
	for _, f := range r.Findings {
		if f.Severity == inspect.SeverityError {
			errs++
		} else {
			warns++
		}
	}
	mark := func(ok, bad string) string {
		if tty {
			return ok
		}
		return bad
	}
	switch {
	case !r.Valid:
		first := r.FirstError()
		verdict := cs.Red(mark("✗ INVALID", "INVALID"))
		if first.TwilioError != nil {
			verdict += fmt.Sprintf(": Twilio would answer %d %s", *first.TwilioError, twilsock.Describe(*first.TwilioError))
		} else {
			verdict += ": " + first.Message + " (Twilio itself would accept it)"
		}
		b.WriteString(verdict + "\n")
	case warns > 0:
		b.WriteString(cs.Yellow(mark("✓ valid", "valid")) + fmt.Sprintf(", with %s\n", plural(warns, "warning")))
	default:
		b.WriteString(cs.Green(mark("✓ valid", "valid")) + "\n")
	}

	label := func(name string) string { return "  " + cs.Dim(fmt.Sprintf("%-17s", name)) }
	line := func(name, value string) { b.WriteString(label(name) + value + "\n") }
	dash := cs.Dim("—")
	orDash := func(s string) string {
		if s == "" {
			return dash
		}
		return safeText(s)
	}

	line("signature", signatureText(cs, r, len(opts.Secret) > 0))
	line("identity", orDash(r.Identity))
	line("account (sub)", orDash(r.AccountSID))
	line("api key (iss)", orDash(r.APIKeySID))
	grants := dash
	if len(r.Grants) > 0 {
		grants = safeText(strings.Join(r.Grants, ", "))
	}
	line("grants", grants)
	if r.Region != "" {
		line("region (twr)", safeText(r.Region))
	}
	line("issued", timeText(cs, r.IssuedAt, now))
	if r.NotBefore != nil {
		line("not before", timeText(cs, r.NotBefore, now))
	}
	line("expires", timeText(cs, r.ExpiresAt, now))
	if r.LifetimeSeconds != nil {
		line("lifetime", shortDur(time.Duration(*r.LifetimeSeconds)*time.Second))
	}
	if r.AboutToExpireAt != nil {
		line("about to expire", timeText(cs, r.AboutToExpireAt, now))
	}
	judged := "as of " + absTime(now) + " for " + string(opts.Product)
	if opts.At.IsZero() {
		judged = "now (" + absTime(now) + ") for " + string(opts.Product)
	}
	if opts.MinRemaining > 0 {
		judged += ", needing " + shortDur(opts.MinRemaining) + " left"
	}
	line("judged", judged)

	if len(r.Findings) > 0 {
		b.WriteString("\n")
		for _, f := range r.Findings {
			sev := fmt.Sprintf("%-7s", f.Severity)
			if f.Severity == inspect.SeverityError {
				sev = cs.Red(sev)
			} else {
				sev = cs.Yellow(sev)
			}
			code := f.Code
			if f.TwilioError != nil {
				code += fmt.Sprintf(" (%d)", *f.TwilioError)
			}
			fmt.Fprintf(&b, "  %s %s  %s\n", sev, cs.Bold(code), f.Message)
			fmt.Fprintf(&b, "  %-7s %s\n", "", cs.Dim("fix: "+f.Hint))
		}
	}
	io.WriteString(w, b.String())
}

func signatureText(cs *ColorScheme, r *inspect.Report, secretGiven bool) string {
	switch {
	case r.Signature == inspect.SignatureVerified:
		return cs.Green("verified") + " with the secret given (" + r.Algorithm + ")"
	case r.Signature == inspect.SignatureInvalid:
		return cs.Red("INVALID") + ": it does not match the secret given"
	case !secretGiven:
		return cs.Yellow("NOT verified") + " (no secret given: pass --secret-env or --secret-file)"
	case r.Header == nil:
		return cs.Yellow("NOT verified") + " (the token could not be decoded)"
	default:
		return cs.Yellow("NOT verified") + " (alg " + safeText(strconv.Quote(r.Algorithm)) + " is not HMAC)"
	}
}

func timeText(cs *ColorScheme, t *time.Time, now time.Time) string {
	if t == nil {
		return cs.Dim("—")
	}
	return absTime(*t) + " " + cs.Dim("("+relTime(t.Sub(now))+")")
}
