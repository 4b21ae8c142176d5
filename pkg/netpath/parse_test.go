package netpath

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseResolve(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Resolve
		err  string
	}{
		{in: "tsock.us1.twilio.com:443:127.0.0.1", want: Resolve{Host: "tsock.us1.twilio.com", Port: "443", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}},
		{in: "Example.COM:8443:[::1],127.0.0.2", want: Resolve{Host: "example.com", Port: "8443", Addrs: []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.2")}}},
		{in: "*:443:10.0.0.1", want: Resolve{Host: "*", Port: "443", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}},
		{in: "h:443:::1", want: Resolve{Host: "h", Port: "443", Addrs: []netip.Addr{netip.MustParseAddr("::1")}}},
		{in: "h:443:", err: "not an IP address"},
		{in: "h:0:1.2.3.4", err: "port"},
		{in: "h:99999:1.2.3.4", err: "port"},
		{in: "h:443", err: "no address"},
		{in: ":443:1.2.3.4", err: "no host"},
		{in: "h:443:example.com", err: "not an IP address"},
		{in: "h:443:fe80::1%eth0", err: "not an IP address"},
	} {
		got, err := ParseResolve(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrConfig) {
				t.Errorf("ParseResolve(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseResolve(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseConnectTo(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ConnectTo
		err  string
	}{
		{in: "tsock.us1.twilio.com:443:127.0.0.1:8443", want: ConnectTo{"tsock.us1.twilio.com", "443", "127.0.0.1", "8443"}},
		{in: "::127.0.0.1:8443", want: ConnectTo{"", "", "127.0.0.1", "8443"}},
		{in: "a:443::8443", want: ConnectTo{"a", "443", "", "8443"}},
		{in: "[::1]:443:[::2]:80", want: ConnectTo{"::1", "443", "::2", "80"}},
		{in: "a:443:b:", want: ConnectTo{"a", "443", "b", ""}},
		{in: "a:443:b", err: "four fields"},
		{in: "a:443:b:1:2", err: "too many"},
		{in: "a:x:b:1", err: "port"},
		{in: "[zz]:1:b:1", err: "IPv6"},
		{in: "[::1:1:b:1", err: "unclosed"},
	} {
		got, err := ParseConnectTo(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseConnectTo(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseConnectTo(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := ParseConnectTo(got.String()); err != nil || back != got {
			t.Errorf("round trip of %q: %+v, %v", got.String(), back, err)
		}
	}
}

func TestParseProxyURLNeverEchoesThePassword(t *testing.T) {
	const canary = "CANARY-pw-7f3a"
	for _, in := range []string{
		"http://alice:" + canary + "@proxy:3128",
		"http://alice:" + canary + "@proxy:99999",
		"socks5://alice:" + canary + "@proxy:1080",
		"http://alice:" + canary + "@proxy:3128/path",
		"http://alice:" + canary + "@%zz:1",
		"alice:" + canary + "@proxy:3128",
		"http://alice:" + canary + "@",
	} {
		u, err := ParseProxyURL(in)
		if err != nil {
			if strings.Contains(err.Error(), canary) {
				t.Errorf("ParseProxyURL(%q) error shows the password: %v", in, err)
			}
			continue
		}
		if s := Redact(u); strings.Contains(s, canary) || !strings.Contains(s, "alice:***@") {
			t.Errorf("Redact(%q) = %q", in, s)
		}
	}
	u, err := ParseProxyURL("proxy.corp:3128")
	if err != nil || u.Scheme != "http" || u.Host != "proxy.corp:3128" {
		t.Errorf("a URL without scheme: %v, %v; want http://proxy.corp:3128", u, err)
	}
}

func TestReadAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		status   int
		schemes  []string
		err      error
	}{
		{name: "ok", in: "HTTP/1.1 200 Connection established\r\n\r\n", status: 200},
		{name: "http/1.0", in: "HTTP/1.0 200 OK\r\nVia: 1.1 tinyproxy\r\n\r\n", status: 200},
		{name: "407 basic", in: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\n\r\n", status: 407, schemes: []string{"Basic"}},
		{name: "407 several", in: "HTTP/1.1 407 x\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM, Basic realm=\"a, b\", charset=\"UTF-8\"\r\n\r\n", status: 407, schemes: []string{"Negotiate", "NTLM", "Basic"}},
		{name: "no reason", in: "HTTP/1.1 403\r\n\r\n", status: 403},
		{name: "bare LF", in: "HTTP/1.1 502 Bad Gateway\n\n", status: 502},
		{name: "garbage", in: "SSH-2.0-OpenSSH_9.6\r\n", err: ErrBadAnswer},
		{name: "tls alert", in: "\x15\x03\x01\x00\x02\x02\x46", err: ErrBadAnswer},
		{name: "empty", in: "", err: io.ErrUnexpectedEOF},
		{name: "cut headers", in: "HTTP/1.1 200 OK\r\nVia: x\r\n", err: ErrBadAnswer},
		{name: "bad header", in: "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", err: ErrBadAnswer},
		{name: "huge", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", MaxAnswerSize) + "\r\n\r\n", err: ErrBadAnswer},
		{name: "bad code", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: ErrBadAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAnswer(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || a.Status != tc.status {
				t.Fatalf("= %+v, %v; want status %d", a, err, tc.status)
			}
			if got := a.Schemes(); !reflect.DeepEqual(got, tc.schemes) {
				t.Errorf("schemes = %q, want %q", got, tc.schemes)
			}
		})
	}
}

// The answer parser reads what a proxy (or anything at its address) sends.
func FuzzReadAnswer(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 Connection established\r\n\r\n",
		"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: NTLM, Basic realm=\"a,b\"\r\nVia: 1.1 squid\r\n\r\nbody",
		"HTTP/1.0 403 Filtered\r\nContent-Length: 3\r\n\r\nabc",
		"garbage", "", "HTTP/1.1 200\n\n\x16\x03\x01",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(strings.NewReader(string(b)))
		a, err := ReadAnswer(br)
		if err != nil {
			return
		}
		if a.Status < 100 || a.Status > 999 || !strings.HasPrefix(a.Proto, "HTTP/1.") {
			t.Fatalf("accepted %+v", a)
		}
		_ = a.Schemes()
		// Re-encode and read again: the same status and headers.
		var sb strings.Builder
		sb.WriteString(a.Proto + " " + itoa(a.Status) + " " + a.Reason + "\r\n")
		for k, vs := range a.Header {
			for _, v := range vs {
				sb.WriteString(k + ": " + v + "\r\n")
			}
		}
		sb.WriteString("\r\n")
		a2, err := ReadAnswer(bufio.NewReader(strings.NewReader(sb.String())))
		if err != nil {
			t.Fatalf("re-read %q: %v", sb.String(), err)
		}
		if a2.Status != a.Status || !reflect.DeepEqual(a2.Header, a.Header) {
			t.Fatalf("re-read differs: %+v vs %+v", a2, a)
		}
	})
}

func itoa(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

func FuzzParseRules(f *testing.F) {
	for _, s := range []string{"a:443:1.2.3.4,[::1]", "[::1]:443:[::2]:80", "::x:1", "h:1:", "http://u:p@h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseResolve(s); err == nil {
			if _, err := ParseResolve(r.String()); err != nil {
				t.Fatalf("ParseResolve(%q) ok, its String %q not: %v", s, r.String(), err)
			}
		}
		if c, err := ParseConnectTo(s); err == nil {
			back, err := ParseConnectTo(c.String())
			if err != nil || back != c {
				t.Fatalf("ParseConnectTo(%q) = %+v; String %q reads as %+v, %v", s, c, c.String(), back, err)
			}
		}
		if u, err := ParseProxyURL(s); err == nil {
			_ = Redact(u)
		}
	})
}
