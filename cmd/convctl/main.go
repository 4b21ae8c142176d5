// Command convctl diagnoses Twilio Conversations client connections: it
// inspects Access Tokens, walks a real Twilsock connection through every client
// state, runs a local Twilsock server with fault injection, and checks all of
// it in CI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(runProcess()) }

// runProcess runs the process's own command line with SIGINT and SIGTERM
// cancelling the context, so long commands (serve, connect --hold) stop cleanly.
func runProcess() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args[1:], SystemIO(os.Getenv), os.Getenv)
}

// run executes one command line and returns the exit code. It is the one
// place where errors become exit codes and messages on stderr.
func run(ctx context.Context, args []string, io *IOStreams, getenv func(string) string) int {
	f := newFactory(io, getenv)
	root := newCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	err := root.ExecuteContext(ctx)
	code := exitCodeOf(err)
	if err != nil {
		if msg := err.Error(); !isSilent(err) && msg != "" {
			cs := io.ErrColorScheme()
			fmt.Fprintf(io.ErrOut, "%s %s\n", cs.Red("error:"), msg)
		}
	}
	return code
}
