package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Program is what a binary built on this command tree links in beyond what
// every convctl binary has. cmd/convctl links nothing more: every start of
// every command pays for what a binary links (Go runs each package's init,
// and its own start grows with the code that can be reached), and
// `convctl token inspect` is meant to start about as fast as golang-jwt's
// jwt tool. cmd/convctl-exporter links the Prometheus exporter.
type Program struct {
	// Exporter builds `convctl exporter`'s HTTP handler. Nil: this program
	// hands `convctl exporter` to the convctl-exporter program (companion.go).
	Exporter ExporterHandlerFunc
}

// Main runs the process's own command line and returns the exit code for
// os.Exit. Commands that run for a while (serve, connect --hold, exporter…)
// stop cleanly on SIGINT or SIGTERM: their context is cancelled. Quick ones
// (token inspect, token mint, version) keep the default disposition, which
// ends the process at once, and skip the cost of the signal watcher
// (goroutines that wake threads: about a fifth of a token inspect's start).
func Main(p Program) int {
	var stop context.CancelFunc = func() {}
	defer func() { stop() }()
	interrupt := func(ctx context.Context) context.Context {
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		return ctx
	}
	return p.run(context.Background(), os.Args[1:], SystemIO(os.Getenv), os.Getenv, interrupt)
}

// Run executes one command line with no exporter linked and no signal
// handling (ctx is the caller's to cancel) and returns the exit code.
func Run(ctx context.Context, args []string, io *IOStreams, getenv func(string) string) int {
	return Program{}.Run(ctx, args, io, getenv)
}

// Run executes one command line in p, as Main does but with no signal
// handling: ctx is the caller's to cancel.
func (p Program) Run(ctx context.Context, args []string, io *IOStreams, getenv func(string) string) int {
	return p.run(ctx, args, io, getenv, nil)
}

// run is the one place where errors become exit codes and messages on stderr.
func (p Program) run(ctx context.Context, args []string, io *IOStreams, getenv func(string) string, interrupt func(context.Context) context.Context) int {
	f := NewFactory(io, getenv)
	f.Args = args
	f.Exporter = p.Exporter
	f.interrupt = interrupt
	if interrupt != nil { // Main: this process is ours to replace
		f.Exec = execProgram
	}
	root := newCmdRootFor(f, args)
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
