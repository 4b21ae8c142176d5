package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A command line naming a command is run on a tree holding that command
// alone. The user must not see a difference: every command's --help, and a
// bad flag's error, read the same as on the whole tree.
func TestNarrowTreeSaysTheSame(t *testing.T) {
	getenv := func(string) string { return "" }
	full := NewCmdRoot(NewFactory(&IOStreams{}, getenv))
	for _, c := range commandSet {
		if got := c.build(NewFactory(&IOStreams{}, getenv), "").Name(); got != c.name {
			t.Fatalf("commandSet names %q but builds %q", c.name, got)
		}
	}
	run := func(args []string, whole bool) (int, string) {
		ios, _, out, errOut := TestIO()
		f := NewFactory(ios, getenv)
		f.Args = args
		root := newCmdRootFor(f, args)
		if whole {
			root = NewCmdRoot(f)
		}
		root.SetArgs(args)
		root.SetOut(ios.Out)
		root.SetErr(ios.ErrOut)
		err := root.ExecuteContext(context.Background())
		return exitCodeOf(err), out.String() + errOut.String() + errText(err)
	}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Hidden || cmd.Name() == "help" || cmd.Name() == "completion" {
			return
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		if len(path) > 0 {
			for _, extra := range [][]string{{"--help"}, {"--no-such-flag"}} {
				args := append(append([]string{}, path...), extra...)
				narrowCode, narrow := run(args, false)
				wholeCode, whole := run(args, true)
				if narrowCode != wholeCode || narrow != whole {
					t.Errorf("convctl %s: the narrow tree says (exit %d)\n%s\nthe whole tree (exit %d)\n%s",
						strings.Join(args, " "), narrowCode, narrow, wholeCode, whole)
				}
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(full)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "error: " + err.Error()
}
