package testpeer

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// verdictTB records how a test was ended instead of ending it.
type verdictTB struct {
	testing.TB
	skipped, failed string
}

// Each ends the goroutine, as testing's do; run the code under test in
// its own goroutine (call).
func (v *verdictTB) Helper() {}
func (v *verdictTB) Skipf(format string, a ...any) {
	v.skipped = sprintf(format, a...)
	runtime.Goexit()
}
func (v *verdictTB) Fatalf(format string, a ...any) {
	v.failed = sprintf(format, a...)
	runtime.Goexit()
}

// call runs f with v in a goroutine of its own and waits for it.
func (v *verdictTB) call(f func(testing.TB)) {
	done := make(chan struct{})
	go func() { defer close(done); f(v) }()
	<-done
}

// A missing peer is a loud skip on a developer machine and a failure
// under CI=true, for every suite that calls Missing or Need.
func TestMissing(t *testing.T) {
	const prog = "convctl-no-such-program-4f1c"
	for _, ci := range []string{"", "false", "true"} {
		t.Run("CI="+ci, func(t *testing.T) {
			t.Setenv("CI", ci)
			v := &verdictTB{TB: t}
			v.call(func(tb testing.TB) {
				if p := Need(tb, prog, "nothing"); p != "" {
					t.Errorf("Need found %q", p)
				}
			})
			got := v.skipped
			if ci == "true" {
				got = v.failed
				if v.skipped != "" {
					t.Errorf("skipped under CI=true: %s", v.skipped)
				}
			} else if v.failed != "" {
				t.Errorf("failed outside CI: %s", v.failed)
			}
			if !strings.Contains(got, prog+" is not installed (Debian package nothing") {
				t.Errorf("verdict %q does not say what is missing", got)
			}
			if ci != "true" && !strings.HasPrefix(got, "SKIPPED, NOT RUN: ") {
				t.Errorf("skip %q is not loud", got)
			}
		})
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
