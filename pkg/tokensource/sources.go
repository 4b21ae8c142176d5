package tokensource

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
)

type argSource string

func (argSource) Name() string                            { return "the TOKEN argument" }
func (a argSource) Fetch(context.Context) (string, error) { return string(a), nil }

// stdinSource reads stdin once, in the background so that Fetch can give up
// when its context ends while a pipe stays open; later calls share the result.
type stdinSource struct {
	r     io.Reader
	once  sync.Once
	done  chan struct{}
	token string
	err   error
}

func newStdinSource(r io.Reader) *stdinSource {
	return &stdinSource{r: r, done: make(chan struct{})}
}

func (*stdinSource) Name() string { return "stdin" }

func (s *stdinSource) Fetch(ctx context.Context) (string, error) {
	if err := ctxErr(ctx, "stdin"); err != nil {
		return "", err
	}
	s.once.Do(func() { go s.read() })
	select {
	case <-s.done:
		return s.token, s.err
	case <-ctx.Done():
		return "", inputErr(ctx.Err(), "stdin: gave up waiting for a token: %v", context.Cause(ctx))
	}
}

func (s *stdinSource) read() {
	defer close(s.done)
	b, tooBig, err := readCapped(s.r)
	switch {
	case err != nil:
		s.err = inputErr(err, "cannot read stdin: %v", err)
	case tooBig:
		s.err = inputErr(nil, "stdin holds more than %d bytes: pipe in just the token", MaxSize)
	default:
		s.token = Clean(string(b))
		if s.token == "" {
			s.err = inputErr(nil, "stdin was empty: pipe the token in")
		}
	}
}

type fileSource string

func (f fileSource) Name() string { return "--token-file " + string(f) }

func (f fileSource) Fetch(ctx context.Context) (string, error) {
	if err := ctxErr(ctx, f.Name()); err != nil {
		return "", err
	}
	b, err := readFileCapped(string(f))
	if err != nil {
		return "", inputErr(err, "%s: %s", f.Name(), describeFileError(err, "token"))
	}
	tok := Clean(string(b))
	if tok == "" {
		return "", inputErr(nil, "%s is empty: write the token into it", f.Name())
	}
	return tok, nil
}

var errTooBig = errors.New("file too large")

func readFileCapped(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, tooBig, err := readCapped(fh)
	if err != nil {
		return nil, err
	}
	if tooBig {
		return nil, errTooBig
	}
	return b, nil
}

// describeFileError turns an open/read error into "reason; advice", without
// repeating the path the caller already names.
func describeFileError(err error, what string) string {
	var pe *fs.PathError
	reason := err.Error()
	if errors.As(err, &pe) {
		reason = pe.Err.Error()
	}
	switch {
	case errors.Is(err, errTooBig):
		return "larger than 1 MiB, so not a " + what + " file; check the path"
	case errors.Is(err, fs.ErrNotExist):
		return "cannot read it: " + reason + "; check the path"
	case errors.Is(err, fs.ErrPermission):
		return "cannot read it: " + reason + "; check the file's permissions"
	}
	return "cannot read it: " + reason
}

type envSource struct {
	name   string
	getenv func(string) string
}

func (e *envSource) Name() string { return "--token-env " + e.name }

func (e *envSource) Fetch(ctx context.Context) (string, error) {
	if err := ctxErr(ctx, e.Name()); err != nil {
		return "", err
	}
	tok := Clean(e.getenv(e.name))
	if tok == "" {
		return "", inputErr(nil, "%s: environment variable %s is not set or is empty; export it, or pick another token source", e.Name(), e.name)
	}
	return tok, nil
}
