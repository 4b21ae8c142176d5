package cli

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real mains as the "convctl" and
// "convctl-exporter" commands of testdata/script/*.txtar. It also puts both
// on PATH for every test of this package, where `convctl exporter` finds its
// companion.
func TestMain(m *testing.M) {
	if LinkedForTest.Exporter == nil {
		fmt.Fprintln(os.Stderr, "LinkedForTest is not set: link_test.go is missing")
		os.Exit(1)
	}
	testscript.Main(m, map[string]func(){
		"convctl":          func() { os.Exit(Main(Program{})) },
		"convctl-exporter": func() { os.Exit(Main(LinkedForTest)) },
	})
}

// TestScripts runs every end-to-end script: each documented example and both
// README commands, as a user would type them.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"readurl": cmdReadURL,
		},
	})
}

// cmdReadURL is "readurl VAR FILE": wait (at most 10 s) for a background
// `convctl serve --url-file FILE` to write its URL, then set $VAR to it.
func cmdReadURL(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: readurl VAR FILE")
	}
	path := ts.MkAbs(args[1])
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			ts.Setenv(args[0], strings.TrimSpace(string(b)))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 10s: did serve start?", args[1])
		}
		<-tick.C
	}
}
