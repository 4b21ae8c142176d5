package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/convctl/convctl/pkg/debuglog"
)

// Factory holds what every command needs from the outside world, so tests can
// replace each piece.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	Now    func() time.Time

	HTTPClient *http.Client // what --token-url fetches with

	// Args is the command line being run (without the program name), as
	// handed on to a companion program (companion.go).
	Args []string
	// Exporter builds the exporter's handler; nil when not linked (Program).
	Exporter ExporterHandlerFunc
	// Exec replaces this process with another program: syscall.Exec, set
	// by Main where the system has it. Nil (Run, tests, Windows): run the
	// other program as a child instead (companion.go).
	Exec func(path string, argv, env []string) error

	// interrupt, when set (by Main), makes a context that SIGINT and SIGTERM
	// cancel. The root command applies it to every command not marked quick.
	interrupt func(context.Context) context.Context
}

func NewFactory(io *IOStreams, getenv func(string) string) *Factory {
	return &Factory{
		IO:         io,
		Getenv:     getenv,
		Now:        time.Now,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	}
}

// quick marks a command that finishes at once: it keeps the default signal
// disposition (SIGINT ends the process) rather than paying for a watcher.
const quick = "convctl/quick"

func markQuick(cmd *cobra.Command) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[quick] = "true"
}

// NewCmdRoot builds the whole command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := newRootCommand(f)
	for _, c := range commandSet {
		root.AddCommand(c.build(f, ""))
	}
	return root
}

// newCmdRootFor builds the tree args need: when args[0] names a command,
// the root with that command alone (and of its subcommands, the one args[1]
// names), since building every command (some 200 flags) is a tenth of a
// quick command's start; otherwise (help, completion, a flag first, a typo
// to suggest for) the whole tree.
func newCmdRootFor(f *Factory, args []string) *cobra.Command {
	if len(args) > 0 {
		for _, c := range commandSet {
			if c.name == args[0] {
				sub := ""
				if len(args) > 1 {
					sub = args[1]
				}
				root := newRootCommand(f)
				root.AddCommand(c.build(f, sub))
				root.CompletionOptions.DisableDefaultCmd = true // args[0] is not "completion"
				return root
			}
		}
	}
	return NewCmdRoot(f)
}

// newRootCommand is the root with its own flags and no commands.
func newRootCommand(f *Factory) *cobra.Command {
	var (
		noColor, showVersion bool
		color                string
	)
	root := &cobra.Command{
		Use:   "convctl <command>",
		Short: "Diagnose Twilio Conversations client connections",
		Long: `convctl tells you why a Twilio Conversations client will not connect.

It inspects Access Tokens and names the Twilio error the service would answer,
walks a real Twilsock connection (the protocol under every Conversations SDK)
through every client state with timings and a verdict, checks every endpoint
a client needs through the network it is on (proxy, TLS inspection, IPv6),
and runs a local Twilsock server with fault injection so all of it works
offline and in CI.`,
		Example: `  # See every state a client goes through, against the built-in local server
  convctl demo

  # Why was my token rejected?
  convctl token inspect --secret-env TWILIO_API_SECRET --token-env TOKEN

  # Open a real connection and log every frame
  convctl connect --debug --token-url https://example.com/token

  # Can this network reach every endpoint a client needs?
  convctl netcheck`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if noColor && cmd.Flags().Changed("color") && color != "never" {
				return conflictError("no-color", "color", "--no-color is --color never")
			}
			switch {
			case noColor || color == "never":
				f.IO.SetColor(ColorNever)
			case color == "always":
				f.IO.SetColor(ColorAlways)
			}
			if f.interrupt != nil && cmd.Annotations[quick] == "" {
				cmd.SetContext(f.interrupt(cmd.Context()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				_, err := fmt.Fprint(f.IO.Out, versionText(readBuildInfo()))
				return err
			}
			return cmd.Help()
		},
	}
	root.PersistentFlags().BoolVar(&noColor, "no-color", false, "never color output (same as --color never; also: NO_COLOR=1)")
	pf := root.PersistentFlags()
	pf.Var(&enumValue{p: &color, allowed: []string{"auto", "always", "never"}}, "color",
		"color output (auto: on a terminal, unless NO_COLOR is set)")
	color = "auto"
	completeWith(root, "color", []string{"auto", "always", "never"})
	// --version is ours rather than cobra's: cobra prints its version
	// through text/template, whose reflection keeps every exported method of
	// every type in the binary (megabytes, paid on every start).
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "version for convctl")
	root.SetFlagErrorFunc(flagError)
	markQuick(root) // bare convctl, --help, --version
	return root
}

// flagError words every flag error one way, as a usage error (exit 2).
func flagError(cmd *cobra.Command, err error) error {
	return usageErrorf("%v\nRun '%s --help' for usage.", safeFlagError(err), cmd.CommandPath())
}

// noArgs rejects positional arguments as a usage error (exit 2), naming a
// near miss when the argument looks like a mistyped command.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if kind := debuglog.Sensitive(args[0]); kind != "" {
		return usageErrorf("%s takes no argument here: %s.\n%s", cmd.CommandPath(), hiddenValue(kind), pastedTokenAdvice)
	}
	msg := "unknown command " + `"` + args[0] + `"` + " for " + `"` + cmd.CommandPath() + `"`
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // a typo of one or two letters, as cobra's own default
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return usageErrorf("%s\nRun '%s --help' for usage.", msg, cmd.CommandPath())
}

// pastedTokenAdvice follows an error about a token given where none belongs.
const pastedTokenAdvice = "To inspect a token: convctl token inspect --token-env NAME (or --token-file PATH, or - to read stdin); a token as an argument is visible to every user in ps."

// maxArgs is cobra.MaximumNArgs with exit code 2.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s takes at most %d argument(s), got %d\nRun '%s --help' for usage.", cmd.CommandPath(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}

func isSilent(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.err == nil
}
