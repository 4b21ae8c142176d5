package tokensource

import (
	"context"
	"testing"
)

// pastedSecret has the shape of an API Key secret (32 random letters and digits).
const pastedSecret = "q7Zc9Xw2LmN4pR8sT1vB6yK3hJ5gF0dA"

// TestPastedValuesNotEchoed gives a token or a secret where its name or path
// belongs, the easy mistake of --token-env "$TOKEN": the error says what the
// value looked like and never quotes it.
func TestPastedValuesNotEchoed(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, tt := range []struct {
		name string
		spec Spec
		want string
	}{
		{"token as --token-env", Spec{Env: tok, Getenv: getenv}, "--token-env takes the NAME of an environment variable; the value given looks like an Access Token (JWT) itself, so it is not shown"},
		{"secret as --token-env", Spec{Env: pastedSecret, Getenv: getenv}, "looks like a secret itself, so it is not shown"},
		{"token as --token-file", Spec{File: tok}, "--token-file takes the PATH of a file; the value given looks like an Access Token (JWT) itself"},
		{"token as --token-cmd", Spec{Cmd: tok}, "--token-cmd takes a shell COMMAND that prints the token; the value given looks like an Access Token (JWT) itself, so it is neither run nor shown"},
		{"secret as --token-cmd", Spec{Cmd: " " + pastedSecret + "\n"}, "so it is neither run nor shown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.spec.Source()
			checkErr(t, err, []string{tt.want}, pastedSecret)
		})
	}
	t.Run("a set variable with an odd name is read", func(t *testing.T) {
		src, err := Spec{Env: pastedSecret, Getenv: func(string) string { return tok }}.Source()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := src.Fetch(context.Background()); got != tok || err != nil {
			t.Errorf("Fetch = %q, %v", got, err)
		}
	})
	for _, tt := range []struct{ name, env, file, want string }{
		{"secret as --secret-env", pastedSecret, "", "--secret-env takes the NAME of an environment variable; the value given looks like a secret itself, so it is not shown"},
		{"token as --secret-env", tok, "", "looks like an Access Token (JWT) itself"},
		{"secret as --secret-file", "", pastedSecret, "--secret-file takes the PATH of a file; the value given looks like a secret itself, so it is not shown"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSecret(tt.env, tt.file, getenv)
			checkErr(t, err, []string{tt.want}, pastedSecret)
		})
	}
}
