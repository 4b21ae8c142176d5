package tokensource

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A realistic token; tests check that no message repeats it.
const tok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJBQzEyMyIsImdyYW50cyI6e319.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"

// checkErr asserts that err is an input error whose message holds every want
// and none of the secrets.
func checkErr(t *testing.T, err error, want []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	if !errors.Is(err, ErrInput) {
		t.Errorf("error %q does not match ErrInput", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	for _, s := range append(secrets, tok, "c2lnbmF0dXJl") {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks %q", err, s)
		}
	}
}

func fetch(t *testing.T, s Spec) (string, error) {
	t.Helper()
	src, err := s.Source()
	if err != nil {
		t.Fatalf("Source: %v", err)
	}
	return src.Fetch(context.Background())
}

func TestSpecSource(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{"nothing", Spec{}, []string{"give a token: TOKEN, - (stdin), --token-file, --token-env, --token-cmd or --token-url"}},
		{"two", Spec{File: "f", Env: "E"}, []string{"--token-file and --token-env both given; pick one"}},
		{"arg and url", Spec{Arg: tok, URL: "http://h"}, []string{"TOKEN and --token-url both given"}},
		{"three", Spec{Arg: "-", Cmd: "c", URL: "http://h"}, []string{"-, --token-cmd and --token-url all given; pick one"}},
		{"field without url", Spec{File: "f", Field: "a.b"}, []string{"--token-field only applies to --token-url"}},
		{"blank arg", Spec{Arg: "  \n"}, []string{"TOKEN argument is blank"}},
		{"bearer only", Spec{Arg: "Bearer "}, []string{"TOKEN argument is blank"}},
		{"stdin missing", Spec{Arg: "-"}, []string{"no stdin"}},
		{"not http", Spec{URL: "ftp://user:hunter2@example.com/t?key=k3y"}, []string{"--token-url must be an http:// or https:// URL"}},
		{"no host", Spec{URL: "http:///token"}, []string{"with a host"}},
		{"unparsable url", Spec{URL: "http://[::1/x?key=k3y"}, []string{"--token-url must be"}},
		{"empty field part", Spec{URL: "http://h", Field: "data..token"}, []string{`--token-field "data..token" has an empty part`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := tt.spec.Source()
			if src != nil {
				t.Errorf("got a source %q along with the error", src.Name())
			}
			checkErr(t, err, tt.want, "hunter2", "k3y")
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		spec Spec
		want string
	}{
		{Spec{Arg: tok}, "the TOKEN argument"},
		{Spec{Arg: "-", Stdin: strings.NewReader("")}, "stdin"},
		{Spec{File: "/run/t"}, "--token-file /run/t"},
		{Spec{Env: "TOK"}, "--token-env TOK"},
		{Spec{Cmd: "vault read -field=token secret/x"}, "--token-cmd"},
		{Spec{URL: "https://user:pw@example.com:8443/a/b?key=k3y#f"}, "--token-url https://example.com:8443"},
	}
	for _, tt := range tests {
		src, err := tt.spec.Source()
		if err != nil {
			t.Fatalf("%+v: %v", tt.spec, err)
		}
		if got := src.Name(); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
}

func TestArg(t *testing.T) {
	src, err := Spec{Arg: "  bearer " + tok + "\n"}.Source()
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := src.Fetch(context.Background()); got != tok || err != nil {
			t.Errorf("Fetch = %q, %v", got, err)
		}
	}
}

// countingReader counts reads, to show stdin is read once.
type countingReader struct {
	r     io.Reader
	reads atomic.Int32
}

func (c *countingReader) Read(p []byte) (int, error) { c.reads.Add(1); return c.r.Read(p) }

func TestStdin(t *testing.T) {
	t.Run("token, read once", func(t *testing.T) {
		cr := &countingReader{r: strings.NewReader(tok + "\n")}
		src, err := Spec{Arg: "-", Stdin: cr}.Source()
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if got, err := src.Fetch(context.Background()); got != tok || err != nil {
				t.Fatalf("Fetch = %q, %v", got, err)
			}
		}
		if n := cr.reads.Load(); n > 2 {
			t.Errorf("stdin read %d times; it should be drained once", n)
		}
	})
	t.Run("empty", func(t *testing.T) {
		_, err := fetch(t, Spec{Arg: "-", Stdin: strings.NewReader(" \n")})
		checkErr(t, err, []string{"stdin was empty: pipe the token in"})
	})
	t.Run("too big", func(t *testing.T) {
		_, err := fetch(t, Spec{Arg: "-", Stdin: strings.NewReader(strings.Repeat("a", MaxSize+1))})
		checkErr(t, err, []string{"stdin holds more than 1048576 bytes"})
	})
	t.Run("read error", func(t *testing.T) {
		pr, pw := io.Pipe()
		pw.CloseWithError(errors.New("device gone"))
		_, err := fetch(t, Spec{Arg: "-", Stdin: pr})
		checkErr(t, err, []string{"cannot read stdin: device gone"})
	})
	t.Run("context ends while the pipe stays open", func(t *testing.T) {
		pr, pw := io.Pipe()
		src, err := Spec{Arg: "-", Stdin: pr}.Source()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := src.Fetch(ctx)
			errc <- err
		}()
		cancel()
		select {
		case err = <-errc:
		case <-time.After(10 * time.Second):
			t.Fatal("Fetch did not return after its context was cancelled")
		}
		checkErr(t, err, []string{"stdin"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v does not match context.Canceled", err)
		}
		// A later Fetch with a live context still gets the token.
		go func() { io.WriteString(pw, tok); pw.Close() }()
		got, err := src.Fetch(context.Background())
		if got != tok || err != nil {
			t.Errorf("Fetch after cancel = %q, %v", got, err)
		}
	})
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFile(t *testing.T) {
	t.Run("re-read on every Fetch", func(t *testing.T) {
		p := writeFile(t, "token", tok+"\n")
		src, err := Spec{File: p}.Source()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := src.Fetch(context.Background()); got != tok || err != nil {
			t.Fatalf("Fetch = %q, %v", got, err)
		}
		if err := os.WriteFile(p, []byte("Bearer second.token.here\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := src.Fetch(context.Background()); got != "second.token.here" || err != nil {
			t.Errorf("second Fetch = %q, %v", got, err)
		}
	})
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name, path string
		want       []string
	}{
		{"missing", missing, []string{"--token-file " + missing + ": cannot read it: no such file or directory; check the path"}},
		{"directory", t.TempDir(), []string{"cannot read it:", "is a directory"}},
		{"empty", writeFile(t, "empty", "\n\t\n"), []string{"is empty: write the token into it"}},
		{"too big", writeFile(t, "big", strings.Repeat("a", MaxSize+1)), []string{"larger than 1 MiB, so not a token file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetch(t, Spec{File: tt.path})
			checkErr(t, err, tt.want)
		})
	}
	t.Run("missing matches fs.ErrNotExist", func(t *testing.T) {
		_, err := fetch(t, Spec{File: missing})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v does not match fs.ErrNotExist", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		p := writeFile(t, "locked", tok)
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		_, err := fetch(t, Spec{File: p})
		checkErr(t, err, []string{"permission denied; check the file's permissions"})
	})
}

func TestEnv(t *testing.T) {
	env := map[string]string{"TOK": " " + tok + "\n", "BLANK": "  "}
	getenv := func(k string) string { return env[k] }
	src, err := Spec{Env: "TOK", Getenv: getenv}.Source()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := src.Fetch(context.Background()); got != tok || err != nil {
		t.Fatalf("Fetch = %q, %v", got, err)
	}
	env["TOK"] = "bearer a.b.c"
	if got, err := src.Fetch(context.Background()); got != "a.b.c" || err != nil {
		t.Errorf("Fetch after change = %q, %v", got, err)
	}
	for _, name := range []string{"UNSET", "BLANK"} {
		_, err := fetch(t, Spec{Env: name, Getenv: getenv})
		checkErr(t, err, []string{"--token-env " + name + ": environment variable " + name + " is not set or is empty; export it"})
	}
}

func TestCmd(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	t.Run("stdout, run again on each Fetch", func(t *testing.T) {
		counter := filepath.Join(t.TempDir(), "n")
		src, err := Spec{Cmd: `echo x >> "` + counter + `"; printf 'Bearer tok.%s.sig\n' "$(wc -l < "` + counter + `" | tr -d ' ')"; echo noise >&2`}.Source()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"tok.1.sig", "tok.2.sig"} {
			if got, err := src.Fetch(context.Background()); got != want || err != nil {
				t.Errorf("Fetch = %q, %v; want %q", got, err, want)
			}
		}
	})
	long := strings.Repeat("é", 300)
	tests := []struct {
		name, cmd string
		want      []string
		notWant   []string
	}{
		{"exit status and stderr", "echo 'vault: permission denied' >&2; echo more >&2; exit 3",
			[]string{"--token-cmd failed (exit status 3): vault: permission denied; run the command by hand to see why"}, []string{"more"}},
		{"not found", "no-such-command-convctl-test",
			[]string{"--token-cmd failed (exit status 127):", "not found"}, nil},
		{"long stderr is cut", "echo " + long + " >&2; exit 1",
			[]string{strings.Repeat("é", 100) + "…"}, []string{strings.Repeat("é", 101)}},
		{"token on stderr is redacted", "echo \"bad token " + tok + "\" >&2; exit 1",
			[]string{"bad token eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "<redacted>"}, nil},
		{"printed nothing", "echo 'warming up' >&2",
			[]string{"--token-cmd printed nothing on stdout (stderr: warming up); make it print the token"}, nil},
		{"printed blanks", "printf '\\n  \\n'", []string{"--token-cmd printed nothing on stdout; make it print the token"}, nil},
		{"too much output", "head -c 1100000 /dev/zero | tr '\\0' a", []string{"printed more than 1048576 bytes"}, nil},
		{"killed", "kill -9 $$", []string{"--token-cmd failed (signal: killed)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fetch(t, Spec{Cmd: tt.cmd})
			checkErr(t, err, tt.want, tt.notWant...)
		})
	}
	t.Run("context deadline", func(t *testing.T) {
		src, err := Spec{Cmd: "exec sleep 30"}.Source()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = src.Fetch(ctx)
		checkErr(t, err, []string{"--token-cmd did not finish: context deadline exceeded"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v does not match context.DeadlineExceeded", err)
		}
	})
	t.Run("grandchild holding stdout does not hang Fetch", func(t *testing.T) {
		src, err := Spec{Cmd: "sleep 30 & sleep 30"}.Source()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = src.Fetch(ctx)
		checkErr(t, err, []string{"did not finish"})
	})
}
