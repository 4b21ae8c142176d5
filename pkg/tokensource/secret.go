package tokensource

import (
	"bytes"
	"os"

	"github.com/convctl/convctl/pkg/debuglog"
)

// ReadSecret reads an API Key secret from environment variable env or from
// file, whichever is named, trimming trailing newlines. It returns (nil, nil)
// when neither is named, so the caller decides whether a secret was needed.
// getenv nil means os.Getenv. Errors match ErrInput and never contain the
// secret.
func ReadSecret(env, file string, getenv func(string) string) ([]byte, error) {
	switch {
	case env != "" && file != "":
		return nil, inputErr(nil, "--secret-env and --secret-file both given; pick one")
	case env != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		secret := trimNewlines([]byte(getenv(env)))
		if len(bytes.TrimSpace(secret)) == 0 {
			if kind := debuglog.Sensitive(env); kind != "" {
				return nil, inputErr(nil, "--secret-env takes the NAME of an environment variable; the value given looks like %s itself, so it is not shown: export the secret in a variable and name the variable", kind)
			}
			return nil, inputErr(nil, "--secret-env %s: environment variable %s is not set or is empty; export it, or read the secret from a file instead", env, env)
		}
		return secret, nil
	case file != "":
		b, err := readFileCapped(file)
		if err != nil {
			if kind := debuglog.Sensitive(file); kind != "" {
				return nil, inputErr(err, "--secret-file takes the PATH of a file; the value given looks like %s itself, so it is not shown: write the secret into a file and name the file", kind)
			}
			return nil, inputErr(err, "--secret-file %s: %s", file, describeFileError(err, "secret"))
		}
		secret := trimNewlines(b)
		if len(bytes.TrimSpace(secret)) == 0 {
			return nil, inputErr(nil, "--secret-file %s is empty: write the API Key secret into it", file)
		}
		return secret, nil
	}
	return nil, nil
}

func trimNewlines(b []byte) []byte { return bytes.TrimRight(b, "\r\n") }
