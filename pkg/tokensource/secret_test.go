package tokensource

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadSecret(t *testing.T) {
	const secret = "s3cr3tvalue0123456789abcdefABCDE"
	env := map[string]string{"SECRET": secret + "\n", "BLANK": "\r\n"}
	getenv := func(k string) string { return env[k] }
	dir := t.TempDir()
	file := writeFile(t, "secret", secret+"\r\n")
	crlfOnly := writeFile(t, "blank", "\n\n")
	missing := filepath.Join(dir, "missing")

	got, err := ReadSecret("", "", getenv)
	if got != nil || err != nil {
		t.Errorf("neither given: %q, %v; want nil, nil", got, err)
	}
	for _, tc := range []struct{ env, file string }{{"SECRET", ""}, {"", file}} {
		got, err := ReadSecret(tc.env, tc.file, getenv)
		if string(got) != secret || err != nil {
			t.Errorf("ReadSecret(%q, %q) = %q, %v", tc.env, tc.file, got, err)
		}
	}
	t.Setenv("CONVCTL_TEST_SECRET", secret)
	if got, err := ReadSecret("CONVCTL_TEST_SECRET", "", nil); string(got) != secret || err != nil {
		t.Errorf("nil getenv reads the process environment: %q, %v", got, err)
	}

	bad := []struct {
		name, env, file string
		want            []string
	}{
		{"both", "SECRET", file, []string{"--secret-env and --secret-file both given; pick one"}},
		{"unset", "NOPE", "", []string{"--secret-env NOPE: environment variable NOPE is not set or is empty"}},
		{"blank env", "BLANK", "", []string{"is not set or is empty"}},
		{"missing file", "", missing, []string{"--secret-file " + missing + ": cannot read it: no such file or directory; check the path"}},
		{"blank file", "", crlfOnly, []string{"--secret-file " + crlfOnly + " is empty: write the API Key secret into it"}},
		{"directory", "", dir, []string{"is a directory"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecret(tt.env, tt.file, getenv)
			if got != nil {
				t.Errorf("returned %q along with the error", got)
			}
			checkErr(t, err, tt.want, secret)
		})
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
}
