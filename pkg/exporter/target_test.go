package exporter

import "testing"

// A Twilsock URL of Twilio's own names its region, so a probe's token can be
// checked against it; anything else has none.
func TestParseTargetRegion(t *testing.T) {
	for raw, want := range map[string]string{
		"us1": "us1",
		"ie1": "ie1",
		"wss://tsock.ie1.twilio.com/v3/wsconnect":  "ie1",
		"wss://TSOCK.AU1.twilio.com/v3/wsconnect":  "au1",
		"wss://tsock.eu.twilio.com/v3/wsconnect":   "",
		"wss://tsock.us1.twilio.com.evil.example/": "",
		"wss://mcs.us1.twilio.com/v3/wsconnect":    "",
		"ws://127.0.0.1:4567/v3/wsconnect":         "",
	} {
		tg, err := ParseTarget(raw)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", raw, err)
			continue
		}
		if tg.Region != want {
			t.Errorf("ParseTarget(%q).Region = %q, want %q", raw, tg.Region, want)
		}
	}
	for _, bad := range []string{"US1", "u1", "us12", "1us"} {
		if isRegion(bad) {
			t.Errorf("isRegion(%q) = true", bad)
		}
	}
}
