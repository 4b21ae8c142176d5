package tokensource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/convctl/convctl/pkg/debuglog"
)

// ErrInput is matched by every error this package returns: the token or
// secret could not be obtained from what the user gave.
var ErrInput = errors.New("bad token input")

// inputError carries a message meant for the user and, for errors.Is, the
// underlying cause (a context error, fs.ErrNotExist…).
type inputError struct {
	msg   string
	cause error
}

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInput }
func (e *inputError) Unwrap() error        { return e.cause }

func inputErr(cause error, format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...), cause: cause}
}

// MaxSize caps what is read from any source: a token is a few hundred bytes,
// and reading a multi-gigabyte file or response by mistake must not hang or
// exhaust memory.
const MaxSize = 1 << 20

// DefaultURLTimeout bounds a --token-url request when the Spec brings no client.
const DefaultURLTimeout = 15 * time.Second

// Spec is what the token flags said. Exactly one of Arg, File, Env, Cmd and
// URL must be set.
type Spec struct {
	Arg    string              // positional TOKEN, or "-" for stdin
	File   string              // --token-file PATH
	Env    string              // --token-env NAME
	Cmd    string              // --token-cmd 'shell command' (run with sh -c; its stdout)
	URL    string              // --token-url URL (HTTP GET; plain text, or JSON with the token at "token" or at Field)
	Field  string              // --token-field a.b (dotted path into the JSON; only with URL)
	Stdin  io.Reader           // read when Arg is "-"
	Getenv func(string) string // nil: os.Getenv
	Client *http.Client        // nil: a client with DefaultURLTimeout
}

// Source yields a token.
type Source interface {
	// Name says where the token comes from, for messages and reports
	// ("--token-file /run/token", "--token-url https://example.com"). It never
	// contains the token, a command line or a URL's query.
	Name() string
	// Fetch returns the token, cleaned (see Clean). Calling it again reads
	// the file, variable, command or URL again; an argument or stdin gives
	// the same token. Errors match ErrInput.
	Fetch(ctx context.Context) (string, error)
}

// Source checks that exactly one source is set and returns it. It reads
// nothing yet: problems with the file, variable, command or URL show up in
// Fetch. The exception is a value that looks like a token or a secret itself
// (debuglog.Sensitive) given as a file that does not exist, a variable that is
// not set, or a one-word command: Source refuses it at once, without running
// or quoting it.
func (s Spec) Source() (Source, error) {
	var given []string
	if s.Arg == "-" {
		given = append(given, "-")
	} else if s.Arg != "" {
		given = append(given, "TOKEN")
	}
	if s.File != "" {
		given = append(given, "--token-file")
	}
	if s.Env != "" {
		given = append(given, "--token-env")
	}
	if s.Cmd != "" {
		given = append(given, "--token-cmd")
	}
	if s.URL != "" {
		given = append(given, "--token-url")
	}
	switch len(given) {
	case 0:
		return nil, inputErr(nil, "give a token: TOKEN, - (stdin), --token-file, --token-env, --token-cmd or --token-url")
	case 1:
	case 2:
		return nil, inputErr(nil, "%s and %s both given; pick one", given[0], given[1])
	default:
		return nil, inputErr(nil, "%s and %s all given; pick one", strings.Join(given[:len(given)-1], ", "), given[len(given)-1])
	}
	if s.Field != "" && s.URL == "" {
		return nil, inputErr(nil, "--token-field only applies to --token-url")
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	switch {
	case s.Arg == "-":
		if s.Stdin == nil {
			return nil, inputErr(nil, "- means read the token from stdin, but there is no stdin")
		}
		return newStdinSource(s.Stdin), nil
	case s.Arg != "":
		tok := Clean(s.Arg)
		if tok == "" {
			return nil, inputErr(nil, "the TOKEN argument is blank: pass the token itself, or - to read it from stdin")
		}
		return argSource(tok), nil
	case s.File != "":
		if kind := debuglog.Sensitive(s.File); kind != "" {
			if _, err := os.Stat(s.File); err != nil {
				return nil, inputErr(err, "--token-file takes the PATH of a file; the value given looks like %s itself, so it is not shown: %s", kind, pastedAdvice)
			}
		}
		return fileSource(s.File), nil
	case s.Env != "":
		if kind := debuglog.Sensitive(s.Env); kind != "" && getenv(s.Env) == "" {
			return nil, inputErr(nil, "--token-env takes the NAME of an environment variable; the value given looks like %s itself, so it is not shown: %s", kind, pastedAdvice)
		}
		return &envSource{name: s.Env, getenv: getenv}, nil
	case s.Cmd != "":
		if kind := debuglog.Sensitive(s.Cmd); kind != "" && !strings.ContainsAny(strings.TrimSpace(s.Cmd), " \t") {
			return nil, inputErr(nil, "--token-cmd takes a shell COMMAND that prints the token; the value given looks like %s itself, so it is neither run nor shown: %s", kind, pastedAdvice)
		}
		return cmdSource(s.Cmd), nil
	}
	src, err := newURLSource(s.URL, s.Field, s.Client)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// pastedAdvice is what to do instead of pasting a token into a flag that
// names where the token is.
const pastedAdvice = "put the token in a file or an environment variable and name that, or pipe it in on stdin (-)"

// Clean trims surrounding whitespace and a "Bearer " prefix (any case), as a
// token copied from an Authorization header or a file with a trailing newline
// would carry.
func Clean(raw string) string {
	s := strings.TrimLeftFunc(raw, unicode.IsSpace)
	const bearer = "bearer"
	if len(s) > len(bearer) && strings.EqualFold(s[:len(bearer)], bearer) {
		if r, _ := utf8.DecodeRuneInString(s[len(bearer):]); unicode.IsSpace(r) {
			s = s[len(bearer):]
		}
	}
	return strings.TrimSpace(s)
}

// readCapped reads all of r, failing when r holds more than MaxSize bytes.
func readCapped(r io.Reader) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if len(b) > MaxSize {
		return b[:MaxSize], true, err
	}
	return b, false, err
}

func ctxErr(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return inputErr(err, "%s: gave up before reading the token: %v", what, context.Cause(ctx))
	}
	return nil
}
