//go:build unix

package cli

import "syscall"

// execProgram replaces this process with another program; it returns only
// on failure.
var execProgram = syscall.Exec
