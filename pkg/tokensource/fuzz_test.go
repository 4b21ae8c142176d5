package tokensource

import (
	"errors"
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  \n", ""},
		{tok + "\n", tok},
		{"\t Bearer " + tok + " \r\n", tok},
		{"bearer " + tok, tok},
		{"BEARER\t" + tok, tok},
		{"Bearer ", ""},
		{"Bearer", "Bearer"},
		{"Bearertoken", "Bearertoken"},
		{"Bearer\u00a0" + tok, tok},
		{"Bearer Bearer x", "Bearer x"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", " ", tok, "Bearer " + tok, "bEaReR\t\tx\n", "Bearer", "bearer\u2028y", "\xffbearer x", "Bearer \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Clean(in)
		if !strings.Contains(in, out) {
			t.Fatalf("Clean(%q) = %q, not part of the input", in, out)
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("Clean(%q) = %q keeps surrounding space", in, out)
		}
		// Wrapping a cleaned value the way users paste tokens gives it back,
		// unless the value itself could be read as a Bearer prefix.
		if out != "" && !strings.HasPrefix(strings.ToLower(out), "bearer") {
			if again := Clean(" Bearer " + out + "\n"); again != out {
				t.Fatalf("Clean(Bearer %q) = %q", out, again)
			}
		}
	})
}

// FuzzParse feeds arbitrary answers and field paths to the --token-url
// parser: it must never panic, and must either return a clean token or an
// input error that does not quote the answer's values.
func FuzzParse(f *testing.F) {
	f.Add(`{"token":"a.b.c"}`, "", "application/json")
	f.Add(`{"data":{"token":"a.b.c"}}`, "data.token", "")
	f.Add(`{"data":{"tokens":["x.y.z"]}}`, "data.tokens.0", "")
	f.Add(`[1,2,{"a":"b"}]`, "2.a", "")
	f.Add(`"a.b.c"`, "", "")
	f.Add(tok, "", "text/plain")
	f.Add("<html>", "", "text/html")
	f.Add(`{"token":null}`, "token", "application/json; charset=utf-8")
	f.Add(`{"a":{"a":{"a":{}}}}`, "a.a.a.a", "")
	f.Add(`{"token":"\u0000"}`, "", "")
	f.Fuzz(func(t *testing.T, body, field, contentType string) {
		src, err := Spec{URL: "http://127.0.0.1:1/t", Field: field}.Source()
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("Source error %v is not ErrInput", err)
			}
			return
		}
		got, err := src.(*urlSource).parse([]byte(body), contentType)
		if err != nil {
			if !errors.Is(err, ErrInput) {
				t.Fatalf("parse error %v is not ErrInput", err)
			}
			if got != "" {
				t.Fatalf("token %q returned with error %v", got, err)
			}
			return
		}
		if got == "" || Clean(got) != got {
			t.Fatalf("parse(%q, %q) = %q: not a clean token", body, field, got)
		}
	})
}
