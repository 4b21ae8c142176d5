package cli

import (
	"net"
	"strconv"
	"testing"
)

func TestIsRegion(t *testing.T) {
	for s, want := range map[string]bool{"us1": true, "ie1": true, "au1": true, "US1": false, "us": false, "us12": false,
		"mars": false, "u1s": false, "": false, "1us": false, "us ": false} {
		if got := isRegion(s); got != want {
			t.Errorf("isRegion(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzIsRegion(f *testing.F) {
	for _, s := range []string{"us1", "ie1", "mars", "", "zz9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ok := len(s) == 3
		for i := 0; ok && i < 3; i++ {
			c := s[i]
			ok = (i < 2 && c >= 'a' && c <= 'z') || (i == 2 && c >= '0' && c <= '9')
		}
		if isRegion(s) != ok {
			t.Fatalf("isRegion(%q) = %v", s, !ok)
		}
	})
}

// checkListenAddr never panics; what it accepts, net.Listen can parse.
func FuzzCheckListenAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:0", "127.0.0.1:99999", ":4567", "[::1]:80", "4567", "a:b:c", "host:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkListenAddr(s) != nil {
			return
		}
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			t.Fatalf("accepted %q: %v", s, err)
		}
		if n, err := strconv.ParseUint(port, 10, 16); port != "" && (err != nil || n > 65535) {
			t.Fatalf("accepted %q with port %q", s, port)
		}
	})
}
