package inspect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The SIDs and secret testdata/interop/mint-fixtures.js mints with: fake but
// well-formed.
const (
	testAccountSID     = "AC0123456789abcdef0123456789abcdef"
	testAPIKeySID      = "SKfedcba9876543210fedcba9876543210"
	testChatServiceSID = "IS00112233445566778899aabbccddeeff"
	testSyncServiceSID = "ISffeeddccbbaa99887766554433221100"
	testVoiceAppSID    = "AP0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	testSecret         = "convctl-test-secret-0123456789abcdef"
)

const fixtureDir = "../../testdata/tokens"

// fixture is one file written by testdata/interop/mint-fixtures.js: a token
// minted by Twilio's Node helper library.
type fixture struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Token       string          `json:"token"`
	Secret      string          `json:"secret"`
	AccountSID  string          `json:"account_sid"`
	APIKeySID   string          `json:"api_key_sid"`
	Iat         int64           `json:"iat"`
	Exp         int64           `json:"exp"`
	Nbf         *int64          `json:"nbf"`
	Header      json.RawMessage `json:"header"`
	Payload     json.RawMessage `json:"payload"`
	Mint        *struct {
		Identity               string
		ChatServiceSID         string
		SyncServiceSID         string
		VoiceAppSID            string
		VoiceIncomingAllow     bool
		VideoRoom              string
		TTLSeconds             int64
		Region                 string
		Algorithm              string
		NotBeforeIsIat         bool
		NotBeforeOffsetSeconds int64
	} `json:"mint"`
}

func loadFixture(tb testing.TB, name string) fixture {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name+".json"))
	if err != nil {
		tb.Fatalf("fixture %s: %v (regenerate with: cd testdata/interop && node mint-fixtures.js)", name, err)
	}
	var fx fixture
	if err := json.Unmarshal(b, &fx); err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
	return fx
}

func fixtureNames(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".json")
	}
	return names
}

// mintOptions turns a fixture's recorded helper options into MintOptions.
func (fx fixture) mintOptions() MintOptions {
	m := fx.Mint
	o := MintOptions{
		AccountSID: fx.AccountSID, APIKeySID: fx.APIKeySID, Secret: []byte(fx.Secret),
		Identity: m.Identity, ChatServiceSID: m.ChatServiceSID, SyncServiceSID: m.SyncServiceSID,
		VoiceAppSID: m.VoiceAppSID, VoiceIncomingAllow: m.VoiceIncomingAllow, VideoRoom: m.VideoRoom,
		TTL: time.Duration(m.TTLSeconds) * time.Second, Region: m.Region, Algorithm: m.Algorithm,
		Now: time.Unix(fx.Iat, 0),
	}
	if m.NotBeforeIsIat {
		o.NotBefore = time.Unix(fx.Iat, 0)
	}
	if m.NotBeforeOffsetSeconds != 0 {
		o.NotBefore = time.Unix(fx.Iat+m.NotBeforeOffsetSeconds, 0)
	}
	return o
}

// TestFixtureVerdicts judges every token Twilio's helper minted, a minute
// after it was issued, with the right secret. The verdicts are Twilio's rules
// (docs/access-tokens.md), case by case.
func TestFixtureVerdicts(t *testing.T) {
	type want struct {
		product  Product
		errors   []string // error codes, in report order
		warnings []string // warning codes, in report order
		message  string   // a substring of one finding's message or hint
	}
	wants := map[string]want{
		"conversations":              {},
		"conversations-region":       {},
		"sync":                       {product: ProductSync},
		"voice":                      {product: ProductVoice},
		"video":                      {product: ProductVideo},
		"all-grants":                 {product: ProductAny},
		"hs384":                      {warnings: []string{CodeUnusualAlg}},
		"hs512":                      {warnings: []string{CodeUnusualAlg}},
		"unicode-identity":           {},
		"numeric-identity":           {},
		"short-ttl":                  {warnings: []string{CodeExpiresSoon, CodeShortLifetime}},
		"not-before-future":          {errors: []string{CodeNotYetValid}, message: "nbf is 10m0s after iat"},
		"ttl-in-milliseconds":        {errors: []string{CodeLifetimeTooLong}, message: "looks like milliseconds"},
		"account-sid-as-issuer":      {errors: []string{CodeBadIssuer}, message: "Account SID (AC…) where the API Key SID (SK…) belongs"},
		"swapped-sids":               {errors: []string{CodeBadIssuer, CodeBadSubject}, message: "swapped"},
		"messaging-service-sid":      {errors: []string{CodeBadGrant}, message: "Messaging Service SID (MG…)"},
		"chat-grant-without-service": {errors: []string{CodeBadGrant}, message: "no service_sid"},
		"no-grant":                   {errors: []string{CodeMissingGrant}},
	}
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			w, ok := wants[name]
			if !ok {
				t.Fatalf("fixture %s has no expected verdict here: add one", name)
			}
			fx := loadFixture(t, name)
			opts := []Option{WithSecret([]byte(fx.Secret)), WithAt(time.Unix(fx.Iat+60, 0))}
			if w.product != "" {
				opts = append(opts, WithProduct(w.product))
			}
			r := Inspect(fx.Token, opts...)
			errs, warns := findingCodes(r)
			if !slices.Equal(errs, w.errors) || !slices.Equal(warns, w.warnings) {
				t.Errorf("errors %v warnings %v, want errors %v warnings %v\n%s", errs, warns, w.errors, w.warnings, dump(r))
			}
			if r.Valid != (len(w.errors) == 0) {
				t.Errorf("valid = %v with errors %v", r.Valid, errs)
			}
			if r.Signature != SignatureVerified {
				t.Errorf("signature %s, want verified", r.Signature)
			}
			if w.message != "" && !slices.ContainsFunc(r.Findings, func(f Finding) bool { return strings.Contains(f.Message+" "+f.Hint, w.message) }) {
				t.Errorf("no finding says %q:\n%s", w.message, dump(r))
			}
			checkReportAgainstFixture(t, r, fx)
		})
	}
}

// checkReportAgainstFixture compares what Inspect decoded with what the
// helper says it wrote, and with golang-jwt's reading of the same token.
func checkReportAgainstFixture(t *testing.T, r *Report, fx fixture) {
	t.Helper()
	if !jsonEqual(t, r.Header, fx.Header) || !jsonEqual(t, r.Claims, fx.Payload) {
		t.Errorf("decoded header/claims differ from the helper's:\n got %s\n     %s\nwant %s\n     %s", r.Header, r.Claims, fx.Header, fx.Payload)
	}
	if r.AccountSID != fx.AccountSID || r.APIKeySID != fx.APIKeySID {
		t.Errorf("account %q key %q, want %q %q", r.AccountSID, r.APIKeySID, fx.AccountSID, fx.APIKeySID)
	}
	if r.IssuedAt == nil || r.IssuedAt.Unix() != fx.Iat || r.ExpiresAt == nil || r.ExpiresAt.Unix() != fx.Exp {
		t.Errorf("issued %v expires %v, want unix %d %d", r.IssuedAt, r.ExpiresAt, fx.Iat, fx.Exp)
	}
	if (fx.Nbf == nil) != (r.NotBefore == nil) || fx.Nbf != nil && r.NotBefore.Unix() != *fx.Nbf {
		t.Errorf("not_before %v, want %v", r.NotBefore, fx.Nbf)
	}
	var payload struct {
		Grants map[string]any `json:"grants"`
	}
	if err := json.Unmarshal(fx.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	if id, _ := payload.Grants["identity"].(string); r.Identity != id {
		t.Errorf("identity %q, want %q", r.Identity, id)
	}
	var keys []string
	for k := range payload.Grants {
		if k != "identity" {
			keys = append(keys, k)
		}
	}
	got := slices.Clone(r.Grants)
	slices.Sort(keys)
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("grants %v, want %v", r.Grants, keys)
	}

	// golang-jwt, told nothing but the secret, must read the same claims.
	tok, err := jwt.Parse(fx.Token, func(*jwt.Token) (any, error) { return []byte(fx.Secret), nil },
		jwt.WithoutClaimsValidation(), jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"}))
	if err != nil {
		t.Fatalf("golang-jwt rejects the helper's token: %v", err)
	}
	theirs, _ := json.Marshal(tok.Claims)
	if !jsonEqual(t, r.Claims, theirs) {
		t.Errorf("claims differ from golang-jwt's:\n got %s\nwant %s", r.Claims, theirs)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("unmarshal %s: %v", a, err)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Errorf("unmarshal %s: %v", b, err)
		return false
	}
	return reflect.DeepEqual(x, y)
}

func dump(r *Report) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// TestFixtureTimeline walks each valid fixture through its life: before
// nbf, fresh, inside the about-to-expire window, at exp, after.
func TestFixtureTimeline(t *testing.T) {
	fx := loadFixture(t, "conversations")
	exp := time.Unix(fx.Exp, 0)
	secret := WithSecret([]byte(fx.Secret))
	cases := []struct {
		at         time.Time
		opts       []Option
		valid      bool
		codes      []string
		expiresIn  int64
		severityOf Severity
	}{
		{at: time.Unix(fx.Iat, 0), valid: true, expiresIn: 3600},
		{at: exp.Add(-3*time.Minute - time.Second), valid: true, expiresIn: 181},
		{at: exp.Add(-3 * time.Minute), valid: true, codes: []string{CodeExpiresSoon}, expiresIn: 180, severityOf: SeverityWarning},
		{at: exp.Add(-time.Second), valid: true, codes: []string{CodeExpiresSoon}, expiresIn: 1, severityOf: SeverityWarning},
		{at: exp.Add(-500 * time.Millisecond), valid: true, codes: []string{CodeExpiresSoon}, expiresIn: 0, severityOf: SeverityWarning},
		{at: exp, valid: false, codes: []string{CodeExpired}, expiresIn: 0, severityOf: SeverityError},
		{at: exp.Add(2 * time.Minute), valid: false, codes: []string{CodeExpired}, expiresIn: -120, severityOf: SeverityError},
		{at: exp.Add(-10 * time.Minute), opts: []Option{WithMinRemaining(15 * time.Minute)}, valid: false, codes: []string{CodeExpiresSoon}, expiresIn: 600, severityOf: SeverityError},
		{at: exp.Add(-10 * time.Minute), opts: []Option{WithMinRemaining(5 * time.Minute)}, valid: true, expiresIn: 600},
		{at: exp.Add(-2 * time.Minute), opts: []Option{WithMinRemaining(5 * time.Minute)}, valid: false, codes: []string{CodeExpiresSoon}, expiresIn: 120, severityOf: SeverityError},
		{at: time.Unix(fx.Iat-90, 0), valid: true, codes: []string{CodeIssuedInFuture}, expiresIn: 3690, severityOf: SeverityWarning},
		{at: exp.Add(-10 * time.Minute), opts: []Option{WithAboutToExpire(15 * time.Minute)}, valid: true, codes: []string{CodeExpiresSoon}, expiresIn: 600, severityOf: SeverityWarning},
	}
	for _, c := range cases {
		t.Run(c.at.UTC().Format(time.TimeOnly), func(t *testing.T) {
			r := Inspect(fx.Token, append([]Option{secret, WithAt(c.at)}, c.opts...)...)
			if r.Valid != c.valid || !slices.Equal(r.Codes(), c.codes) {
				t.Fatalf("valid %v codes %v, want %v %v\n%s", r.Valid, r.Codes(), c.valid, c.codes, dump(r))
			}
			if len(c.codes) > 0 && r.Findings[0].Severity != c.severityOf {
				t.Errorf("severity %s, want %s", r.Findings[0].Severity, c.severityOf)
			}
			if r.ExpiresInSeconds == nil || *r.ExpiresInSeconds != c.expiresIn {
				t.Errorf("expires_in_seconds %v, want %d", r.ExpiresInSeconds, c.expiresIn)
			}
		})
	}
	r := Inspect(fx.Token, secret, WithAt(time.Unix(fx.Iat, 0)))
	if r.AboutToExpireAt == nil || !r.AboutToExpireAt.Equal(exp.Add(-3*time.Minute)) {
		t.Errorf("about_to_expire_at %v, want exp-3m", r.AboutToExpireAt)
	}
	if r.LifetimeSeconds == nil || *r.LifetimeSeconds != 3600 {
		t.Errorf("lifetime %v, want 3600", r.LifetimeSeconds)
	}

	// A token shorter than the window is about to expire at once.
	short := loadFixture(t, "short-ttl")
	r = Inspect(short.Token, WithAt(time.Unix(short.Iat, 0)))
	if r.AboutToExpireAt == nil || r.AboutToExpireAt.Unix() != short.Iat {
		t.Errorf("short token about_to_expire_at %v, want iat %d", r.AboutToExpireAt, short.Iat)
	}
	// And with nbf, the window starts at nbf.
	nbf := loadFixture(t, "not-before-future")
	r = Inspect(nbf.Token, WithAt(time.Unix(*nbf.Nbf+1, 0)))
	if !r.Valid || r.LifetimeSeconds == nil || *r.LifetimeSeconds != nbf.Exp-*nbf.Nbf {
		t.Errorf("after nbf: valid %v lifetime %v, want valid, %d\n%s", r.Valid, r.LifetimeSeconds, nbf.Exp-*nbf.Nbf, dump(r))
	}
}

// TestFixtureWrongSecret: every helper token fails verification with another
// secret, and only the signature finding is added.
func TestFixtureWrongSecret(t *testing.T) {
	for _, name := range fixtureNames(t) {
		fx := loadFixture(t, name)
		at := WithAt(time.Unix(fx.Iat+60, 0))
		right := Inspect(fx.Token, WithSecret([]byte(fx.Secret)), at, WithProduct(ProductAny))
		wrong := Inspect(fx.Token, WithSecret([]byte(fx.Secret+"x")), at, WithProduct(ProductAny))
		none := Inspect(fx.Token, at, WithProduct(ProductAny))
		if wrong.Signature != SignatureInvalid || wrong.Valid || !wrong.Has(CodeBadSignature) {
			t.Errorf("%s: wrong secret: signature %s valid %v codes %v", name, wrong.Signature, wrong.Valid, wrong.Codes())
		}
		if none.Signature != SignatureUnchecked || none.Has(CodeBadSignature) {
			t.Errorf("%s: no secret: signature %s codes %v", name, none.Signature, none.Codes())
		}
		withoutSig := slices.DeleteFunc(wrong.Codes(), func(c string) bool { return c == CodeBadSignature })
		if !slices.Equal(withoutSig, right.Codes()) || !slices.Equal(none.Codes(), right.Codes()) {
			t.Errorf("%s: codes right %v wrong %v none %v", name, right.Codes(), wrong.Codes(), none.Codes())
		}
		if f := wrong.Find(CodeBadSignature); f != nil && (strings.Contains(f.Message+f.Hint, fx.Secret) || strings.Contains(f.Message+f.Hint, fx.Token[strings.LastIndexByte(fx.Token, '.')+1:])) {
			t.Errorf("%s: bad_signature finding leaks the secret or signature: %+v", name, f)
		}
	}
}

// TestMintMatchesHelper: Mint, given the options the helper was given and its
// clock, writes the helper's token byte for byte.
func TestMintMatchesHelper(t *testing.T) {
	n := 0
	for _, name := range fixtureNames(t) {
		fx := loadFixture(t, name)
		if fx.Mint == nil {
			continue
		}
		n++
		got, err := Mint(fx.mintOptions())
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got != fx.Token {
			t.Errorf("%s: Mint wrote\n%s\nthe helper wrote\n%s", name, decodeParts(got), decodeParts(fx.Token))
		}
	}
	if n < 10 {
		t.Errorf("only %d fixtures are mintable; the comparison is too thin", n)
	}
}

func decodeParts(tok string) string {
	parts := strings.Split(tok, ".")
	var out []string
	for _, p := range parts[:min(2, len(parts))] {
		b, _ := b64.DecodeString(p)
		out = append(out, string(b))
	}
	return strings.Join(out, "\n")
}
