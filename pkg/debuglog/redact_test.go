package debuglog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// makeJWT signs header and payload as an HS256 token would be, so tests see
// realistic signatures.
func makeJWT(header, payload, secret string) (tok, sig string) {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(signing))
	sig = enc.EncodeToString(m.Sum(nil))
	return signing + "." + sig, sig
}

const (
	twilioHeader  = `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`
	twilioPayload = `{"jti":"SKxxx-1764064800","iss":"SKxxx","sub":"ACxxx","iat":1764064800,"exp":1764068400,"grants":{"identity":"alice","chat":{"service_sid":"ISxxx"}}}`
)

var (
	// prettyTok's header is pretty-printed, so it encodes to "ewog…", not
	// "eyJ…": valid, and accepted by serve.
	prettyTok, prettySig = makeJWT("{\n  \"alg\": \"HS256\",\n  \"typ\": \"JWT\",\n  \"cty\": \"twilio-fpa;v=1\"\n}", "{\n  \"sub\": \"ACxxx\"\n}", "secret-three")
	// spacedTok's header and payload start with JSON whitespace.
	spacedTok, spacedSig = makeJWT(" \t{\"alg\":\"HS256\"}", "\r\n{}", "secret-four")
	tok1, sig1           = makeJWT(twilioHeader, twilioPayload, "secret-one")
	tok2, sig2           = makeJWT(twilioHeader, strings.Replace(twilioPayload, "alice", "bob", 1), "secret-two")
)

func headerPayload(tok string) string { return tok[:strings.LastIndexByte(tok, '.')] }

func TestRedactJWTs(t *testing.T) {
	hp1, hp2 := headerPayload(tok1), headerPayload(tok2)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"no token", "TWILSOCK V3.0 42\r\n{\"method\":\"close\"}", "TWILSOCK V3.0 42\r\n{\"method\":\"close\"}"},
		{"token alone", tok1, hp1 + ".<redacted>"},
		{"init header", `{"method":"init","id":"TM1","token":"` + tok1 + `","continuation_token":null}`,
			`{"method":"init","id":"TM1","token":"` + hp1 + `.<redacted>","continuation_token":null}`},
		{"two tokens", `{"token":"` + tok1 + `","old":"` + tok2 + `"}`,
			`{"token":"` + hp1 + `.<redacted>","old":"` + hp2 + `.<redacted>"}`},
		{"bearer", "Authorization: Bearer " + tok2 + "\r\n", "Authorization: Bearer " + hp2 + ".<redacted>\r\n"},
		{"url query", "https://h/token?jwt=" + tok1 + "&x=1", "https://h/token?jwt=" + hp1 + ".<redacted>&x=1"},
		{"glued to text", "xx" + tok1, "xx" + hp1 + ".<redacted>"},
		{"unsigned keeps its empty signature", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
		{"two parts only", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0"},
		{"eyJ in prose", "the string eyJ means {\" in base64", "the string eyJ means {\" in base64"},
		{"sentence dot after token", "token " + tok1 + ". Next", "token " + hp1 + ".<redacted>. Next"},
		{"standard base64 signature", "eyJa.eyJb.ab+cd/ef==", "eyJa.eyJb.<redacted>"},
		{"fragment before token", "eyJx." + tok1, "eyJx." + strings.SplitN(tok1, ".", 2)[0] + ".<redacted>"},
		{"extra part after signature", tok1 + ".more", hp1 + ".<redacted>"},
		{"pretty-printed header (ewog…)", "token=" + prettyTok + " ok", "token=" + headerPayload(prettyTok) + ".<redacted> ok"},
		{"whitespace before the braces", spacedTok, headerPayload(spacedTok) + ".<redacted>"},
		{"host names stay", "dial wss://tsock.us1.twilio.com:443 via proxy.example.com.au", "dial wss://tsock.us1.twilio.com:443 via proxy.example.com.au"},
		{"version numbers stay", `{"ver":"1.0.2","ip":"127.0.0.1"}`, `{"ver":"1.0.2","ip":"127.0.0.1"}`},
		{"token field, not a JWT", `{"method":"update","token" : "abc.def.ghi","id":"TM1"}`, `{"method":"update","token" : "abc.def.<redacted>","id":"TM1"}`},
		{"token field without dots", `{"token":"opaque-credential"}`, `{"token":"<redacted>"}`},
		{"token field empty or null", `{"token":"","t2":{"token":null}}`, `{"token":"","t2":{"token":null}}`},
		{"continuation_token is not the token", `{"continuation_token":"cnQ1NzM0"}`, `{"continuation_token":"cnQ1NzM0"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactJWTs(tt.in)
			if got != tt.want {
				t.Errorf("RedactJWTs(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := RedactJWTs(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestRedactJWTsUnusualHeaders(t *testing.T) {
	for _, tc := range []struct{ tok, sig string }{{prettyTok, prettySig}, {spacedTok, spacedSig}} {
		for _, in := range []string{tc.tok, "x=" + tc.tok + "&y", `{"token":"` + tc.tok + `"}`, "Bearer " + tc.tok + "\r\n"} {
			if out := RedactJWTs(in); strings.Contains(out, tc.sig) {
				t.Errorf("RedactJWTs(%q) = %q keeps the signature", in, out)
			}
		}
	}
}

func TestRedactJWTsNoAllocWithoutToken(t *testing.T) {
	s := strings.Repeat(`{"method":"reply","id":"TM1","status":{"code":200,"status":"OK"}}`, 4)
	if n := testing.AllocsPerRun(100, func() { _ = RedactJWTs(s) }); n != 0 {
		t.Errorf("RedactJWTs allocated %v times on text without a token", n)
	}
}

// TestRedactJWTsNeverLeaks embeds real signed tokens in random surroundings
// built from the characters most likely to confuse a scanner.
func TestRedactJWTsNeverLeaks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "0", "-", "_", ".", "+", "/", "=", "eyJ", "\"", ":", " ", "\n", "é", "eyJx.", tok2[:10], "ewog", "ICAg", prettyTok[:12] + "."}
	noise := func() string {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 5000 {
		header := twilioHeader
		if i%2 == 1 {
			header = "{\n  \"alg\": \"HS256\"\n}"
		}
		tok, sig := makeJWT(header, fmt.Sprintf(`{"n":%d}`, i), "s")
		parts := []string{noise(), tok, noise()}
		if i%3 == 0 {
			other, sig2 := makeJWT(`{"alg":"HS512"}`, `{}`, fmt.Sprint(i))
			parts = append(parts, other, noise())
			sig = sig + "|" + sig2
		}
		in := strings.Join(parts, "")
		out := RedactJWTs(in)
		for s := range strings.SplitSeq(sig, "|") {
			if strings.Contains(out, s) {
				t.Fatalf("signature %q leaked:\n in %q\nout %q", s, in, out)
			}
		}
	}
}

func FuzzRedactJWTs(f *testing.F) {
	f.Add("", "", "", "")
	f.Add(`{"token":"`, twilioHeader, twilioPayload, `"}`)
	f.Add("eyJx.", `{"a":1}`, `{}`, ".more")
	f.Add("Bearer ", `{"alg":"none"}`, `{"sub":"x"}`, "\r\n")
	f.Add("+/=", "{", "", "eyJ")
	f.Add(tok1, "", "x", tok2)
	f.Add("token=", "{\n  \"alg\": \"HS256\"\n}", "{\n}", " ")
	f.Add(`{"token":"`, " {", "\t{", `"}`)
	f.Fuzz(func(t *testing.T, prefix, header, payload, suffix string) {
		// Arbitrary text: no panic, idempotent, and nothing left that a
		// second pass would redact.
		out := RedactJWTs(prefix + header + payload + suffix)
		if again := RedactJWTs(out); again != out {
			t.Fatalf("not idempotent: %q -> %q", out, again)
		}

		// A well-formed JWT anywhere in arbitrary text loses its signature,
		// whatever the layout of its header and payload, as long as each is
		// a JSON object (the payload may also be empty).
		if !objectStart(base64.RawURLEncoding.EncodeToString([]byte(header))) {
			header = "{" + header
		}
		if payload != "" && !objectStart(base64.RawURLEncoding.EncodeToString([]byte(payload))) {
			payload = "{" + payload
		}
		tok, sig := makeJWT(header, payload, prefix+suffix)
		in := prefix + tok + suffix
		out = RedactJWTs(in)
		if strings.Contains(out, sig) {
			t.Fatalf("signature %q leaked:\n in %q\nout %q", sig, in, out)
		}
		// When the token stands apart from other token characters, exactly
		// its signature goes and its header and payload stay.
		apart := (prefix == "" || !isTokenChar(prefix[len(prefix)-1])) && (suffix == "" || !isTokenChar(suffix[0]))
		if apart && !strings.Contains(out, headerPayload(tok)+"."+RedactedSignature) {
			t.Fatalf("header and payload not kept:\n in %q\nout %q", in, out)
		}
	})
}

func TestToken(t *testing.T) {
	hp := headerPayload(tok1)
	tests := []struct {
		name string
		tok  Token
		want string
	}{
		{"jwt", Token(tok1), hp + ".<redacted>"},
		{"pretty-printed header", Token(prettyTok), headerPayload(prettyTok) + ".<redacted>"},
		{"empty", "", ""},
		{"unsigned", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
		{"not a jwt is hidden", "my-api-key-secret", "[REDACTED: not a JWT, 17 bytes]"},
		{"jwt with junk around is hidden", Token("Bearer " + tok1), fmt.Sprintf("[REDACTED: not a JWT, %d bytes]", len(tok1)+7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tok.LogValue().String(); got != tt.want {
				t.Errorf("LogValue = %q, want %q", got, tt.want)
			}
			if got := fmt.Sprint(tt.tok); got != tt.want {
				t.Errorf("fmt.Sprint = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSecretNeverShows(t *testing.T) {
	s := Secret("hunter2")
	for _, got := range []string{s.LogValue().String(), fmt.Sprint(s), fmt.Sprintf("%v %s", s, s)} {
		if strings.Contains(got, "hunter2") {
			t.Errorf("secret leaked: %q", got)
		}
	}
	var buf strings.Builder
	l := New(&buf, Options{Format: FormatJSON})
	l.Info("minting", "secret", s, slog.Group("g", "s", s))
	if strings.Contains(buf.String(), "hunter2") || strings.Count(buf.String(), "[REDACTED]") != 2 {
		t.Errorf("log line = %q", buf.String())
	}
}

// jwtRE is the obvious regexp alternative, kept to show in benchmarks why
// RedactJWTs scans by hand.
var jwtRE = regexp.MustCompile(`(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.)[A-Za-z0-9_-]+`)

func redactRegexp(s string) string { return jwtRE.ReplaceAllString(s, "${1}<redacted>") }

var redactInputs = []struct{ name, s string }{
	{"init_frame", `{"method":"init","id":"TM6bd0a2b9-4c1b-4d9e-9a1f-0d2f0c7a1e11","token":"` + tok1 + `","continuation_token":null,"metadata":{"ver":"1.0.2","env":"Chrome","os":"Linux","sdk":"JS","type":"conversations"},"registrations":null,"tweaks":null,"capabilities":["client_update","offline_storage","telemetry.v1"],"payload_size":0}`},
	{"reply_frame", `{"method":"reply","id":"TM6bd0a2b9-4c1b-4d9e-9a1f-0d2f0c7a1e11","payload_type":"application/json","status":{"code":200,"status":"OK"},"continuation_token":"cnQ1NzM0","capabilities":["client_update","offline_storage"],"payload_size":2}`},
}

var sink string

// BenchmarkRedactJWTsPretty is a frame carrying a token whose header is
// pretty-printed (ewog…), which a prefix scan for eyJ would miss.
func BenchmarkRedactJWTsPretty(b *testing.B) {
	in := strings.Replace(redactInputs[0].s, tok1, prettyTok, 1)
	if out := RedactJWTs(in); strings.Contains(out, prettySig) {
		b.Fatalf("signature leaked: %s", out)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		sink = RedactJWTs(in)
	}
}

func BenchmarkRedactJWTs(b *testing.B) {
	for _, in := range redactInputs {
		b.Run("scan/"+in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			b.ReportAllocs()
			for b.Loop() {
				sink = RedactJWTs(in.s)
			}
		})
		b.Run("regexp/"+in.name, func(b *testing.B) {
			if got, want := redactRegexp(in.s), RedactJWTs(in.s); got != want {
				b.Fatalf("regexp and scanner disagree:\n%q\n%q", got, want)
			}
			b.SetBytes(int64(len(in.s)))
			b.ReportAllocs()
			for b.Loop() {
				sink = redactRegexp(in.s)
			}
		})
	}
}
