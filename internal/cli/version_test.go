package cli

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	for _, tc := range []struct {
		b    buildInfo
		want string
	}{
		{buildInfo{Version: "v1.2.3", Revision: "0123456789abcdef0123", Time: "2026-11-29T18:00:00Z", Go: "go1.26"},
			"convctl v1.2.3 (0123456789ab, 2026-11-29T18:00:00Z) go1.26\n"},
		{buildInfo{Version: "dev", Revision: "abc", Modified: true, Go: "go1.26"}, "convctl dev (abc, modified) go1.26\n"},
		{buildInfo{Version: "dev", Go: "go1.26"}, "convctl dev go1.26\n"},
	} {
		if got := versionText(tc.b); got != tc.want {
			t.Errorf("versionText(%+v) = %q, want %q", tc.b, got, tc.want)
		}
	}
}

// `convctl version` and `convctl --version` print the same line.
func TestVersionCommandAndFlag(t *testing.T) {
	var outs []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		io, _, out, errOut := TestIO()
		if code := Run(context.Background(), args, io, func(string) string { return "" }); code != exitOK {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		if !strings.HasPrefix(out.String(), "convctl ") || !strings.HasSuffix(out.String(), " "+runtime.Version()+"\n") {
			t.Errorf("%v printed %q", args, out)
		}
		outs = append(outs, out.String())
	}
	if outs[0] != outs[1] {
		t.Errorf("version %q and --version %q differ", outs[0], outs[1])
	}
}

// A mistyped command gets "did you mean", and exit 2.
func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tokn"}, "Did you mean this?\n\ttoken"},
		{[]string{"conect"}, "Did you mean this?\n\tconnect"},
		{[]string{"token", "inspct"}, "Did you mean this?\n\tinspect"},
	} {
		io, _, _, errOut := TestIO()
		if code := Run(context.Background(), tc.args, io, func(string) string { return "" }); code != exitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// --color always colors a pipe, never and --no-color never color a
// terminal, auto follows the terminal and NO_COLOR.
func TestColorFlag(t *testing.T) {
	const tok = "not-a-token" // inspect reports it invalid, in red when colored
	for _, tc := range []struct {
		args    []string
		tty     bool
		noColor string
		want    bool
		code    int
	}{
		{args: nil, tty: true, want: true, code: 1},
		{args: nil, tty: false, want: false, code: 1},
		{args: nil, tty: true, noColor: "1", want: false, code: 1},
		{args: []string{"--color", "always"}, tty: false, want: true, code: 1},
		{args: []string{"--color", "always"}, tty: true, noColor: "1", want: true, code: 1},
		{args: []string{"--color", "never"}, tty: true, want: false, code: 1},
		{args: []string{"--no-color"}, tty: true, want: false, code: 1},
		{args: []string{"--no-color", "--color", "always"}, tty: true, code: 2},
		{args: []string{"--color", "sometimes"}, tty: true, code: 2},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			io, _, out, _ := TestIO()
			io.SetTTY(tc.tty)
			if tc.noColor != "" {
				io.noColor = true // as SystemIO does for NO_COLOR
			}
			code := Run(context.Background(), append(append([]string{"token", "inspect"}, tc.args...), tok), io, func(string) string { return "" })
			if code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			if got := strings.Contains(out.String(), "\x1b["); code == 1 && got != tc.want {
				t.Errorf("colored = %v, want %v:\n%q", got, tc.want, out)
			}
		})
	}
}
