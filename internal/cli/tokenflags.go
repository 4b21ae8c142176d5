package cli

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/pflag"

	"github.com/convctl/convctl/pkg/tokensource"
)

// tokenFlags are the token sources every command that takes a token shares
// (docs/access-tokens.md, "Where convctl reads a token from"). The positional TOKEN or "-" is passed
// to source separately.
type tokenFlags struct {
	file, env, cmd, url, field string

	fs *pflag.FlagSet // to tell a flag given empty from one left out
}

func (t *tokenFlags) register(fs *pflag.FlagSet) {
	t.fs = fs
	fs.StringVar(&t.file, "token-file", "", "read the token from `PATH`")
	fs.StringVar(&t.env, "token-env", "", "read the token from environment variable `NAME`")
	fs.StringVar(&t.cmd, "token-cmd", "", "run `COMMAND` with sh -c and use what it prints")
	fs.StringVar(&t.url, "token-url", "", "GET the token from `URL` (plain text, or JSON with the token at \"token\")")
	fs.StringVar(&t.field, "token-field", "", "with --token-url: dotted `PATH` of the token in the JSON answer (e.g. data.token)")
}

// given reports whether any token source flag was given.
func (t *tokenFlags) given() bool {
	return t.file != "" || t.env != "" || t.cmd != "" || t.url != ""
}

// source resolves the flags and the optional positional argument to one
// source. With none given and something piped in, the token is stdin, for
// every command that takes one. A source flag given an empty value is named
// as such, rather than treated as left out.
func (t *tokenFlags) source(f *Factory, arg string) (tokensource.Source, error) {
	for _, fl := range []struct{ name, val string }{
		{"token-file", t.file}, {"token-env", t.env}, {"token-cmd", t.cmd}, {"token-url", t.url}, {"token-field", t.field},
	} {
		if fl.val == "" && t.fs != nil && t.fs.Changed(fl.name) {
			return nil, usageErrorf("--%s is empty: give it a value, or leave it out", fl.name)
		}
	}
	implicit := arg == "" && !t.given() && !f.IO.IsStdinTTY() && f.IO.In != nil
	if implicit {
		arg = "-" // something is piped in: that is the token
	}
	spec := tokensource.Spec{
		Arg:    arg,
		File:   t.file,
		Env:    t.env,
		Cmd:    t.cmd,
		URL:    t.url,
		Field:  t.field,
		Stdin:  f.IO.In,
		Getenv: f.Getenv,
		Client: f.HTTPClient,
	}
	src, err := spec.Source()
	if err != nil {
		return nil, asUsage(err)
	}
	if implicit {
		return implicitStdin{src}, nil
	}
	return src, nil
}

// implicitStdin is stdin read for want of any token source: when it gives
// no token, the error says what could have been given.
type implicitStdin struct{ tokensource.Source }

func (s implicitStdin) Fetch(ctx context.Context) (string, error) {
	tok, err := s.Source.Fetch(ctx)
	if err != nil && errors.Is(err, tokensource.ErrInput) && strings.Contains(err.Error(), "stdin was empty") {
		return "", usageErrorf("give a token: TOKEN, - (stdin), --token-file, --token-env, --token-cmd or --token-url (nothing was piped in)")
	}
	return tok, err
}

// secretFlags name where an API Key secret comes from; it is never a flag value itself,
// so it never lands in shell history or ps output.
type secretFlags struct {
	env, file string
}

func (s *secretFlags) register(fs *pflag.FlagSet, purpose string) {
	fs.StringVar(&s.env, "secret-env", "", "read the API Key secret "+purpose+" from environment variable `NAME`")
	fs.StringVar(&s.file, "secret-file", "", "read the API Key secret "+purpose+" from `PATH`")
}

// read returns the secret, or nil when no secret flag was given.
func (s *secretFlags) read(f *Factory) ([]byte, error) {
	secret, err := tokensource.ReadSecret(s.env, s.file, f.Getenv)
	if err != nil {
		return nil, asUsage(err)
	}
	return secret, nil
}

func (s *secretFlags) given() bool { return s.env != "" || s.file != "" }

func isInputError(err error) bool { return errors.Is(err, tokensource.ErrInput) }
