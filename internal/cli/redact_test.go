package cli

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// prettyToken signs a token whose header is pretty-printed JSON, so that it
// encodes to "ewog…" rather than the usual "eyJ…": valid, and serve accepts it.
func prettyToken(t *testing.T, secret string, now time.Time) (tok, sig string) {
	t.Helper()
	header := "{\n  \"alg\": \"HS256\",\n  \"typ\": \"JWT\",\n  \"cty\": \"twilio-fpa;v=1\"\n}"
	payload := `{"jti":"SK0123456789abcdef0123456789abcdef-` + itoa(now.Unix()) + `","iss":"SK0123456789abcdef0123456789abcdef",` +
		`"sub":"AC0123456789abcdef0123456789abcdef","iat":` + itoa(now.Unix()) + `,"exp":` + itoa(now.Add(time.Hour).Unix()) +
		`,"grants":{"identity":"alice","chat":{"service_sid":"IS0123456789abcdef0123456789abcdef"}}}`
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if !strings.HasPrefix(signing, "ewog") {
		t.Fatalf("header encodes to %.8s…, want ewog…", signing)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signing))
	sig = enc.EncodeToString(m.Sum(nil))
	return signing + "." + sig, sig
}

// TestDebugLogsRedactPrettyTokens: a token whose header is not the usual eyJ…
// is accepted by serve, and neither serve's nor connect's --debug log (text
// or JSON) shows its signature (issue 9, item 3).
func TestDebugLogsRedactPrettyTokens(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			p := startServed(t, "--secret-env", "SERVE_SECRET", "--debug", "--log-format", format)
			tok, sig := prettyToken(t, serveTestSecret, time.Now())
			io, _, out, errOut := TestIO()
			getenv := func(k string) string {
				if k == "TOKEN" {
					return tok
				}
				return ""
			}
			code := Run(t.Context(), []string{"connect", "--url", p.url, "--token-env", "TOKEN", "--debug", "--update-token", "--ping", "0"}, io, getenv)
			if code != exitOK {
				t.Fatalf("connect exit %d (serve should accept a pretty-printed header)\n%s", code, errOut)
			}
			if stopped := p.stop(t); stopped != exitOK {
				t.Errorf("serve exit %d", stopped)
			}
			serveLog := p.stderr.String()
			if !strings.Contains(serveLog, "ewog") || !strings.Contains(errOut.String(), "ewog") {
				t.Fatalf("the logs do not show the token's header at all; serve:\n%s\nconnect:\n%s", serveLog, errOut)
			}
			for name, text := range map[string]string{"serve's log": serveLog, "connect's log": errOut.String(), "connect's report": out.String()} {
				if n := strings.Count(text, sig); n > 0 {
					t.Errorf("%s shows the signature %d times", name, n)
				}
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ws://127.0.0.1:4567/v3/wsconnect", "ws://127.0.0.1:4567/v3/wsconnect"},
		{"wss://tsock.us1.twilio.com/v3/wsconnect?token=eyJa.eyJb.c2ln&x=1", "wss://tsock.us1.twilio.com/v3/wsconnect?token=***&x=***"},
		{"ws://user:hunter2@h:1/p#frag", "ws://user:***@h:1/p"},
		{"ws://h/p?eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "ws://h/p?***"},
		{"not a url at all", "not a url at all"},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", ""}, // checked below: not shown
	}
	for _, tt := range tests[:len(tests)-1] {
		if got := safeURL(tt.in); got != tt.want {
			t.Errorf("safeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := safeURL(tests[len(tests)-1].in); strings.Contains(got, "c2lnbmF0dXJl") {
		t.Errorf("safeURL of a bare token = %q", got)
	}
}

func TestSafeFlagError(t *testing.T) {
	const secret = "x9Tq2LmV7cR4nW8zK1pB5hJ3dF6gY0sA"
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Duration("timeout", time.Second, "")
	fs.Bool("debug", false, "")
	for _, args := range [][]string{{"--timeout", secret}, {"--debug=" + secret}, {"-" + secret}, {"---" + secret}} {
		err := fs.Parse(args)
		if err == nil {
			t.Fatalf("%q parsed", args)
		}
		got := safeFlagError(err).Error()
		if strings.Contains(got, secret) || !strings.Contains(got, "looks like a secret") {
			t.Errorf("%q: %q", args, got)
		}
	}
	plain := errors.New("plain")
	if safeFlagError(plain) != plain {
		t.Error("an unrelated error was rewritten")
	}
	if err := fs.Parse([]string{"--timeout", "soon"}); !strings.Contains(safeFlagError(err).Error(), `"soon"`) {
		t.Errorf("a harmless value is no longer quoted: %v", safeFlagError(err))
	}
}

// FuzzSafeURL: whatever the URL, the password and the query's values never
// show.
func FuzzSafeURL(f *testing.F) {
	for _, s := range []string{"ws://u:pw@h:1/p?token=abc&x=1#f", "wss://h/p?", "ws://h/p?a", "http://[::1]:80/?q=%zz", ":://", "ws://u@h/?=v"} {
		f.Add(s, "hunter2secret")
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		if len(secret) < 6 || strings.ContainsAny(secret, "&=?#@:/%*") || strings.Contains(raw, secret) {
			return
		}
		// Escaping the rest of the URL may spell the secret by chance
		// ("0/ 00000" is "0/%2000000"): count what is there without it.
		before := strings.Count(safeURL(raw), secret)
		for _, u := range []string{
			strings.Replace(raw, "://", "://user:"+secret+"@", 1),
			raw + "?token=" + secret,
			raw + "&token=" + secret,
		} {
			parsed, err := url.Parse(u)
			if err != nil || parsed.Scheme == "" || parsed.Host == "" {
				continue
			}
			if pw, _ := parsed.User.Password(); pw != secret && !strings.Contains(parsed.Query().Get("token"), secret) {
				continue // the secret did not land where a password or query value goes
			}
			if got := safeURL(u); strings.Count(got, secret) > before {
				t.Fatalf("safeURL(%q) = %q shows the secret", u, got)
			}
		}
	})
}

// TestNetFlagsRefusePastedValues: a secret or token given to a network flag
// is refused before anything is parsed, resolved or dialled, and not quoted;
// a proxy URL with a query (where a token could ride) likewise.
func TestNetFlagsRefusePastedValues(t *testing.T) {
	const secret = "x9Tq2LmV7cR4nW8zK1pB5hJ3dF6gY0sA"
	f := NewFactory(&IOStreams{}, func(string) string { return "" })
	for _, n := range []netFlags{
		{proxy: secret},
		{proxy: "http://u:" + secret + "@127.0.0.1:3128/?k=" + secret},
		{caFile: secret},
		{resolve: []string{secret}},
		{connectTo: []string{secret}},
	} {
		_, err := n.config(f, nil)
		if err == nil || exitCodeOf(err) != exitUsage || strings.Contains(err.Error(), secret) {
			t.Errorf("%+v: %v", n, err)
		}
	}
}
