package inspect

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func baseMint() MintOptions {
	return MintOptions{
		AccountSID: testAccountSID, APIKeySID: testAPIKeySID, Secret: []byte(testSecret),
		Identity: "alice", ChatServiceSID: testChatServiceSID, Now: time.Unix(testIat, 0),
	}
}

func TestMintOptionsRejected(t *testing.T) {
	cases := []struct {
		name string
		edit func(*MintOptions)
		says string
	}{
		{"no account", func(o *MintOptions) { o.AccountSID = "" }, "no Account SID"},
		{"account is a key", func(o *MintOptions) { o.AccountSID = testAPIKeySID; o.APIKeySID = "SK00000000000000000000000000000000" }, "is an API Key SID (SK…): pass it as the API key"},
		{"swapped", func(o *MintOptions) { o.AccountSID, o.APIKeySID = testAPIKeySID, testAccountSID }, "swapped"},
		{"account uppercase", func(o *MintOptions) { o.AccountSID = strings.ToUpper(testAccountSID) }, "lowercase"},
		{"no key", func(o *MintOptions) { o.APIKeySID = "" }, "no API Key SID"},
		{"key is the account", func(o *MintOptions) { o.APIKeySID = testAccountSID }, "not the account and its Auth Token"},
		{"key too short", func(o *MintOptions) { o.APIKeySID = "SK123" }, "3 characters after SK"},
		{"no secret", func(o *MintOptions) { o.Secret = nil }, "no API Key secret"},
		{"no identity", func(o *MintOptions) { o.Identity = "" }, "no identity"},
		{"identity not UTF-8", func(o *MintOptions) { o.Identity = "\xff" }, "UTF-8"},
		{"Messaging Service SID", func(o *MintOptions) { o.ChatServiceSID = "MG00112233445566778899aabbccddeeff" }, "Messaging Service SID (MG…)"},
		{"chat SID short", func(o *MintOptions) { o.ChatServiceSID = "IS1" }, "chat service SID"},
		{"sync SID wrong", func(o *MintOptions) { o.SyncServiceSID = testAccountSID }, "an Account SID"},
		{"voice app wrong", func(o *MintOptions) { o.VoiceAppSID = "AP" }, "TwiML App SID"},
		{"no grant", func(o *MintOptions) { o.ChatServiceSID = "" }, "no grant"},
		{"negative ttl", func(o *MintOptions) { o.TTL = -time.Second }, "negative"},
		{"fractional ttl", func(o *MintOptions) { o.TTL = 1500 * time.Millisecond }, "whole number of seconds"},
		{"ttl over 24h", func(o *MintOptions) { o.TTL = 25 * time.Hour }, "24h maximum"},
		{"bad region", func(o *MintOptions) { o.Region = "US 1" }, "region"},
		{"bad algorithm", func(o *MintOptions) { o.Algorithm = "RS256" }, "HS256, HS384 or HS512"},
		{"nbf after exp", func(o *MintOptions) { o.NotBefore = o.Now.Add(2 * time.Hour) }, "never be valid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := baseMint()
			c.edit(&o)
			tok, err := Mint(o)
			if err == nil {
				t.Fatalf("Mint accepted it: %s", tok)
			}
			if !errors.Is(err, ErrMintOptions) {
				t.Errorf("error does not wrap ErrMintOptions: %v", err)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("error %q does not say %q", err, c.says)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}

	// Every problem at once, each named.
	_, err := Mint(MintOptions{AccountSID: "x", TTL: -1})
	for _, want := range []string{"account SID", "no API Key SID", "no API Key secret", "no identity", "no grant", "negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("gathered error %v lacks %q", err, want)
		}
	}
}

// TestMintInspectsValid: what Mint writes, Inspect judges valid for the
// products it grants, through its whole life and not after it.
func TestMintInspectsValid(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*MintOptions)
		product Product
		grants  []string
	}{
		{"conversations", func(*MintOptions) {}, ProductConversations, []string{"chat"}},
		{"sync", func(o *MintOptions) { o.ChatServiceSID = ""; o.SyncServiceSID = testSyncServiceSID }, ProductSync, []string{"data_sync"}},
		{"voice outgoing", func(o *MintOptions) { o.ChatServiceSID = ""; o.VoiceAppSID = testVoiceAppSID }, ProductVoice, []string{"voice"}},
		{"voice incoming", func(o *MintOptions) { o.ChatServiceSID = ""; o.VoiceIncomingAllow = true }, ProductVoice, []string{"voice"}},
		{"video any room", func(o *MintOptions) { o.ChatServiceSID = ""; o.Video = true }, ProductVideo, []string{"video"}},
		{"everything", func(o *MintOptions) {
			o.SyncServiceSID, o.VoiceAppSID, o.VideoRoom, o.Region, o.TTL = testSyncServiceSID, testVoiceAppSID, "room", "au1", 24*time.Hour
		}, ProductAny, []string{"chat", "data_sync", "voice", "video"}},
		{"nbf", func(o *MintOptions) { o.NotBefore = o.Now }, ProductConversations, []string{"chat"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := baseMint()
			c.edit(&o)
			tok, err := Mint(o)
			if err != nil {
				t.Fatal(err)
			}
			ttl := o.TTL
			if ttl == 0 {
				ttl = DefaultTTL
			}
			in := func(at time.Time) *Report {
				return Inspect(tok, WithSecret(o.Secret), WithAt(at), WithProduct(c.product))
			}
			r := in(o.Now)
			if !r.Valid || len(r.Findings) != 0 || r.Signature != SignatureVerified {
				t.Fatalf("fresh token: %s", dump(r))
			}
			if strings.Join(r.Grants, ",") != strings.Join(c.grants, ",") || r.Identity != o.Identity || r.Region != o.Region {
				t.Errorf("grants %v identity %q region %q", r.Grants, r.Identity, r.Region)
			}
			if *r.LifetimeSeconds != int64(ttl/time.Second) {
				t.Errorf("lifetime %d, want %v", *r.LifetimeSeconds, ttl)
			}
			if r := in(o.Now.Add(ttl - time.Second)); !r.Valid || !r.Has(CodeExpiresSoon) {
				t.Errorf("last second: valid %v codes %v", r.Valid, r.Codes())
			}
			if r := in(o.Now.Add(ttl)); r.Valid || r.FirstError().Code != CodeExpired {
				t.Errorf("at exp: valid %v codes %v", r.Valid, r.Codes())
			}
		})
	}
}

func TestMintDefaults(t *testing.T) {
	before := time.Now().Unix()
	o := baseMint()
	o.Now = time.Time{}
	tok, err := Mint(o)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().Unix()
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(testSecret), nil }, jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		t.Fatalf("golang-jwt rejects a minted token: %v", err)
	}
	c := parsed.Claims.(jwt.MapClaims)
	iat := int64(c["iat"].(float64))
	if iat < before || iat > after || int64(c["exp"].(float64)) != iat+3600 {
		t.Errorf("iat %v exp %v, want now and now+1h", c["iat"], c["exp"])
	}
	if parsed.Header["cty"] != "twilio-fpa;v=1" || parsed.Header["typ"] != "JWT" {
		t.Errorf("header %v", parsed.Header)
	}
	if _, ok := c["nbf"]; ok {
		t.Errorf("nbf written without NotBefore")
	}
	if c["jti"] != testAPIKeySID+"-"+itoa(iat) {
		t.Errorf("jti %v", c["jti"])
	}
}

// TestMintVerifiesWithJSONWebToken is the contract's round trip: a token
// Mint writes verifies with jsonwebtoken (npm), the library Twilio's own
// helper signs with, and reads back with the same claims.
func TestMintVerifiesWithJSONWebToken(t *testing.T) {
	node := requireNode(t)
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		o := baseMint()
		o.Now = time.Time{}
		o.Algorithm = alg
		o.Identity = "zoë <ops&dev> \"q\" \u2028 \t"
		o.VideoRoom = "standup"
		o.Region = "ie1"
		tok, err := Mint(o)
		if err != nil {
			t.Fatal(err)
		}
		out := runNode(t, node, nil, testSecret, []byte(tok+"\n"))
		var got struct {
			Header  map[string]any `json:"header"`
			Payload map[string]any `json:"payload"`
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("verify-jwt.js printed %q: %v", out, err)
		}
		if got.Header["alg"] != alg || got.Header["twr"] != "ie1" {
			t.Errorf("%s: header %v", alg, got.Header)
		}
		grants, _ := got.Payload["grants"].(map[string]any)
		if grants["identity"] != o.Identity {
			t.Errorf("%s: identity %q, want %q", alg, grants["identity"], o.Identity)
		}
		r := Inspect(tok, WithSecret(o.Secret))
		wantWarn := alg != "HS256"
		if !r.Valid || r.Signature != SignatureVerified || r.Has(CodeUnusualAlg) != wantWarn {
			t.Errorf("%s: %s", alg, dump(r))
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "alice", "a\"b\\c", "\x00\x01\x1f\x7f", "\b\f\n\r\t", "zoë 🚀", "<>&", "\u2028\u2029"} {
		var back string
		if err := json.Unmarshal(appendJSONString(nil, s), &back); err != nil || back != s {
			t.Errorf("%q: round trip gave %q, %v", s, back, err)
		}
	}
	if got := string(appendJSONString(nil, "<&>\u2028\x01")); got != "\"<&>\u2028\\u0001\"" {
		t.Errorf("escaping differs from JSON.stringify: %s", got)
	}
}
