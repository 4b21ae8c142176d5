package cli

import (
	"errors"
	"fmt"
)

// Exit codes, the contract's promise to scripts (docs/exit-codes.md).
const (
	exitOK           = 0 // what was checked is fine (warnings allowed)
	exitFailed       = 1 // what was checked failed: invalid token, denied, expectation not met
	exitUsage        = 2 // usage or input error: bad flag, no token, unreadable file
	exitCannotFinish = 3 // could not finish: unreachable, timeout, protocol error
)

// exitError carries an exit code chosen by a command. A nil Err means the
// command already said everything (its report shows the failure): exit quietly.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a usage or input error: exit 2, message on stderr.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// asUsage marks err as a usage or input error (exit 2).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// cannotFinish marks err as "could not finish" (exit 3).
func cannotFinish(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitCannotFinish, err: err}
}

// errFailed is returned after a report that shows a failed check: exit 1, nothing more to say.
var errFailed = &exitError{code: exitFailed}

// silentExit returns an error that exits with code and prints nothing more.
func silentExit(code int) error {
	if code == exitOK {
		return nil
	}
	return &exitError{code: code}
}

// exitCodeOf maps an error returned by a command to the process's exit code.
// Errors no command classified are "could not finish".
func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isInputError(err) {
		return exitUsage
	}
	return exitCannotFinish
}
