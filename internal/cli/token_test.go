package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/tokensource"
)

func init() {
	// -update rewrites testdata/token/*.golden; another test file may have
	// declared the flag already.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func tokenGoldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkTokenGolden compares got with testdata/token/name; -update rewrites it.
func checkTokenGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "token", name)
	if tokenGoldenUpdate() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./internal/cli -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// The SIDs of testdata/tokens (fake but well-formed).
const (
	tkAccount = "AC0123456789abcdef0123456789abcdef"
	tkKey     = "SKfedcba9876543210fedcba9876543210"
	tkChat    = "IS00112233445566778899aabbccddeeff"
	tkSync    = "ISffeeddccbbaa99887766554433221100"
)

// cli runs a whole command line through Run(), as main does.
type cli struct {
	args  []string
	stdin string
	env   map[string]string
	tty   bool
}

func (c cli) run(t *testing.T) (code int, stdout, stderr string) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	in.WriteString(c.stdin)
	ios.SetTTY(c.tty)
	getenv := func(k string) string { return c.env[k] }
	code = Run(context.Background(), c.args, ios, getenv)
	return code, out.String(), errOut.String()
}

func argSource(t *testing.T, tok string) tokensource.Source {
	t.Helper()
	src, err := tokensource.Spec{Arg: tok}.Source()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestInspectOutput renders reports as a person (TTY) and a pipe see them,
// and as JSON, against golden files.
func TestInspectOutput(t *testing.T) {
	conv := loadTokenFixture(t, "conversations")
	swapped := loadTokenFixture(t, "swapped-sids")
	short := loadTokenFixture(t, "short-ttl")
	region := loadTokenFixture(t, "conversations-region")
	evil, err := inspect.Mint(inspect.MintOptions{AccountSID: tkAccount, APIKeySID: tkKey, Secret: []byte(conv.Secret),
		Identity: "\x1b[31mroot\x1b[0m\r\n", ChatServiceSID: tkChat, Now: time.Unix(conv.Iat, 0)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		token   string
		secret  string
		at      int64
		product inspect.Product
		min     time.Duration
		output  string
		tty     bool
		valid   bool
	}{
		{name: "valid.tty", token: conv.Token, secret: conv.Secret, at: conv.Iat + 60, tty: true, valid: true},
		{name: "valid.txt", token: conv.Token, secret: conv.Secret, at: conv.Iat + 60, valid: true},
		{name: "valid.json", token: conv.Token, secret: conv.Secret, at: conv.Iat + 60, output: "json", valid: true},
		{name: "invalid.tty", token: swapped.Token, secret: "wrong", at: swapped.Exp + 120, tty: true},
		{name: "invalid.txt", token: swapped.Token, secret: "wrong", at: swapped.Exp + 120},
		{name: "invalid.json", token: swapped.Token, secret: "wrong", at: swapped.Exp + 120, output: "json"},
		{name: "unverified-warnings.txt", token: short.Token, at: short.Iat + 30, valid: true},
		{name: "unverified-warnings.tty", token: short.Token, at: short.Iat + 30, tty: true, valid: true},
		{name: "min-remaining.txt", token: conv.Token, secret: conv.Secret, at: conv.Exp - 300, min: 10 * time.Minute},
		{name: "region-sync-product.txt", token: region.Token, secret: region.Secret, at: region.Iat + 1, product: inspect.ProductSync},
		{name: "malformed.txt", token: "Bearer abc.def.ghi", at: conv.Iat},
		{name: "malformed.json", token: "eyJhbGciOiJIUzI1NiJ9", at: conv.Iat, output: "json"},
		{name: "hostile-identity.txt", token: evil, secret: conv.Secret, at: conv.Iat + 60, valid: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, _, out, errOut := TestIO()
			ios.SetTTY(c.tty)
			opts := &InspectOptions{
				IO: ios, Now: func() time.Time { t.Fatal("judged against the wall clock despite --at"); return time.Time{} },
				Source: argSource(t, c.token), Output: "text", Product: inspect.ProductConversations,
				At: time.Unix(c.at, 0).UTC(), MinRemaining: c.min,
			}
			if c.output != "" {
				opts.Output = c.output
			}
			if c.product != "" {
				opts.Product = c.product
			}
			if c.secret != "" {
				opts.Secret = []byte(c.secret)
			}
			err := runInspect(context.Background(), opts)
			if code := exitCodeOf(err); code != map[bool]int{true: 0, false: 1}[c.valid] {
				t.Errorf("exit %d (%v), valid=%v", code, err, c.valid)
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr: %s", errOut)
			}
			got := out.Bytes()
			hasANSI := bytes.Contains(got, []byte("\x1b["))
			if c.tty && c.output == "" && !hasANSI {
				t.Errorf("TTY output has no color")
			}
			if !c.tty && bytes.Contains(bytes.ReplaceAll(got, []byte(`\x1b[`), nil), []byte("\x1b")) {
				t.Errorf("piped output carries escape sequences:\n%q", got)
			}
			if strings.Contains(string(got), c.secret) && c.secret != "" {
				t.Errorf("output contains the secret")
			}
			if c.output == "json" {
				var rep map[string]any
				if err := json.Unmarshal(got, &rep); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, got)
				}
				if rep["valid"] != c.valid {
					t.Errorf("JSON valid = %v", rep["valid"])
				}
			}
			checkTokenGolden(t, "inspect-"+c.name+".golden", got)
		})
	}
}

// TestInspectTextSaysWhatMatters reads the piped text for what a person must
// not miss, independent of layout.
func TestInspectTextSaysWhatMatters(t *testing.T) {
	conv := loadTokenFixture(t, "conversations")
	env := map[string]string{"S": conv.Secret, "BAD": "nope"}
	at := strconv.FormatInt(conv.Iat+60, 10)
	cases := []struct {
		args []string
		code int
		says []string
	}{
		{[]string{"token", "inspect", "--at", at, conv.Token}, 0, []string{"valid", "NOT verified (no secret given: pass --secret-env or --secret-file)", "(in 59m)", "(1m ago)", "alice"}},
		{[]string{"token", "inspect", "--at", at, "--secret-env", "S", conv.Token}, 0, []string{"verified with the secret given (HS256)"}},
		{[]string{"token", "inspect", "--at", at, "--secret-env", "BAD", conv.Token}, 1, []string{"INVALID: Twilio would answer 20107", "bad_signature (20107)", "sign with the secret of API Key " + tkKey}},
		{[]string{"token", "inspect", "--at", strconv.FormatInt(conv.Exp+180, 10), conv.Token}, 1, []string{"Twilio would answer 20104", "token expired 3m0s ago", "(3m ago)"}},
		{[]string{"token", "inspect", "--at", at, "--product", "video", conv.Token}, 1, []string{"missing_grant (20106)", "no video grant (the token has: chat)"}},
	}
	for _, c := range cases {
		code, out, errOut := cli{args: c.args, env: env}.run(t)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", c.args[2:], code, c.code, out, errOut)
		}
		for _, s := range c.says {
			if !strings.Contains(out, s) {
				t.Errorf("%v: output lacks %q:\n%s", c.args[2:], s, out)
			}
		}
		if errOut != "" {
			t.Errorf("%v: stderr %q; the report alone says it", c.args[2:], errOut)
		}
	}
}

// TestInspectFlags: flags become options, or a usage error (exit 2).
func TestInspectFlags(t *testing.T) {
	tok := loadTokenFixture(t, "conversations").Token
	env := map[string]string{"S": "sekrit", "TOK": tok}
	cases := []struct {
		name  string
		args  []string
		stdin string
		tty   bool // stdin is a terminal
		check func(t *testing.T, o *InspectOptions)
		err   string // a usage error saying this
	}{
		{name: "defaults", args: []string{tok}, check: func(t *testing.T, o *InspectOptions) {
			if o.Output != "text" || o.Product != inspect.ProductConversations || !o.At.IsZero() || o.MinRemaining != 0 || o.Secret != nil || o.Batch {
				t.Errorf("%+v", o)
			}
			if o.Source.Name() != "the TOKEN argument" {
				t.Errorf("source %s", o.Source.Name())
			}
		}},
		{name: "everything", args: []string{"-o", "json", "--product", "sync", "--at", "2026-11-25T10:00:00Z", "--min-remaining", "5m", "--secret-env", "S", "--token-env", "TOK"}, check: func(t *testing.T, o *InspectOptions) {
			if o.Output != "json" || o.Product != inspect.ProductSync || !o.At.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) || o.MinRemaining != 5*time.Minute || string(o.Secret) != "sekrit" {
				t.Errorf("%+v", o)
			}
			if o.Source.Name() != "--token-env TOK" {
				t.Errorf("source %s", o.Source.Name())
			}
		}},
		{name: "unix seconds", args: []string{"--at", "1764064800", tok}, check: func(t *testing.T, o *InspectOptions) {
			if o.At.Unix() != 1764064800 {
				t.Errorf("at %v", o.At)
			}
		}},
		{name: "dash is stdin", args: []string{"-"}, stdin: tok, check: func(t *testing.T, o *InspectOptions) {
			if o.Source.Name() != "stdin" {
				t.Errorf("source %s", o.Source.Name())
			}
		}},
		{name: "piped with no argument is stdin", args: nil, stdin: tok, check: func(t *testing.T, o *InspectOptions) {
			if o.Source.Name() != "stdin" {
				t.Errorf("source %s", o.Source.Name())
			}
		}},
		{name: "batch", args: []string{"--batch", "--secret-env", "S"}, check: func(t *testing.T, o *InspectOptions) {
			if !o.Batch || o.BatchIn == nil || o.Source != nil {
				t.Errorf("%+v", o)
			}
		}},
		{name: "batch json", args: []string{"--batch", "-o", "json"}, check: func(t *testing.T, o *InspectOptions) {}},

		{name: "bad output", args: []string{"-o", "yaml", tok}, err: `invalid argument "yaml" for "-o, --output" flag: want text or json`},
		{name: "bad product", args: []string{"--product", "chat", tok}, err: `invalid argument "chat" for "--product" flag: want conversations, sync, voice, video or any`},
		{name: "bad at", args: []string{"--at", "tomorrow", tok}, err: `want RFC 3339`},
		{name: "at out of range", args: []string{"--at", "99999999999999", tok}, err: `out of range`},
		{name: "negative min-remaining", args: []string{"--min-remaining", "-5m", tok}, err: "must not be negative"},
		{name: "min-remaining without unit", args: []string{"--min-remaining", "5", tok}, err: `invalid argument "5" for "--min-remaining"`},
		{name: "two tokens", args: []string{tok, tok}, err: "takes at most 1 argument"},
		{name: "argument and flag", args: []string{tok, "--token-env", "TOK"}, err: "TOKEN and --token-env both given"},
		{name: "nothing on a terminal", args: nil, tty: true, err: "give a token"},
		{name: "secret env unset", args: []string{"--secret-env", "NOPE", tok}, err: "NOPE is not set"},
		{name: "two secrets", args: []string{"--secret-env", "S", "--secret-file", "x", tok}, err: "pick one"},
		{name: "unknown flag", args: []string{"--secret", "x", tok}, err: "unknown flag: --secret"},
		{name: "batch with argument", args: []string{"--batch", tok}, err: "not from the TOKEN argument"},
		{name: "batch with url", args: []string{"--batch", "--token-url", "http://127.0.0.1:1/"}, err: "not from --token-env, --token-cmd or --token-url"},
		{name: "batch with text", args: []string{"--batch", "-o", "text"}, err: "--batch writes JSON lines"},
		{name: "batch file missing", args: []string{"--batch", "--token-file", "/nonexistent/tokens.txt"}, err: "--token-file /nonexistent/tokens.txt: no such file or directory"},
		{name: "batch dash and file", args: []string{"--batch", "-", "--token-file", "x"}, err: "pick one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ios, in, _, _ := TestIO()
			in.WriteString(c.stdin)
			ios.SetStdinTTY(c.tty)
			f := NewFactory(ios, func(k string) string { return env[k] })
			var got *InspectOptions
			cmd := NewCmdTokenInspect(f, func(_ context.Context, o *InspectOptions) error { got = o; return nil })
			cmd.SetArgs(append([]string{}, c.args...)) // never nil: cobra would read os.Args
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			cmd.SetFlagErrorFunc(NewCmdRoot(f).FlagErrorFunc())
			err := cmd.Execute()
			if c.err != "" {
				if err == nil || exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v (exit %d), want a usage error saying %q", err, exitCodeOf(err), c.err)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("rejected: %v", err)
			}
			c.check(t, got)
		})
	}
}

// TestTokenExitCodes runs whole command lines: 0 valid, 1 invalid, 2 usage
// or input, with the message on stderr and nothing on stdout.
func TestTokenExitCodes(t *testing.T) {
	conv := loadTokenFixture(t, "conversations")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	at := strconv.FormatInt(conv.Iat+60, 10)
	cases := []struct {
		name   string
		c      cli
		code   int
		stderr string
	}{
		{"valid", cli{args: []string{"token", "inspect", "--at", at, conv.Token}}, 0, ""},
		{"valid from stdin", cli{args: []string{"token", "inspect", "--at", at, "-"}, stdin: "  Bearer " + conv.Token + "\n"}, 0, ""},
		{"warnings only", cli{args: []string{"token", "inspect", "--at", strconv.FormatInt(conv.Exp-60, 10), conv.Token}}, 0, ""},
		{"expired", cli{args: []string{"token", "inspect", conv.Token}}, 1, ""},
		{"garbage", cli{args: []string{"token", "inspect", "garbage"}}, 1, ""},
		{"empty stdin", cli{args: []string{"token", "inspect", "-"}}, 2, "stdin was empty"},
		{"empty stdin, no argument", cli{args: []string{"token", "inspect"}}, 2, "give a token: TOKEN, - (stdin), --token-file, --token-env, --token-cmd or --token-url (nothing was piped in)"},
		{"blank argument", cli{args: []string{"token", "inspect", "  "}}, 2, "blank"},
		{"empty token file", cli{args: []string{"token", "inspect", "--token-file", empty}}, 2, "is empty"},
		{"missing token file", cli{args: []string{"token", "inspect", "--token-file", filepath.Join(dir, "nope")}}, 2, "nope"},
		{"bad flag", cli{args: []string{"token", "inspect", "--bogus"}}, 2, "unknown flag: --bogus"},
		{"batch empty", cli{args: []string{"token", "inspect", "--batch"}}, 2, "no tokens in the input"},
		{"batch blank lines only", cli{args: []string{"token", "inspect", "--batch"}, stdin: "\n  \n\n"}, 2, "no tokens in the input"},
		{"mint nothing", cli{args: []string{"token", "mint"}}, 2, "missing --account-sid, --api-key, --identity, --secret-env or --secret-file"},
		{"token alone", cli{args: []string{"token", "bogus"}}, 2, `unknown command "bogus"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := c.c.run(t)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", code, c.code, out, errOut)
			}
			if c.stderr != "" && !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, c.stderr)
			}
			if c.code == 2 && out != "" {
				t.Errorf("usage error wrote to stdout: %q", out)
			}
			if c.code != 2 && errOut != "" {
				t.Errorf("stderr %q", errOut)
			}
		})
	}
}

// batchInput mixes every fixture with blank lines and junk.
func batchInput(t *testing.T) (input string, names []string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "tokens", "*.json"))
	var b strings.Builder
	for i, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		fx := loadTokenFixture(t, name)
		b.WriteString(fx.Token + "\n")
		names = append(names, name)
		if i%5 == 0 {
			b.WriteString("\n")
			names = append(names, "")
		}
	}
	b.WriteString("not a token\n  Bearer " + loadTokenFixture(t, "conversations").Token + "  \r\n")
	names = append(names, "junk", "conversations")
	return b.String(), names
}

func TestInspectBatch(t *testing.T) {
	input, names := batchInput(t)
	conv := loadTokenFixture(t, "conversations")
	at := time.Unix(conv.Iat+60, 0)

	runBatch := func(input string, workers int) ([]byte, error) {
		ios, _, out, _ := TestIO()
		opts := &InspectOptions{IO: ios, Now: time.Now, Batch: true, BatchIn: strings.NewReader(input),
			Secret: []byte(conv.Secret), Product: inspect.ProductConversations, At: at, Workers: workers}
		err := runInspectBatch(context.Background(), opts)
		return out.Bytes(), err
	}
	out, err := runBatch(input, 0)
	if exitCodeOf(err) != exitFailed {
		t.Errorf("exit %d (%v), want 1: some tokens are invalid", exitCodeOf(err), err)
	}
	checkTokenGolden(t, "inspect-batch.jsonl.golden", out)

	// One line out per token line, in order, each naming its line.
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var lines []int
	for sc.Scan() {
		var rec struct {
			Line  int             `json:"line"`
			Valid bool            `json:"valid"`
			Claim json.RawMessage `json:"claims"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("not a JSON line: %v: %s", err, sc.Bytes())
		}
		lines = append(lines, rec.Line)
		want := names[rec.Line-1]
		if want == "" {
			t.Errorf("line %d is blank in the input but has a report", rec.Line)
		}
		if want == "junk" && rec.Valid || want == "conversations" && !rec.Valid {
			t.Errorf("line %d (%s): valid %v", rec.Line, want, rec.Valid)
		}
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] <= lines[i-1] {
			t.Fatalf("out of order: %v", lines)
		}
	}
	if nonBlank := len(names) - countEmpty(names); len(lines) != nonBlank {
		t.Errorf("%d reports for %d tokens", len(lines), nonBlank)
	}

	// Many chunks, one worker or every core: the same bytes.
	big := strings.Repeat(input, 300)
	one, err1 := runBatch(big, 1)
	many, errN := runBatch(big, 8)
	if !bytes.Equal(one, many) || exitCodeOf(err1) != exitCodeOf(errN) {
		t.Errorf("1 worker and 8 workers disagree (%d vs %d bytes)", len(one), len(many))
	}
	if n := bytes.Count(many, []byte("\n")); n != 300*len(lines) {
		t.Errorf("%d lines out, want %d", n, 300*len(lines))
	}

	// All valid: exit 0.
	if _, err := runBatch(strings.Repeat(conv.Token+"\n", 3), 0); err != nil {
		t.Errorf("all valid: %v", err)
	}
	// A line too long to be a token is judged as a malformed line and the
	// batch goes on (exit 1: a token was invalid), with and without its
	// newline, whatever the size.
	for _, long := range []int{tokensource.MaxSize + 10, 3*tokensource.MaxSize + 1, 200 << 10} {
		for _, nl := range []string{"\n", ""} {
			in := conv.Token + "\n" + strings.Repeat("x", long) + nl
			if nl != "" {
				in += conv.Token + "\n"
			}
			out, err = runBatch(in, 0)
			reports := strings.Split(strings.TrimSpace(string(out)), "\n")
			wantLines := 3
			if nl == "" {
				wantLines = 2
			}
			if long <= tokensource.MaxSize {
				if exitCodeOf(err) != exitFailed || len(reports) != wantLines {
					t.Errorf("a %d-byte line: exit %d, %d reports", long, exitCodeOf(err), len(reports))
				}
				continue
			}
			if exitCodeOf(err) != exitFailed || len(reports) != wantLines {
				t.Fatalf("a %d-byte line: exit %d (%v), %d reports:\n%.300s", long, exitCodeOf(err), err, len(reports), out)
			}
			var r struct {
				Line     int
				Valid    bool
				Findings []inspect.Finding
			}
			if err := json.Unmarshal([]byte(reports[1]), &r); err != nil {
				t.Fatal(err)
			}
			if r.Line != 2 || r.Valid || len(r.Findings) != 1 || r.Findings[0].Code != inspect.CodeMalformed ||
				!strings.Contains(r.Findings[0].Message, "line is "+strconv.Itoa(long)+" bytes, over the") {
				t.Errorf("a %d-byte line is reported as %+v", long, r)
			}
		}
	}
}

func countEmpty(s []string) int {
	n := 0
	for _, x := range s {
		if x == "" {
			n++
		}
	}
	return n
}

// TestInspectBatchStreams: a report comes out as soon as its line is in,
// while the input is still open, as a script feeding tokens one by one needs.
func TestInspectBatchStreams(t *testing.T) {
	conv := loadTokenFixture(t, "conversations")
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ios, _, _, _ := TestIO()
	ios.Out = outW
	opts := &InspectOptions{IO: ios, Now: time.Now, Batch: true, BatchIn: inR, Product: inspect.ProductConversations, At: time.Unix(conv.Iat+1, 0)}
	done := make(chan error, 1)
	go func() { done <- runInspectBatch(context.Background(), opts); outW.Close() }()

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	for i := 1; i <= 3; i++ {
		fmt.Fprintln(inW, conv.Token)
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, fmt.Sprintf(`{"line":%d,"valid":true`, i)) {
				t.Fatalf("report %d: %.80s", i, l)
			}
		case <-deadline:
			t.Fatalf("no report for line %d while the input stays open", i)
		}
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-deadline:
		t.Fatal("batch did not end when its input closed")
	}
	for range lines {
	}
}

// TestInspectBatchInterrupted: cancelling (SIGINT) ends the run at once even
// while the input stays open, exit 3.
func TestInspectBatchInterrupted(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	ios, _, _, _ := TestIO()
	ctx, cancel := context.WithCancel(context.Background())
	opts := &InspectOptions{IO: ios, Now: time.Now, Batch: true, BatchIn: inR, Product: inspect.ProductConversations}
	done := make(chan error, 1)
	go func() { done <- runInspectBatch(ctx, opts) }()
	fmt.Fprintln(inW, "a.b.c") // the batch is running
	cancel()
	select {
	case err := <-done:
		if exitCodeOf(err) != exitCannotFinish {
			t.Errorf("exit %d (%v), want 3", exitCodeOf(err), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("interrupted batch did not return")
	}
}

// TestMintMatchesHelperFixtures: `token mint` with the options Twilio's
// helper was given prints the helper's token, byte for byte.
func TestMintMatchesHelperFixtures(t *testing.T) {
	type mintRec struct {
		Identity, ChatServiceSID, SyncServiceSID, VoiceAppSID, VideoRoom, Region, Algorithm string
		VoiceIncomingAllow, NotBeforeIsIat                                                  bool
		TTLSeconds, NotBeforeOffsetSeconds                                                  int64
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "tokens", "*.json"))
	n := 0
	for _, file := range files {
		b, _ := os.ReadFile(file)
		var fx struct {
			Token, Secret string
			Iat           int64
			Mint          *mintRec
		}
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatal(err)
		}
		if fx.Mint == nil {
			continue
		}
		n++
		m := fx.Mint
		args := []string{"token", "mint", "--account-sid", tkAccount, "--api-key", tkKey, "--secret-env", "SECRET",
			"--identity", m.Identity, "--issued-at", strconv.FormatInt(fx.Iat, 10)}
		add := func(flag, v string) {
			if v != "" {
				args = append(args, flag, v)
			}
		}
		add("--chat-service-sid", m.ChatServiceSID)
		add("--sync-service-sid", m.SyncServiceSID)
		add("--voice-app-sid", m.VoiceAppSID)
		add("--video-room", m.VideoRoom)
		add("--region", m.Region)
		add("--alg", m.Algorithm)
		if m.VoiceIncomingAllow {
			args = append(args, "--voice-incoming")
		}
		if m.TTLSeconds != 0 {
			args = append(args, "--ttl", fmt.Sprintf("%ds", m.TTLSeconds))
		}
		if m.NotBeforeIsIat {
			add("--nbf", strconv.FormatInt(fx.Iat, 10))
		}
		if m.NotBeforeOffsetSeconds != 0 {
			add("--nbf", time.Unix(fx.Iat+m.NotBeforeOffsetSeconds, 0).UTC().Format(time.RFC3339))
		}
		code, out, errOut := cli{args: args, env: map[string]string{"SECRET": fx.Secret}}.run(t)
		if code != 0 || out != fx.Token+"\n" {
			t.Errorf("%s: exit %d\n got %q\nwant %q\nstderr %s", filepath.Base(file), code, out, fx.Token+"\n", errOut)
		}
		if strings.Contains(errOut, fx.Secret) {
			t.Errorf("stderr leaks the secret")
		}
	}
	if n < 10 {
		t.Errorf("only %d fixtures compared", n)
	}
}

func TestMintFlags(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret.txt")
	os.WriteFile(secretFile, []byte("file-secret\n"), 0o600)
	base := []string{"token", "mint", "--account-sid", tkAccount, "--api-key", tkKey, "--identity", "alice", "--chat-service-sid", tkChat}
	env := map[string]string{"S": "env-secret"}
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"secret from env", append(base, "--secret-env", "S"), 0, ""},
		{"secret from file", append(base, "--secret-file", secretFile), 0, ""},
		{"short ttl warns on stderr", append(base, "--secret-env", "S", "--ttl", "90s"), 0, "warning: lifetime is 1m30s, under 3m0s"},
		{"already expired is noted", append(base, "--secret-env", "S", "--issued-at", "2020-01-01T00:00:00Z"), 0, "note: token expired"},
		{"no secret", base, 2, "missing --secret-env or --secret-file"},
		{"secret unset", append(base, "--secret-env", "NOPE"), 2, "NOPE is not set"},
		{"secret file missing", append(base, "--secret-file", filepath.Join(dir, "nope")), 2, "nope"},
		{"zero ttl", append(base, "--secret-env", "S", "--ttl", "0s"), 2, "--ttl must be positive"},
		{"ttl too long", append(base, "--secret-env", "S", "--ttl", "25h"), 2, "over the 24h maximum"},
		{"ttl in ms", append(base, "--secret-env", "S", "--ttl", "3600000"), 2, `invalid argument "3600000" for "--ttl"`},
		{"bad nbf", append(base, "--secret-env", "S", "--nbf", "soon"), 2, "--nbf"},
		{"bad issued-at", append(base, "--secret-env", "S", "--issued-at", "x"), 2, "--issued-at"},
		{"bad alg", append(base, "--secret-env", "S", "--alg", "RS256"), 2, "HS256, HS384 or HS512"},
		{"messaging service", []string{"token", "mint", "--account-sid", tkAccount, "--api-key", tkKey, "--identity", "a", "--secret-env", "S", "--chat-service-sid", "MG00112233445566778899aabbccddeeff"}, 2, "Messaging Service SID (MG…)"},
		{"swapped", []string{"token", "mint", "--account-sid", tkKey, "--api-key", tkAccount, "--identity", "a", "--secret-env", "S", "--chat-service-sid", tkChat}, 2, "swapped"},
		{"no grant", []string{"token", "mint", "--account-sid", tkAccount, "--api-key", tkKey, "--identity", "a", "--secret-env", "S"}, 2, "no grant"},
		{"argument", append(base, "--secret-env", "S", "extra"), 2, `unknown command "extra"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli{args: c.args, env: env}.run(t)
			if code != c.code {
				t.Fatalf("exit %d, want %d: %s", code, c.code, errOut)
			}
			if c.stderr != "" && !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr %q lacks %q", errOut, c.stderr)
			}
			if strings.Contains(out+errOut, "env-secret") || strings.Contains(out+errOut, "file-secret") {
				t.Errorf("the secret leaked: %q %q", out, errOut)
			}
			if c.code != 0 {
				if out != "" {
					t.Errorf("stdout on failure: %q", out)
				}
				return
			}
			if !regexp.MustCompile(`^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+\n$`).MatchString(out) {
				t.Fatalf("stdout is not exactly a token and a newline: %q", out)
			}
			secret := "env-secret"
			if strings.Contains(strings.Join(c.args, " "), "--secret-file") {
				secret = "file-secret"
			}
			if r := inspect.Inspect(strings.TrimSpace(out), inspect.WithSecret([]byte(secret))); r.Signature != inspect.SignatureVerified {
				t.Errorf("signed with the wrong secret: %s", r.Signature)
			}
		})
	}
}

// TestTokenHelpExamples runs every example of `token inspect --help` and
// `token mint --help` as written, with the environment they expect: each
// must be accepted and end well (exit 0).
func TestTokenHelpExamples(t *testing.T) {
	t.Chdir(t.TempDir())
	const secret = "help-example-secret"
	now := time.Date(2026, 11, 25, 11, 30, 0, 0, time.UTC)
	tok, err := inspect.Mint(inspect.MintOptions{AccountSID: tkAccount, APIKeySID: tkKey, Secret: []byte(secret), Identity: "alice",
		ChatServiceSID: tkChat, SyncServiceSID: tkSync, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("secret.txt", []byte(secret+"\n"), 0o600)
	os.WriteFile("tokens.txt", []byte(tok+"\n"+tok+"\n"), 0o600)
	os.WriteFile("token.jwt", []byte(tok+"\n"), 0o600)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"token": %q}`, tok)
	}))
	defer srv.Close()
	env := map[string]string{
		"TWILIO_API_SECRET": secret, "TWILIO_ACCOUNT_SID": tkAccount, "TWILIO_API_KEY": tkKey,
		"CHAT_SERVICE_SID": tkChat, "SYNC_SERVICE_SID": tkSync, "TOKEN": tok, "TOKEN_URL": srv.URL + "/token",
	}
	getenv := func(k string) string { return env[k] }

	ios, _, _, _ := TestIO()
	f := NewFactory(ios, getenv)
	var commands []string
	for _, example := range []string{NewCmdTokenInspect(f, nil).Example, NewCmdTokenMint(f, nil).Example} {
		joined := strings.ReplaceAll(strings.ReplaceAll(example, "\\\n", " "), "|\n", "| ")
		for line := range strings.Lines(joined) {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "convctl ") {
				commands = append(commands, line)
			}
		}
	}
	if len(commands) < 8 {
		t.Fatalf("found %d example commands:\n%s", len(commands), strings.Join(commands, "\n"))
	}
	for _, line := range commands {
		t.Run(line, func(t *testing.T) {
			stdin := ""
			var stdout string
			for i, stage := range strings.Split(line, "|") {
				words := shellWords(t, os.Expand(strings.TrimSpace(stage), getenv))
				if n := len(words); n >= 2 && words[n-2] == "<" {
					b, err := os.ReadFile(words[n-1])
					if err != nil {
						t.Fatal(err)
					}
					stdin, words = string(b), words[:n-2]
				}
				ios, in, out, errOut := TestIO()
				in.WriteString(stdin)
				f := NewFactory(ios, getenv)
				f.Now = func() time.Time { return now }
				root := NewCmdRoot(f)
				root.SetArgs(words[1:])
				root.SetIn(ios.In)
				root.SetOut(ios.Out)
				root.SetErr(ios.ErrOut)
				if err := root.Execute(); err != nil {
					t.Fatalf("stage %d exit %d: %v\nstdout %s\nstderr %s", i+1, exitCodeOf(err), err, out, errOut)
				}
				stdin, stdout = out.String(), out.String()
			}
			if stdout == "" {
				t.Error("no output")
			}
		})
	}
}

// shellWords splits a command line as sh would for the examples: spaces,
// double and single quotes.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestShortDur(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 59 * time.Second: "59s", time.Minute: "1m", 200 * time.Second: "3m20s", 59 * time.Minute: "59m",
		2*time.Hour + 5*time.Minute: "2h5m", 3 * time.Hour: "3h", 1000 * time.Hour: "41d16h", 72 * time.Hour: "3d",
	} {
		if got := shortDur(d); got != want {
			t.Errorf("shortDur(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "now", 59 * time.Minute: "in 59m", -3 * time.Minute: "3m ago"} {
		if got := relTime(d); got != want {
			t.Errorf("relTime(%v) = %q, want %q", d, got, want)
		}
	}
}

// tokenFixture is one token minted by Twilio's Node helper
// (testdata/interop/mint-fixtures.js).
type tokenFixture struct {
	Token  string `json:"token"`
	Secret string `json:"secret"`
	Iat    int64  `json:"iat"`
	Exp    int64  `json:"exp"`
}

func loadTokenFixture(tb testing.TB, name string) tokenFixture {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "tokens", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var fx tokenFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		tb.Fatal(err)
	}
	return fx
}

// BenchmarkInspectBatch is `token inspect --batch` end to end, minus the
// process: read lines, judge every rule with the secret, encode JSON lines,
// on every core. tokens/s per core = 1e9 / (ns/op * GOMAXPROCS).
func BenchmarkInspectBatch(b *testing.B) {
	tok := loadTokenFixture(b, "conversations")
	const perRun = 4096
	input := []byte(strings.Repeat(tok.Token+"\n", perRun))
	b.ReportAllocs()
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		io, _, _, _ := TestIO()
		io.Out = &out
		opts := &InspectOptions{IO: io, Now: time.Now, Batch: true, BatchIn: bytes.NewReader(input),
			Secret: []byte(tok.Secret), Product: inspect.ProductConversations, At: time.Unix(tok.Iat+60, 0)}
		if err := runInspectBatch(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perRun), "ns/token")
	b.ReportMetric(0, "ns/op")
}
