package inspect

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrMintOptions is wrapped by every error Mint returns for options it will
// not mint from; test for it with errors.Is.
var ErrMintOptions = errors.New("invalid mint options")

// MintOptions describes the token Mint writes.
type MintOptions struct {
	AccountSID string // AC…: the token's sub
	APIKeySID  string // SK…: the token's iss; Secret is this key's secret
	Secret     []byte
	Identity   string // required, as in Twilio's helpers

	ChatServiceSID     string // IS…: a chat grant (Conversations)
	SyncServiceSID     string // IS…: a data_sync grant
	VoiceAppSID        string // AP…: a voice grant allowing outgoing calls through this TwiML app
	VoiceIncomingAllow bool   // a voice grant allowing incoming calls
	VideoRoom          string // a video grant for this room
	Video              bool   // a video grant even without a room

	TTL       time.Duration // default 1h; whole seconds, at most 24h
	NotBefore time.Time     // zero: no nbf
	Region    string        // header twr, e.g. "ie1"; empty: none
	Now       time.Time     // zero: time.Now()
	Algorithm string        // HS256 (default), HS384, HS512
}

// DefaultTTL is the lifetime Twilio's helper libraries give a token.
const DefaultTTL = time.Hour

// Mint writes a token exactly as Twilio's Node helper (AccessToken.toJwt)
// does, byte for byte: the same header and claim order, the same JSON, grants
// in the order chat, data_sync, voice, video. It refuses options that would
// make a token Twilio rejects, so whatever it returns inspects as valid for
// the products it grants (until it expires). Errors name every problem and
// wrap ErrMintOptions; none contains the secret.
func Mint(o MintOptions) (string, error) {
	if err := o.validate(); err != nil {
		return "", err
	}
	alg := o.Algorithm
	if alg == "" {
		alg = "HS256"
	}
	ttl, now := o.ttlNow()
	iat := now.Unix()

	h := make([]byte, 0, 80)
	h = append(h, `{"alg":`...)
	h = appendJSONString(h, alg)
	h = append(h, `,"typ":"JWT","cty":"twilio-fpa;v=1"`...)
	if o.Region != "" {
		h = append(h, `,"twr":`...)
		h = appendJSONString(h, o.Region)
	}
	h = append(h, '}')

	p := make([]byte, 0, 512)
	p = append(p, `{"jti":`...)
	p = appendJSONString(p, o.APIKeySID+"-"+strconv.FormatInt(iat, 10))
	p = append(p, `,"grants":{"identity":`...)
	p = appendJSONString(p, o.Identity)
	if o.ChatServiceSID != "" {
		p = append(p, `,"chat":{"service_sid":`...)
		p = appendJSONString(p, o.ChatServiceSID)
		p = append(p, '}')
	}
	if o.SyncServiceSID != "" {
		p = append(p, `,"data_sync":{"service_sid":`...)
		p = appendJSONString(p, o.SyncServiceSID)
		p = append(p, '}')
	}
	if o.VoiceAppSID != "" || o.VoiceIncomingAllow {
		p = append(p, `,"voice":{`...)
		if o.VoiceIncomingAllow {
			p = append(p, `"incoming":{"allow":true}`...)
		}
		if o.VoiceAppSID != "" {
			if o.VoiceIncomingAllow {
				p = append(p, ',')
			}
			p = append(p, `"outgoing":{"application_sid":`...)
			p = appendJSONString(p, o.VoiceAppSID)
			p = append(p, '}')
		}
		p = append(p, '}')
	}
	if o.VideoRoom != "" || o.Video {
		p = append(p, `,"video":{`...)
		if o.VideoRoom != "" {
			p = append(p, `"room":`...)
			p = appendJSONString(p, o.VideoRoom)
		}
		p = append(p, '}')
	}
	p = append(p, '}')
	// The helper sets nbf in its own payload before jsonwebtoken adds iat,
	// exp, iss and sub, so nbf comes first.
	if !o.NotBefore.IsZero() {
		p = append(p, `,"nbf":`...)
		p = strconv.AppendInt(p, o.NotBefore.Unix(), 10)
	}
	p = append(p, `,"iat":`...)
	p = strconv.AppendInt(p, iat, 10)
	p = append(p, `,"exp":`...)
	p = strconv.AppendInt(p, iat+int64(ttl/time.Second), 10)
	p = append(p, `,"iss":`...)
	p = appendJSONString(p, o.APIKeySID)
	p = append(p, `,"sub":`...)
	p = appendJSONString(p, o.AccountSID)
	p = append(p, '}')

	out := make([]byte, 0, b64.EncodedLen(len(h))+b64.EncodedLen(len(p))+90)
	out = b64.AppendEncode(out, h)
	out = append(out, '.')
	out = b64.AppendEncode(out, p)
	mac := hmac.New(hmacAlgs[hmacIndex(alg)].new, o.Secret)
	mac.Write(out)
	out = append(out, '.')
	out = b64.AppendEncode(out, mac.Sum(nil))
	return string(out), nil
}

func (o *MintOptions) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrMintOptions}, args...)...))
	}
	switch {
	case o.AccountSID == "":
		bad("no Account SID (AC…)")
	case isSID(o.AccountSID, prefixAPIKey) && isSID(o.APIKeySID, prefixAccount):
		bad("the Account SID and the API Key SID are swapped: the Account SID starts with AC, the API Key SID with SK")
	case isSID(o.AccountSID, prefixAPIKey):
		bad("account SID %s is an API Key SID (SK…): pass it as the API key and give the Account SID (AC…) here", quote(o.AccountSID))
	default:
		if p := sidProblem(o.AccountSID, prefixAccount); p != "" {
			bad("account SID %s %s; want AC followed by 32 lowercase hex digits", quote(o.AccountSID), p)
		}
	}
	switch {
	case o.APIKeySID == "":
		bad("no API Key SID (SK…): create an API Key in the Console under Account > API keys & tokens")
	case isSID(o.AccountSID, prefixAPIKey) && isSID(o.APIKeySID, prefixAccount):
	case isSID(o.APIKeySID, prefixAccount):
		bad("API key %s is an Account SID (AC…): Access Tokens are signed by an API Key (SK…) and its secret, not the account and its Auth Token", quote(o.APIKeySID))
	default:
		if p := sidProblem(o.APIKeySID, prefixAPIKey); p != "" {
			bad("API key %s %s; want SK followed by 32 lowercase hex digits", quote(o.APIKeySID), p)
		}
	}
	if len(o.Secret) == 0 {
		bad("no API Key secret")
	}
	switch {
	case o.Identity == "":
		bad("no identity: Twilio requires one (Conversations uses it as the user's name)")
	case !utf8.ValidString(o.Identity):
		bad("identity is not valid UTF-8")
	}
	if s := o.ChatServiceSID; s != "" {
		if isSID(s, "MG") {
			bad("chat service SID %s is a Messaging Service SID (MG…); the chat grant needs the Conversations Service SID (IS…)", quote(s))
		} else if p := sidProblem(s, prefixService); p != "" {
			bad("chat service SID %s %s; want IS followed by 32 lowercase hex digits", quote(s), p)
		}
	}
	if s := o.SyncServiceSID; s != "" {
		if p := sidProblem(s, prefixService); p != "" {
			bad("sync service SID %s %s; want IS followed by 32 lowercase hex digits", quote(s), p)
		}
	}
	if s := o.VoiceAppSID; s != "" {
		if p := sidProblem(s, prefixApp); p != "" {
			bad("voice app SID %s %s; want a TwiML App SID: AP followed by 32 lowercase hex digits", quote(s), p)
		}
	}
	if !utf8.ValidString(o.VideoRoom) {
		bad("video room is not valid UTF-8")
	}
	if o.ChatServiceSID == "" && o.SyncServiceSID == "" && o.VoiceAppSID == "" && !o.VoiceIncomingAllow && o.VideoRoom == "" && !o.Video {
		bad("no grant: give a chat service SID (Conversations), a sync service SID, a voice app SID or incoming allow, or a video room")
	}
	switch {
	case o.TTL < 0:
		bad("TTL %s is negative", o.TTL)
	case o.TTL%time.Second != 0:
		bad("TTL %s is not a whole number of seconds", o.TTL)
	case o.TTL > MaxLifetime:
		bad("TTL %s is over the 24h maximum Twilio allows (it would answer 20157)", o.TTL)
	}
	if o.Region != "" && !validRegion(o.Region) {
		bad("region %s is not a Twilio region name such as us1, ie1 or au1", quote(o.Region))
	}
	switch o.Algorithm {
	case "", "HS256", "HS384", "HS512":
	default:
		bad("algorithm %s is not HS256, HS384 or HS512", quote(o.Algorithm))
	}
	if !o.NotBefore.IsZero() {
		ttl, now := o.ttlNow()
		if o.NotBefore.Unix() >= now.Unix()+int64(ttl/time.Second) {
			bad("not-before %s is at or after the expiry: the token would never be valid", o.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	return errors.Join(errs...)
}

// ttlNow is the TTL and the minting time the options mean: DefaultTTL
// and the clock when unset.
func (o *MintOptions) ttlNow() (time.Duration, time.Time) {
	ttl := o.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	return ttl, now
}

func validRegion(s string) bool {
	if len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// appendJSONString writes s as JSON.stringify does: only '"', '\\' and
// control characters are escaped, so the bytes match Twilio's Node helper
// (encoding/json would also escape <, >, & and U+2028/U+2029).
func appendJSONString(b []byte, s string) []byte { return appendQuoted(b, s, false) }

// appendQuoted writes s as a JSON string; lineSeps also escapes U+2028 and
// U+2029, as encoding/json does. s must be valid UTF-8.
func appendQuoted(b []byte, s string, lineSeps bool) []byte {
	const hexdig = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if lineSeps && c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8 {
				b = append(b, s[start:i]...)
				b = append(b, '\\', 'u', '2', '0', '2', hexdig[s[i+2]&1+8])
				i += 2
				start = i + 1
			}
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexdig[c>>4], hexdig[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
