//go:build !unix

package cli

// execProgram is nil where a process cannot replace itself (Windows):
// handOff runs the companion as a child and waits for it.
var execProgram func(path string, argv, env []string) error
