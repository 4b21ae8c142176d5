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
