package cli

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/convctl/convctl/pkg/debuglog"
)

// Nothing the user pasted by mistake goes back out: a token or an API Key
// secret given where a name, a path, a duration or a choice belongs is
// described, never quoted (issue 9, item 1). The helpers here are the one
// place that decides how a value is shown in an error or a report.

// safeFlagValue is v quoted for an error message, or, when v looks like a
// token or a secret (debuglog.Sensitive), a description in its place.
func safeFlagValue(v string) string {
	if kind := debuglog.Sensitive(v); kind != "" {
		return "(" + hiddenValue(kind) + ")"
	}
	return strconv.Quote(v)
}

// safeFlagText is safeFlagValue for messages that show a path or a name
// unquoted.
func safeFlagText(v string) string {
	if kind := debuglog.Sensitive(v); kind != "" {
		return "(" + hiddenValue(kind) + ")"
	}
	return v
}

func hiddenValue(kind string) string {
	return "the value given looks like " + kind + ", so it is not shown"
}

// safeFlagError rewrites pflag's parse errors that would quote a value that
// looks like a credential: "invalid argument" (the value, and again in its
// cause), an unknown shorthand group, bad flag syntax. Others pass unchanged.
func safeFlagError(err error) error {
	var inv *pflag.InvalidValueError
	if errors.As(err, &inv) {
		if kind := debuglog.Sensitive(inv.GetValue()); kind != "" {
			f := inv.GetFlag()
			want := "want a " + f.Value.Type()
			switch cause := errors.Unwrap(inv); {
			case f.Value.Type() == "bool":
				want = "want true or false"
			case cause != nil && !strings.Contains(cause.Error(), inv.GetValue()):
				want = cause.Error() // the flag's own words, e.g. "want text or json"
			}
			return errors.New("invalid argument for --" + f.Name + ": " + hiddenValue(kind) + "; " + want)
		}
	}
	var ne *pflag.NotExistError
	if errors.As(err, &ne) {
		if g := ne.GetSpecifiedShortnames(); g != "" {
			if kind := debuglog.Sensitive(g); kind != "" {
				return errors.New("unknown shorthand flag " + strconv.QuoteRune(rune(g[0])) + " in an argument that starts with '-': " + hiddenValue(kind))
			}
		}
		if kind := debuglog.Sensitive(ne.GetSpecifiedName()); kind != "" {
			return errors.New("unknown flag: " + hiddenValue(kind))
		}
	}
	var se *pflag.InvalidSyntaxError
	if errors.As(err, &se) {
		if kind := debuglog.Sensitive(strings.TrimLeft(se.GetSpecifiedFlag(), "-")); kind != "" {
			return errors.New("bad flag syntax: " + hiddenValue(kind))
		}
	}
	return err
}

// scrubArgs is the last line of defence for messages on stderr: every
// command-line argument (or --flag=value part) that looks like a credential is
// replaced in msg by a description, and any JWT left loses its signature.
func scrubArgs(msg string, args []string) string {
	for _, a := range args {
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = v
		}
		if len(a) < 8 || !strings.Contains(msg, a) {
			continue
		}
		if kind := debuglog.Sensitive(a); kind != "" {
			msg = strings.ReplaceAll(msg, a, "("+hiddenValue(kind)+")")
		}
	}
	return debuglog.RedactJWTs(msg)
}

// safeURL is a URL as reports and messages show it: the password as ***, the
// value of every query parameter as ***, the fragment dropped. A query may
// carry a token (?token=…) and userinfo a password; the rest is what one
// needs to tell which server was meant. A URL that does not parse is shown
// only if it does not look like a credential.
func safeURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if kind := debuglog.Sensitive(raw); kind != "" {
			return "(" + hiddenValue(kind) + ")"
		}
		return raw
	}
	s := u.Scheme + "://"
	if u.User != nil {
		name := u.User.Username()
		if debuglog.Sensitive(name) != "" {
			name = "***"
		}
		s += name
		if _, has := u.User.Password(); has {
			s += ":***"
		}
		s += "@"
	}
	s += u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		s += "?" + maskQuery(u.RawQuery)
	}
	return s
}

// maskQuery keeps parameter names and replaces values with ***; a bare
// parameter (no '=') is a value, masked whole.
func maskQuery(q string) string {
	var b strings.Builder
	for i, part := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		if part == "" {
			continue
		}
		name, _, hasValue := strings.Cut(part, "=")
		if !hasValue || debuglog.Sensitive(name) != "" {
			b.WriteString("***")
			continue
		}
		b.WriteString(name + "=***")
	}
	return b.String()
}

// badAddr is serve's error for an --addr that is not HOST:PORT. The parser's
// own reason repeats the address, so it is left out when the address looks
// like a credential.
func badAddr(addr string, err error) error {
	if debuglog.Sensitive(addr) != "" {
		return usageErrorf("--addr %s: want HOST:PORT, e.g. 127.0.0.1:4567", safeFlagValue(addr))
	}
	return usageErrorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:4567 (%v)", addr, err)
}
