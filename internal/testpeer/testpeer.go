// Package testpeer starts the real programs convctl's tests talk to (Debian's
// tinyproxy, ...) on loopback, each stopped by the test that started it, and
// holds the one rule for a real peer that is missing: Missing skips the test
// loudly, except under CI=true, where it fails (CI installs every real peer:
// .ci/run). It is for tests only; nothing in the shipped binary imports it.
package testpeer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Missing ends a test that cannot run because a real peer (a program, a
// browser, an npm package) is not installed: a loud skip on a developer
// machine, a failure under CI=true. why says what is missing and how to
// install it.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true requires it, and it is missing: %s", why)
	}
	t.Skipf("SKIPPED, NOT RUN: %s (with CI=true this is a failure)", why)
}

// Need returns the path of a program the test needs, looked up on PATH and
// then in /usr/sbin and /usr/bin (Debian puts some daemons in sbin, which a
// user's PATH may lack). Without it the test ends through Missing.
func Need(t testing.TB, program, debianPackage string) string {
	t.Helper()
	if p, ok := Find(program); ok {
		return p
	}
	Missing(t, fmt.Sprintf("%s is not installed (Debian package %s; .ci/run installs it): this test drives the real program", program, debianPackage))
	return ""
}

// Find is Need's look-up without the verdict, for a benchmark that measures
// what it can.
func Find(program string) (string, bool) {
	if p, err := exec.LookPath(program); err == nil {
		return p, true
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
		p := filepath.Join(dir, program)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}
