package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// exporterProgram is convctl with the Prometheus exporter linked in.
// Prometheus' client library (with protobuf, procfs and runtime/metrics)
// costs about 1.4 ms of init and 5 MB of binary on every start, so the
// convctl binary leaves it out and `convctl exporter` hands its command line
// to this program, the way git runs git-foo for `git foo`.
const exporterProgram = "convctl-exporter"

// handOff runs this command line (f.Args, unchanged) in the companion
// program name. From Main on a Unix system it replaces this process, so the
// companion keeps the PID, the terminal and the signals a supervisor sends.
// Otherwise the companion runs as a child on f.IO until it exits or ctx
// ends (then it is interrupted, as Ctrl-C would).
func handOff(ctx context.Context, f *Factory, name string) error {
	self, err := os.Executable()
	if err != nil {
		self = ""
	}
	path, err := findCompanion(name, self, exec.LookPath)
	if err != nil {
		return cannotFinish(err)
	}
	if f.Exec != nil {
		err := f.Exec(path, append([]string{path}, f.Args...), os.Environ())
		return cannotFinish(fmt.Errorf("running %s: %w", path, err))
	}
	return runChild(ctx, f.IO, path, f.Args)
}

// runChild runs path with args on io and exits as it did.
func runChild(ctx context.Context, io *IOStreams, path string, args []string) error {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = io.In, io.Out, io.ErrOut
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" {
			// No interrupt to send; a Ctrl-C on the console reached the
			// child as it reached us. WaitDelay bounds the wait.
			return nil
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	cmd.WaitDelay = 5 * time.Second // then it is killed
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return silentExit(ee.ExitCode()) // it said what went wrong
	case err != nil:
		return cannotFinish(fmt.Errorf("running %s: %w", path, err))
	}
	return nil
}

// findCompanion looks for program name next to self (the running
// executable, symlinks resolved: make build and go install put both in one
// directory), then on PATH.
func findCompanion(name, self string, lookPath func(string) (string, error)) (string, error) {
	file := name
	if runtime.GOOS == "windows" {
		file += ".exe"
	}
	if self != "" {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		p := filepath.Join(filepath.Dir(self), file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := lookPath(name); err == nil {
		return p, nil
	}
	where := "on PATH"
	if self != "" {
		where = "next to " + self + " or on PATH"
	}
	return "", fmt.Errorf(`%[1]s is not %[2]s.
'convctl exporter' runs it: %[1]s is convctl with Prometheus' client library
linked in, left out of convctl so that every other command starts fast.
Install it beside convctl: go install github.com/convctl/convctl/cmd/%[1]s@latest
(make build builds both); from a checkout: go run ./cmd/%[1]s exporter [flags]`, name, where)
}
