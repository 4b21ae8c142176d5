package exporter

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ParseTarget never panics; what it accepts is a region or a ws/wss URL with
// a host, and its errors are one line that never repeats a password.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"us1", "ie1", "", "eu", "wss://tsock.us1.twilio.com/v3/wsconnect", "ws://127.0.0.1:4567/v3/wsconnect",
		"https://x", "wss://", "wss://a:b@host/", "ws://[::1]:80/", "wss://tsock.IE1.twilio.com", "ws://%zz", "ws://h\n/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := ParseTarget(raw)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(raw, "\n") {
				t.Errorf("error %q is not one line", err)
			}
			if u, perr := url.Parse(raw); perr == nil && u.User != nil {
				if p, ok := u.User.Password(); ok && len(p) > 3 && strings.Contains(err.Error(), p) {
					t.Errorf("error %q repeats the password %q", err, p)
				}
			}
			return
		}
		if tg.Raw != raw || tg.URL == "" {
			t.Fatalf("ParseTarget(%q) = %+v", raw, tg)
		}
		if isRegion(raw) {
			if tg.Region != raw || tg.URL != RegionURL(raw) {
				t.Errorf("region %q gave %+v", raw, tg)
			}
			return
		}
		u, err := url.Parse(tg.URL)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Hostname() == "" || u.User != nil {
			t.Errorf("accepted %q, which is not a ws/wss URL with a host (%v)", raw, err)
		}
	})
}

// The scrape timeout header never panics and never gives a probe more time
// than Prometheus waits, nor none at all.
func FuzzProbeTimeout(f *testing.F) {
	for _, s := range []string{"", "10", "0.4", "1e3", "-1", "NaN", "Inf", "0x10", " 4 ", "86400.0001", "5e-324"} {
		f.Add(s)
	}
	h := &Handler{timeout: DefaultTimeout, margin: DefaultTimeoutMargin}
	f.Fuzz(func(t *testing.T, v string) {
		r, err := http.NewRequest(http.MethodGet, "/probe", nil)
		if err != nil {
			t.Fatal(err)
		}
		if v != "" {
			r.Header.Set(timeoutHeader, v)
		}
		d, err := h.probeTimeout(r)
		if err != nil {
			return
		}
		if d < time.Millisecond/2 {
			t.Errorf("header %q: timeout %v, too short to try anything", v, d)
		}
		if secs, perr := strconv.ParseFloat(strings.TrimSpace(r.Header.Get(timeoutHeader)), 64); perr == nil && d > time.Duration(secs*float64(time.Second)) {
			t.Errorf("header %q: timeout %v exceeds the scrape's", v, d)
		}
	})
}
