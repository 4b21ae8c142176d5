package debuglog

import "testing"

func TestSensitive(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{tok1, KindToken},
		{prettyTok, KindToken},
		{"Bearer " + tok1, KindToken},
		{"aaaaaaaa.bbbbbbbb.cccccccc", KindToken},
		{"q7Zc9Xw2LmN4pR8sT1vB6yK3hJ5gF0dA", KindSecret}, // API Key secret shape
		{"0f3a9c1be47d2286a0c5f9e1d3b7a640", KindSecret}, // Auth Token shape
		{"TWILIO_API_SECRET", ""},
		{"TWILIO_API_SECRET_2026_11", ""},
		{"SKfedcba9876543210fedcba9876543210", ""},
		{"/run/secrets/twilio.txt", ""},
		{"token.jwt", ""},
		{"tsock.us1.twilio.com", ""},
		{"ws://127.0.0.1:4567/v3/wsconnect", ""},
		{"conversations2024service", ""},
		{"127.0.0.1:99999", ""},
		{"10m", ""},
	}
	for _, tt := range tests {
		if got := Sensitive(tt.in); got != tt.want {
			t.Errorf("Sensitive(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSensitiveTempPaths(t *testing.T) {
	if p := t.TempDir() + "/nope"; Sensitive(p) != "" {
		t.Errorf("Sensitive(%q) = %q", p, Sensitive(p))
	}
}

// FuzzSensitive: any text is classified without a panic, the same way twice,
// and a text holding a JWT is always a token.
func FuzzSensitive(f *testing.F) {
	for _, s := range []string{"", tok1, prettyTok, "q7Zc9Xw2LmN4pR8sT1vB6yK3hJ5gF0dA", "TWILIO_API_SECRET", "SKfedcba9876543210fedcba9876543210", "a.b.c", "é\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sensitive(s)
		if got != Sensitive(s) {
			t.Fatal("not deterministic")
		}
		if got != "" && got != KindToken && got != KindSecret {
			t.Fatalf("Sensitive(%q) = %q", s, got)
		}
		if RedactJWTs(s) != s && got != KindToken {
			t.Fatalf("Sensitive(%q) = %q, but it holds a JWT", s, got)
		}
	})
}
