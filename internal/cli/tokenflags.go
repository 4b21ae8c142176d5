package cli

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/convctl/convctl/pkg/tokensource"
)

// tokenFlags are the token sources every command that takes a token shares
// (docs/access-tokens.md, "Where convctl reads a token from"). The positional TOKEN or "-" is passed
// to source separately.
type tokenFlags struct {
	file, env, cmd, url, field string
}

func (t *tokenFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&t.file, "token-file", "", "read the token from `PATH`")
	fs.StringVar(&t.env, "token-env", "", "read the token from environment variable `NAME`")
	fs.StringVar(&t.cmd, "token-cmd", "", "run `COMMAND` with sh -c and use what it prints")
	fs.StringVar(&t.url, "token-url", "", "GET the token from `URL` (plain text, or JSON with the token at \"token\")")
	fs.StringVar(&t.field, "token-field", "", "with --token-url: dotted `PATH` of the token in the JSON answer (e.g. data.token)")
}

// source resolves the flags and the optional positional argument to one source.
func (t *tokenFlags) source(f *Factory, arg string) (tokensource.Source, error) {
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
	return src, nil
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
