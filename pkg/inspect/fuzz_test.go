package inspect

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Fuzz targets run their seeds in every `go test`; explore with e.g.
//
//	go test -run '^$' -fuzz '^FuzzInspect$' -fuzztime 60s ./pkg/inspect/

func addTokenSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var fx fixture
		if err := json.Unmarshal(b, &fx); err != nil {
			f.Fatal(err)
		}
		f.Add(fx.Token)
	}
	for _, c := range ruleCases() {
		f.Add(c.token)
	}
	for _, s := range []string{"", ".", "..", "...", "a.b.c", "eyJ.eyJ.", "=.=.=", "\x00.\xff.\n", strings.Repeat("[", 20000) + ".e30.x"} {
		f.Add(s)
	}
}

var fuzzSecret = []byte(testSecret)

// FuzzInspect: any input yields a report, never a panic, and the report
// keeps every promise of the contract. Where golang-jwt can read the token,
// the two agree on the signature.
func FuzzInspect(f *testing.F) {
	addTokenSeeds(f)
	in := NewInspector(WithSecret(fuzzSecret), WithAt(testAt))
	f.Fuzz(func(t *testing.T, token string) {
		r := in.Inspect(token)
		if r == nil {
			t.Fatal("nil report")
		}
		checkReportInvariants(t, token, r)
		checkAgainstGolangJWT(t, token, r)
		if one := Inspect(token, WithSecret(fuzzSecret), WithAt(testAt)); !slices.Equal(one.Codes(), r.Codes()) || one.Signature != r.Signature {
			t.Errorf("Inspect and a reused Inspector disagree: %v %s vs %v %s", one.Codes(), one.Signature, r.Codes(), r.Signature)
		}
	})
}

// FuzzInspectClaims signs whatever header and payload it is given, so the
// claim rules (not just the decoder) meet arbitrary JSON.
func FuzzInspectClaims(f *testing.F) {
	h, _ := json.Marshal(goodHeader())
	for _, c := range []map[string]any{goodClaims(), {}, {"grants": []any{}}, {"exp": 1e300, "iat": -1e300, "nbf": "x"}} {
		p, _ := json.Marshal(c)
		f.Add(h, p)
	}
	f.Add([]byte(`{"alg":"HS512","typ":"JWT","cty":"twilio-fpa;v=1","twr":"ie1"}`), []byte(`{"iss":"SK","sub":"AC","exp":1.5e9,"iat":1e12,"grants":{"identity":"\u00e9","chat":{"service_sid":"IS\u0030"},"voice":{"incoming":{"allow":1},"outgoing":[]}}}`))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(`{"exp":-0.5,"nbf":1E3,"iat":0e0,"grants":{"identity":"a","video":{"room":null}}}`))
	// Ambiguous tokens (issue 9, item 8): repeated keys, crit, huge times.
	f.Add([]byte(`{"alg":"none","alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","crit":["x"],"x":1}`), []byte(`{"iss":"SK","iss":"SK","exp":1764064700,"exp":1764068400,"grants":{"identity":"alice","identity":"admin","chat":{},"chat":1}}`))
	f.Add([]byte(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","crit":"x","crit":[]}`), []byte(`{"jti":"a","jti":"b","exp":1e400,"iat":-1e20,"nbf":1e15}`))
	in := NewInspector(WithSecret(fuzzSecret), WithAt(testAt), WithProduct(ProductAny), WithMinRemaining(time.Hour))
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		tok := signRaw(string(header), string(payload), testSecret, "HS256")
		r := in.Inspect(tok)
		checkReportInvariants(t, tok, r)
		checkAgainstGolangJWT(t, tok, r)
		if r.Header != nil && r.Claims != nil && r.Algorithm == "HS256" && r.Signature != SignatureVerified {
			t.Errorf("HS256 token signed with the secret: signature %s\n%s", r.Signature, dump(r))
		}
		if r.ExpiresAt != nil && r.ExpiresInSeconds == nil {
			t.Errorf("expires_at without expires_in_seconds")
		}
	})
}

// checkAgainstGolangJWT compares signature verdicts with golang-jwt's parser,
// which decodes the token its own way.
func checkAgainstGolangJWT(t *testing.T, token string, r *Report) {
	t.Helper()
	_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return fuzzSecret, nil },
		jwt.WithoutClaimsValidation(), jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}))
	theyVerify := err == nil
	decoded := r.Header != nil && r.Claims != nil && !r.Has(CodeMalformed)
	if r.Signature == SignatureVerified && !theyVerify && decoded && r.Valid {
		t.Errorf("valid and verified here, golang-jwt says %v", err)
	}
	if theyVerify && decoded && hmacIndex(r.Algorithm) >= 0 && r.Signature != SignatureVerified {
		t.Errorf("golang-jwt verifies the signature, Inspect says %s\n%s", r.Signature, dump(r))
	}
}

// FuzzValidJSON: validJSON agrees with encoding/json (plus UTF-8) on what
// JSON is, and the walker reads objects as encoding/json does.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5e-3, -0, true, false, null, "x\"y\\u00e9"]} `, `{"a":}`,
		`01`, `-`, `1.`, `1e`, `"\u12"`, "\"\x01\"", `{"a":1,}`, `[1,]`, `{"a" 1}`, `nul`, `"é"`, "\"\xff\"", `{"\u0069ss":"x","iss":"y"}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `{"a":{"b":[{"c":"}"}]},"d":"\\"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var sp spans
		ok, escaped := validJSON(b, &sp)
		want := json.Valid(b) && utf8.Valid(b)
		if ok != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json+utf8 says %v", b, ok, want)
		}
		if !ok {
			return
		}
		if !escaped && strings.Contains(string(b), `\`) {
			t.Fatalf("escaped = false, but %q has a backslash", b)
		}
		doc := &jsonDoc{b: b, s: string(b), plain: !escaped, spans: sp}
		for i := 0; i < sp.n; i++ {
			start, end := int(sp.s[i][0]), int(sp.s[i][1])
			if got := valueEnd(b, start, !escaped); got != end {
				t.Fatalf("span of the container at %d ends at %d, scanning says %d", start, end, got)
			}
		}
		var want2 any
		if err := json.Unmarshal(b, &want2); err != nil {
			return // valid JSON encoding/json cannot hold, e.g. 1e400
		}
		compareWalk(t, doc.root(), want2, 0)
	})
}

// compareWalk checks the walker's reading of v against encoding/json's.
func compareWalk(t *testing.T, v jsonValue, want any, depth int) {
	t.Helper()
	if depth > 64 {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		if v.kind() != kindObject {
			t.Fatalf("kind %s, want object", v.kindName())
		}
		got := map[string]jsonValue{}
		m := v.members()
		for {
			k, mv, ok := m.next()
			if !ok {
				break
			}
			got[k] = mv // last wins, as in encoding/json
		}
		if len(got) != len(w) {
			t.Fatalf("walker saw %d keys, encoding/json %d", len(got), len(w))
		}
		for k, wv := range w {
			gv, ok := got[k]
			if !ok {
				t.Fatalf("walker lacks key %q", k)
			}
			compareWalk(t, gv, wv, depth+1)
		}
	case string:
		if s, ok := v.str(); !ok || s != w {
			t.Fatalf("string %q (%v), want %q", s, ok, w)
		}
	case float64:
		n, ok := v.number()
		if !ok || n != w && !(math.Abs(n-w) <= 1e-9*math.Abs(w)) {
			t.Fatalf("number %v (%v), want %v", n, ok, w)
		}
	case bool:
		if b, ok := v.boolean(); !ok || b != w {
			t.Fatalf("bool %v (%v), want %v", b, ok, w)
		}
	case nil:
		if v.kind() != kindNull {
			t.Fatalf("kind %s, want null", v.kindName())
		}
	case []any:
		if v.kind() != kindArray {
			t.Fatalf("kind %s, want array", v.kindName())
		}
	}
}
