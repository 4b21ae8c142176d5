package inspect

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The benchmarks judge the Conversations quickstart token from Twilio's Node
// helper. Compare BenchmarkInspector (every rule, signature verified) with
// BenchmarkJWTParseMapClaims (golang-jwt's plain Parse: decode to maps,
// verify, check exp/nbf/iat only):
//
//	go test -run '^$' -bench . -benchmem ./pkg/inspect/
//
// Measured 2026-11-25 on the shared 2-core AMD EPYC dev box (busy: load 5-8,
// so absolute figures are pessimistic; the ratio held in every run), medians
// of -count 5:
//
//	BenchmarkInspector           2335 ns/op   1088 B/op   3 allocs/op
//	BenchmarkInspect (one-shot)  3808 ns/op   2528 B/op  14 allocs/op
//	BenchmarkJWTParseMapClaims   7114 ns/op   4600 B/op  77 allocs/op
//	BenchmarkInspectorParallel   1395 ns/op on 2 cores (~360k tokens/s per core)
//	BenchmarkMint                2005 ns/op   1568 B/op  10 allocs/op
//
// End to end, `GOMAXPROCS=1 convctl token inspect --batch` over 500k tokens
// (read, judge with HMAC, write JSON lines) took 1.6-1.7 s of CPU, 3.3 µs a
// token; a loop calling jwt.Parse on the same lines took 4.2-4.6 s, 9 µs.

func benchToken(b *testing.B) (token string, secret []byte, at time.Time) {
	b.Helper()
	fx := loadFixture(b, "conversations")
	return fx.Token, []byte(fx.Secret), time.Unix(fx.Iat+60, 0)
}

// BenchmarkInspect is the one-shot form: options parsed and HMAC keyed per call.
func BenchmarkInspect(b *testing.B) {
	tok, secret, at := benchToken(b)
	b.ReportAllocs()
	for b.Loop() {
		r := Inspect(tok, WithSecret(secret), WithAt(at))
		if !r.Valid || r.Signature != SignatureVerified {
			b.Fatal("fixture did not verify")
		}
	}
}

// BenchmarkInspector is the reusable form `token inspect --batch` uses.
func BenchmarkInspector(b *testing.B) {
	tok, secret, at := benchToken(b)
	in := NewInspector(WithSecret(secret), WithAt(at))
	b.ReportAllocs()
	for b.Loop() {
		r := in.Inspect(tok)
		if !r.Valid || r.Signature != SignatureVerified {
			b.Fatal("fixture did not verify")
		}
	}
}

// BenchmarkInspectorInvalid judges a token with several findings, where
// messages are built.
func BenchmarkInspectorInvalid(b *testing.B) {
	fx := loadFixture(b, "swapped-sids")
	in := NewInspector(WithSecret([]byte("wrong secret")), WithAt(time.Unix(fx.Exp+120, 0)))
	b.ReportAllocs()
	for b.Loop() {
		if r := in.Inspect(fx.Token); r.Valid {
			b.Fatal("swapped SIDs judged valid")
		}
	}
}

func BenchmarkJWTParseMapClaims(b *testing.B) {
	tok, secret, at := benchToken(b)
	keyFunc := func(*jwt.Token) (any, error) { return secret, nil }
	clock := jwt.WithTimeFunc(func() time.Time { return at })
	b.ReportAllocs()
	for b.Loop() {
		t, err := jwt.Parse(tok, keyFunc, clock)
		if err != nil || !t.Valid {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspectorParallel is the batch path: one Inspector shared by
// every core. tokens/s per core = 1e9 / (ns/op * GOMAXPROCS).
func BenchmarkInspectorParallel(b *testing.B) {
	tok, secret, at := benchToken(b)
	in := NewInspector(WithSecret(secret), WithAt(at))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := in.Inspect(tok); !r.Valid {
				b.Error("fixture judged invalid")
				return
			}
		}
	})
}

func BenchmarkMint(b *testing.B) {
	o := MintOptions{
		AccountSID: testAccountSID, APIKeySID: testAPIKeySID, Secret: []byte(testSecret),
		Identity: "alice", ChatServiceSID: testChatServiceSID, Now: time.Unix(1764064800, 0),
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Mint(o); err != nil {
			b.Fatal(err)
		}
	}
}
