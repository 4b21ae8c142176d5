package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs the process's own command line with SIGINT and SIGTERM
// cancelling the context, so long commands (serve, connect --hold) stop
// cleanly, and returns the exit code for os.Exit.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], SystemIO(os.Getenv), os.Getenv)
}

// Run executes one command line and returns the exit code. It is the one
// place where errors become exit codes and messages on stderr.
func Run(ctx context.Context, args []string, io *IOStreams, getenv func(string) string) int {
	f := NewFactory(io, getenv)
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	code := exitCodeOf(err)
	if err != nil {
		if msg := scrubArgs(err.Error(), args); !isSilent(err) && msg != "" {
			cs := io.ErrColorScheme()
			fmt.Fprintf(io.ErrOut, "%s %s\n", cs.Red("error:"), msg)
		}
	}
	return code
}
