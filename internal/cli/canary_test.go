package cli

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
)

// The canary: a realistic API Key secret and a token signed with it. Neither
// may appear, nor the token's signature alone, in anything a command writes:
// stdout, stderr (errors and --debug logs), or a file it writes (--junit,
// --url-file…), whatever flag or argument they are given to.
const (
	canarySecret  = "x9Tq2LmV7cR4nW8zK1pB5hJ3dF6gY0sA"
	canaryAccount = "AC5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
	canaryKey     = "SK5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
	canaryService = "IS5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
)

func canaryToken(t *testing.T) (tok, sig string) {
	t.Helper()
	tok, err := inspect.Mint(inspect.MintOptions{AccountSID: canaryAccount, APIKeySID: canaryKey,
		Secret: []byte(canarySecret), Identity: "canary", ChatServiceSID: canaryService, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok, tok[strings.LastIndexByte(tok, '.')+1:]
}

// canaryCase is one command line. base marks a line that starts from a
// working invocation, so the canary reaches the checks that run after
// parsing (reading the secret, fetching the token, connecting, reporting).
type canaryCase struct {
	name string
	args []string
}

// canaryCases derives the command lines from the command tree: for every
// command, the canary as a positional argument, as an unknown flag, and as
// the value of each of its flags (alone and after a working base line);
// URL flags also get the canary inside a URL's userinfo and query.
func canaryCases(t *testing.T, tok, wsURL, httpURL string) []canaryCase {
	root := NewCmdRoot(NewFactory(&IOStreams{}, func(string) string { return "" }))
	root.InitDefaultCompletionCmd() // cobra adds it at Execute; walk it too
	bases := map[string][]string{
		"token inspect": {"--token-env", "CANARY_TOKEN", "--secret-env", "CANARY_SECRET"},
		"token mint": {"--secret-env", "CANARY_SECRET", "--account-sid", canaryAccount, "--api-key", canaryKey,
			"--identity", "alice", "--chat-service-sid", canaryService},
		"connect": {"--url", wsURL, "--token-env", "CANARY_TOKEN", "--secret-env", "CANARY_SECRET", "--timeout", "5s"},
		"check": {"--local", "--token-env", "CANARY_TOKEN", "--secret-env", "CANARY_SECRET", "--timeout", "5s",
			"--junit", "junit.xml"},
		"serve": {"--secret-env", "CANARY_SECRET", "--url-file", "url.txt", "--debug"},
	}
	values := map[string]string{"token": tok, "secret": canarySecret}
	var cases []canaryCase
	add := func(name string, args ...string) { cases = append(cases, canaryCase{name, args}) }
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		key := strings.Join(path, " ")
		base, hasBase := bases[key]
		// Lines that could reach the network get --url of the test's own
		// server, so nothing ever dials Twilio's default endpoint.
		pre := []string(nil)
		switch key {
		case "connect", "check":
			pre = []string{"--url", wsURL}
		case "netcheck":
			// Through the test's own server as the proxy: no name is
			// resolved and nothing is dialled but 127.0.0.1.
			pre = []string{"--proxy", strings.TrimSuffix(httpURL, "/token"), "--timeout", "2s"}
		}
		line := func(extra ...string) []string { return append(slices.Concat(path, pre), extra...) }
		bare := func(extra ...string) []string { return append(slices.Clone(path), extra...) }
		for vname, v := range values {
			add(key+" <"+vname+">", line(v)...)
			add(key+" <"+vname+"> <"+vname+">", line(v, v)...)
			add(key+" -<"+vname+">", line("-"+v)...)
			add(key+" --<"+vname+">", line("--"+v)...)
			if hasBase {
				add(key+" base <"+vname+">", bare(append(slices.Clone(base), v)...)...)
			}
		}
		flags := pflag.NewFlagSet("all", pflag.ContinueOnError)
		flags.AddFlagSet(c.LocalFlags())
		flags.AddFlagSet(c.InheritedFlags())
		flags.VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			for vname, v := range values {
				given := []string{"--" + f.Name, v}
				if f.Value.Type() == "bool" {
					given = []string{"--" + f.Name + "=" + v}
				}
				// A flag that the prefix sets, or that conflicts with it, goes alone.
				if pre != nil && (pre[0] == "--"+f.Name || pre[0] == "--url" && (f.Name == "region" || f.Name == "local")) {
					add(key+" --"+f.Name+" <"+vname+">", bare(given...)...)
				} else {
					add(key+" --"+f.Name+" <"+vname+">", line(given...)...)
				}
				if hasBase {
					add(key+" base --"+f.Name+" <"+vname+">", bare(append(slices.Clone(base), given...)...)...)
				}
			}
			if strings.Contains(f.Name, "url") && f.Name != "url-file" || f.Name == "proxy" {
				target := wsURL
				if f.Name != "url" {
					target = httpURL
				}
				in := strings.Replace(target, "://", "://canary:"+canarySecret+"@", 1) + "?token=" + tok + "&k=" + canarySecret
				if pre != nil && pre[0] == "--"+f.Name {
					add(key+" --"+f.Name+" <url with credentials>", bare("--"+f.Name, in)...)
				} else {
					add(key+" --"+f.Name+" <url with credentials>", line("--"+f.Name, in)...)
				}
				if hasBase {
					add(key+" base --"+f.Name+" <url with credentials>", bare(append(slices.Clone(base), "--"+f.Name, in)...)...)
					if c.Flags().Lookup("debug") != nil {
						add(key+" base --debug --"+f.Name+" <url with credentials>", bare(append(slices.Clone(base), "--debug", "-o", "json", "--"+f.Name, in)...)...)
					}
				}
			}
		})
		if hasBase {
			// The working lines themselves, and their JSON and debug forms.
			add(key+" base", bare(base...)...)
			add(key+" base -o json", bare(append(slices.Clone(base), "-o", "json")...)...)
			if c.Flags().Lookup("debug") != nil {
				add(key+" base --debug", bare(append(slices.Clone(base), "--debug")...)...)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	// The user's own control token, read from the environment (the canary
	// secret doubles as one), is a secret too.
	add("serve control token from env", "serve", "--secret-env", "CANARY_SECRET", "--control-token-env", "CANARY_SECRET", "--url-file", "url.txt")
	add("serve control token from env, json", "serve", "--secret-env", "CANARY_SECRET", "--control-token-env", "CANARY_SECRET", "--url-file", "url.txt", "--log-format", "json", "--debug")
	// A URL with credentials that cannot be reached: the failure's words
	// (cause, hint, JUnit) must not repeat it either.
	deadQuery := deadURL(t) + "?token=" + tok + "&k=" + canarySecret
	dead := strings.Replace(deadQuery, "://", "://canary:"+canarySecret+"@", 1)
	for _, key := range []string{"connect", "check"} {
		noURL := []string{"--token-env", "CANARY_TOKEN", "--secret-env", "CANARY_SECRET", "--timeout", "1s", "--url", deadQuery}
		add(key+" <unreachable url with a token in its query>", append([]string{key}, noURL...)...)
		add(key+" <unreachable url with a token in its query> --debug -o json", append([]string{key}, append(noURL, "--debug", "-o", "json")...)...)
		base := append(slices.Clone(bases[key]), "--url", dead, "--no-reconnect")
		if key == "check" {
			base = append(slices.DeleteFunc(slices.Clone(bases[key]), func(a string) bool { return a == "--local" }), "--url", dead, "--timeout", "1s")
		}
		add(key+" <unreachable url with credentials>", append([]string{key}, base...)...)
		add(key+" <unreachable url with credentials> --debug -o json", append([]string{key}, append(base, "--debug", "-o", "json")...)...)
	}
	for _, c := range cases {
		if (c.args[0] == "connect" || c.args[0] == "check") && !slices.ContainsFunc(c.args, func(a string) bool {
			return a == "--url" || a == "--local" || strings.HasPrefix(a, "--local=") || a == "--region"
		}) {
			t.Fatalf("%s could dial Twilio: give it --url", c.name)
		}
		if c.args[0] == "netcheck" && !slices.Contains(c.args, "--proxy") {
			t.Fatalf("%s could dial Twilio: give it --proxy", c.name)
		}
	}
	return cases
}

// TestCanaryNeverLeaks runs every command's error paths (and its working
// paths) with the canary secret and token wherever a value goes.
func TestCanaryNeverLeaks(t *testing.T) {
	tok, sig := canaryToken(t)
	wsURL := serveEmulator(t, emulator.Config{Secret: []byte(canarySecret)})
	tokenServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no token for you", http.StatusNotFound)
	}))
	t.Cleanup(tokenServer.Close)
	env := map[string]string{"CANARY_TOKEN": tok, "CANARY_SECRET": canarySecret}
	getenv := func(k string) string { return env[k] }
	needles := map[string]string{"the secret": canarySecret, "the token": tok, "the token's signature": sig}

	cases := canaryCases(t, tok, wsURL, tokenServer.URL+"/token")
	if len(cases) < 200 {
		t.Fatalf("only %d cases: the command tree walk found too little", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			out, errOut := canaryRun(t, tc.args, getenv)
			where := map[string]string{"stdout": out, "stderr": errOut}
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if b, err := os.ReadFile(p); err == nil {
						where["file "+d.Name()] = string(b)
					}
				}
				return nil
			})
			for wname, text := range where {
				for nname, needle := range needles {
					if strings.Contains(text, needle) {
						t.Errorf("%s leaks %s:\nargs: %s\n%s", wname, nname, canaryArgs(tc.args), canaryMask(text, tok, sig))
					}
				}
			}
		})
	}
}

// canaryRun runs one command line in convctl-exporter's program (every
// command, the exporter linked in). A command that serves (serve, exporter)
// is stopped once it has printed its first line, as a user's Ctrl-C would.
func canaryRun(t *testing.T, args []string, getenv func(string) string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := &testpeer.Buffer{OnWrite: cancel}
	if len(args) == 0 || (args[0] != "serve" && args[0] != "exporter") {
		out.OnWrite = nil
	}
	errOut := &testpeer.Buffer{}
	ios := &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	done := make(chan struct{})
	go func() {
		defer close(done)
		LinkedForTest.Run(ctx, args, ios, getenv)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("did not finish: %s", canaryArgs(args))
	}
	if ctx.Err() == context.DeadlineExceeded {
		t.Errorf("ran into the test's deadline: %s", canaryArgs(args))
	}
	return out.String(), errOut.String()
}

// canaryMask shows a failure without printing the canary in full either.
func canaryMask(s, tok, sig string) string {
	s = strings.ReplaceAll(s, tok, "<TOKEN>")
	s = strings.ReplaceAll(s, sig, "<SIGNATURE>")
	return strings.ReplaceAll(s, canarySecret, "<SECRET>")
}

// canaryArgs shows a command line with the canary masked: any argument
// with three dot-separated parts stands for the token.
func canaryArgs(args []string) string {
	shown := make([]string, len(args))
	for i, a := range args {
		if strings.Count(a, ".") >= 2 && len(a) > 100 {
			a = "<TOKEN…>"
		}
		shown[i] = strings.ReplaceAll(a, canarySecret, "<SECRET>")
	}
	return strings.Join(shown, " ")
}
