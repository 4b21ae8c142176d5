package inspect

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Inspector judges tokens with one set of options. It is safe for concurrent
// use, and cheaper per token than Inspect when reused: it keeps keyed HMAC
// state between calls.
type Inspector struct {
	cfg  config
	macs [len(hmacAlgs)]sync.Pool // *macState per algorithm; only with a secret
}

// hmacAlgs are the algorithms Twilio's helpers can sign with; HS256 is the
// one Twilio documents.
var hmacAlgs = [...]struct {
	name string
	new  func() hash.Hash
	size int
}{
	{"HS256", sha256.New, sha256.Size},
	{"HS384", sha512.New384, sha512.Size384},
	{"HS512", sha512.New, sha512.Size},
}

func hmacIndex(alg string) int {
	for i := range hmacAlgs {
		if hmacAlgs[i].name == alg {
			return i
		}
	}
	return -1
}

// macState is a keyed HMAC plus scratch space, so verifying a signature
// allocates nothing once the pool is warm.
type macState struct {
	mac   hash.Hash
	input []byte
	sum   [sha512.Size]byte
	sig   [sha512.Size + 3]byte
}

// NewInspector returns an Inspector configured by opts.
func NewInspector(opts ...Option) *Inspector {
	in := &Inspector{cfg: newConfig(opts)}
	if len(in.cfg.secret) > 0 {
		for i := range hmacAlgs {
			newHash, secret := hmacAlgs[i].new, in.cfg.secret
			in.macs[i].New = func() any { return &macState{mac: hmac.New(newHash, secret)} }
		}
	}
	return in
}

// Inspect judges a token. It never fails: a token it cannot decode yields a
// report whose findings say why (code malformed). Every rule is applied and
// every finding kept, not just the first. To judge many tokens, reuse an
// Inspector.
func Inspect(token string, opts ...Option) *Report {
	// No pools: keying a pooled HMAC for reuse costs more than one use.
	in := Inspector{cfg: newConfig(opts)}
	return in.Inspect(token)
}

// Inspect judges one token as of the Inspector's clock.
func (in *Inspector) Inspect(token string) *Report {
	now := in.cfg.now()
	r := &Report{Signature: SignatureUnchecked, JudgedAt: now.UTC(), Findings: []Finding{}}
	r.Grants = r.grantBuf[:0]
	j := judge{r: r, cfg: &in.cfg, in: in, now: now}
	j.run(token)
	j.finish()
	return r
}

// judge carries the state of one Inspect call.
type judge struct {
	r    *Report
	cfg  *config
	in   *Inspector
	now  time.Time
	hdoc jsonDoc
	pdoc jsonDoc

	headerOK, payloadOK bool
	iss, sub            string
	issOK, subOK        bool
}

var b64 = base64.RawURLEncoding

func (j *judge) run(token string) {
	if msg, hint := wrapperProblem(token); msg != "" {
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, msg, hint)
		return
	}
	d1 := strings.IndexByte(token, '.')
	d2 := -1
	if d1 >= 0 {
		if k := strings.IndexByte(token[d1+1:], '.'); k >= 0 {
			d2 = d1 + 1 + k
		}
	}
	if d1 < 0 || d2 < 0 || strings.IndexByte(token[d2+1:], '.') >= 0 {
		msg, hint := structureProblem(token)
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, msg, hint)
		return
	}
	// base64 decoders skip line breaks; a JWT must not contain them.
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken,
			"token contains a line break",
			"the token was probably wrapped when copied: join the lines, or read it with --token-file")
		return
	}
	hseg, pseg, sseg := token[:d1], token[d1+1:d2], token[d2+1:]

	hl, pl := b64.DecodedLen(len(hseg)), b64.DecodedLen(len(pseg))
	buf := make([]byte, hl+pl)
	nh, herr := b64.Decode(buf[:hl], []byte(hseg))
	np, perr := b64.Decode(buf[hl:], []byte(pseg))
	text := string(buf)
	j.hdoc = jsonDoc{b: buf[:nh:nh], s: text[:nh]}
	j.pdoc = jsonDoc{b: buf[hl : hl+np : hl+np], s: text[hl : hl+np]}

	switch {
	case herr != nil:
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, "header "+base64Problem(hseg), base64Hint)
	case !j.hdoc.object():
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, "header "+jsonProblem(j.hdoc.b), "the first part of a JWT is base64url of a JSON object such as {\"alg\":\"HS256\",\"typ\":\"JWT\",\"cty\":\"twilio-fpa;v=1\"}")
	default:
		j.headerOK = true
		j.r.Header = json.RawMessage(j.hdoc.b)
	}
	switch {
	case perr != nil:
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, "payload "+base64Problem(pseg), base64Hint)
	case !j.pdoc.object():
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, "payload "+jsonProblem(j.pdoc.b), "the second part of a JWT is base64url of a JSON object with jti, iss, sub, iat, exp and grants")
	default:
		j.payloadOK = true
		j.r.Claims = json.RawMessage(j.pdoc.b)
	}
	sigOK := signatureShapeOK(sseg)
	if !sigOK {
		j.add(SeverityError, CodeMalformed, TwilioInvalidToken, "signature is not base64url", base64Hint)
	}

	if j.headerOK {
		j.checkHeader()
	}
	if j.payloadOK {
		j.checkPayload()
	}
	if j.headerOK && sigOK {
		j.checkSignature(token[:d2], sseg)
	}
}

// checkHeader applies the 20102 rules: HMAC alg, typ JWT, cty twilio-fpa;v=1.
func (j *judge) checkHeader() {
	var alg, typ, cty, twr jsonValue
	m := j.hdoc.root().members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch k {
		case "alg":
			alg = v
		case "typ":
			typ = v
		case "cty":
			cty = v
		case "twr":
			twr = v
		}
	}

	switch a, isStr := alg.str(); {
	case !alg.present():
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header has no alg",
			"Twilio signs Access Tokens with HMAC-SHA256: the header needs \"alg\":\"HS256\"")
	case !isStr:
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header alg is "+alg.kindName()+", not a string",
			"set \"alg\":\"HS256\"")
	case a == "HS256":
		j.r.Algorithm = a
	case a == "HS384" || a == "HS512":
		j.r.Algorithm = a
		j.add(SeverityWarning, CodeUnusualAlg, 0, "alg is "+a+"; Twilio documents HS256 for Access Tokens",
			"Twilio's helper libraries accept "+a+" but HS256 is what Twilio documents; call toJwt() without an algorithm")
	case strings.EqualFold(a, "none"):
		j.r.Algorithm = a
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "alg is none: the token is unsigned",
			"Twilio accepts only tokens signed with the API Key secret (HS256); never strip the signature")
	case len(a) > 2 && (a[:2] == "RS" || a[:2] == "ES" || a[:2] == "PS") || a == "EdDSA":
		j.r.Algorithm = a
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "alg "+quote(a)+" is not HMAC: Twilio verifies Access Tokens with the API Key secret",
			"sign with HS256 and the API Key secret, as Twilio's helper libraries do; a private key cannot sign a Twilio Access Token")
	default:
		j.r.Algorithm = a
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "alg "+quote(a)+" is not an algorithm Twilio accepts",
			"set \"alg\":\"HS256\"")
	}

	switch t, isStr := typ.str(); {
	case !typ.present():
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header has no typ; Twilio requires \"JWT\"",
			"set \"typ\":\"JWT\" in the header (Twilio's helper libraries do)")
	case !isStr || t != "JWT":
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header typ is "+describe(typ)+"; Twilio requires \"JWT\"",
			"set \"typ\":\"JWT\" in the header")
	}

	switch c, isStr := cty.str(); {
	case !cty.present():
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header has no cty; Twilio requires \"twilio-fpa;v=1\"",
			"generic JWT libraries leave cty out: mint with Twilio's helper library (AccessToken) or `convctl token mint`, or add the header \"cty\":\"twilio-fpa;v=1\"")
	case !isStr || c != "twilio-fpa;v=1":
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header cty is "+describe(cty)+"; Twilio requires \"twilio-fpa;v=1\"",
			"set \"cty\":\"twilio-fpa;v=1\" (exactly, no spaces)")
	}

	if twr.present() {
		if region, isStr := twr.str(); isStr {
			j.r.Region = region
		} else {
			j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header twr (region) is "+twr.kindName()+", not a string",
				"twr names a Twilio region such as \"us1\" or \"ie1\"; leave it out for the default region")
		}
	}
}

// describe names a value for a message: its quoted text when a string, else its kind.
func describe(v jsonValue) string {
	if s, ok := v.str(); ok {
		return quote(s)
	}
	return v.kindName()
}

// timeClaim is iat, nbf or exp as found in the payload.
type timeClaim struct {
	v       jsonValue
	secs    int64
	number  bool // present and a JSON number of sane magnitude
	inRange bool // representable as an RFC 3339 time (years 0001-9999)
}

const (
	minUnix = -62135596800 // 0001-01-01T00:00:00Z
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
	// A NumericDate beyond this is noise, not a time: keeping arithmetic
	// inside int64 with room to spare.
	maxMagnitude = 1e15
)

func readTime(v jsonValue) timeClaim {
	t := timeClaim{v: v}
	f, ok := v.number()
	if !ok || f >= maxMagnitude || f <= -maxMagnitude {
		return t
	}
	t.number = true
	t.secs = int64(f)
	if float64(t.secs) > f { // floor, for negative fractions
		t.secs--
	}
	t.inRange = t.secs >= minUnix && t.secs <= maxUnix
	return t
}

func (j *judge) checkPayload() {
	var jti, iss, sub, iat, nbf, exp, grants jsonValue
	m := j.pdoc.root().members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch k {
		case "jti":
			jti = v
		case "iss":
			iss = v
		case "sub":
			sub = v
		case "iat":
			iat = v
		case "nbf":
			nbf = v
		case "exp":
			exp = v
		case "grants":
			grants = v
		}
	}
	j.iss, j.issOK = iss.str()
	j.sub, j.subOK = sub.str()
	if j.issOK {
		j.r.APIKeySID = j.iss
	}
	if j.subOK {
		j.r.AccountSID = j.sub
	}
	j.checkIssuer(iss)
	j.checkSubject(sub)
	j.checkJTI(jti)
	j.checkTimes(readTime(iat), readTime(nbf), readTime(exp))
	j.checkGrants(grants)
}

func (j *judge) swapped() bool {
	return j.issOK && j.subOK && isSID(j.iss, prefixAccount) && isSID(j.sub, prefixAPIKey)
}

const swapHint = "AccessToken(accountSid, apiKeySid, apiKeySecret, …) takes the Account SID (AC…) first and the API Key SID (SK…) second"

func (j *judge) checkIssuer(iss jsonValue) {
	const hint = "iss must be the SID of the API Key whose secret signs the token: create one in the Console under Account > API keys & tokens"
	switch {
	case !iss.present():
		j.add(SeverityError, CodeBadIssuer, TwilioInvalidIssuer, "payload has no iss; it must be the API Key SID (SK…) that signed the token", hint)
	case !j.issOK:
		j.add(SeverityError, CodeBadIssuer, TwilioInvalidIssuer, "iss is "+iss.kindName()+"; it must be the API Key SID (SK…), a string", hint)
	case j.swapped():
		j.add(SeverityError, CodeBadIssuer, TwilioInvalidIssuer, "iss and sub are swapped: iss is the Account SID (AC…) and sub the API Key SID (SK…)", swapHint)
	case isSID(j.iss, prefixAccount):
		j.add(SeverityError, CodeBadIssuer, TwilioInvalidIssuer,
			"iss is the Account SID (AC…) where the API Key SID (SK…) belongs",
			"pass the API Key SID (SK…) as AccessToken's second argument and sign with that key's secret, not the Auth Token; create an API Key in the Console under Account > API keys & tokens")
	default:
		if p := sidProblem(j.iss, prefixAPIKey); p != "" {
			j.add(SeverityError, CodeBadIssuer, TwilioInvalidIssuer, "iss "+quote(j.iss)+" "+p+"; it must be an API Key SID (SK followed by 32 hex digits)", hint)
		}
	}
}

func (j *judge) checkSubject(sub jsonValue) {
	const hint = "sub must be your Account SID (AC…), shown on the Console dashboard; test credentials are not accepted"
	switch {
	case !sub.present():
		j.add(SeverityError, CodeBadSubject, TwilioInvalidIssuer, "payload has no sub; it must be the Account SID (AC…)", hint)
	case !j.subOK:
		j.add(SeverityError, CodeBadSubject, TwilioInvalidIssuer, "sub is "+sub.kindName()+"; it must be the Account SID (AC…), a string", hint)
	case j.swapped():
		j.add(SeverityError, CodeBadSubject, TwilioInvalidIssuer, "sub is the API Key SID (SK…) where the Account SID (AC…) belongs: iss and sub are swapped", swapHint)
	case isSID(j.sub, prefixAPIKey):
		j.add(SeverityError, CodeBadSubject, TwilioInvalidIssuer, "sub is an API Key SID (SK…) where the Account SID (AC…) belongs",
			"pass the Account SID (AC…) as AccessToken's first argument and the API Key SID as its second")
	default:
		if p := sidProblem(j.sub, prefixAccount); p != "" {
			j.add(SeverityError, CodeBadSubject, TwilioInvalidIssuer, "sub "+quote(j.sub)+" "+p+"; it must be an Account SID (AC followed by 32 hex digits)", hint)
		}
	}
}

func (j *judge) checkJTI(jti jsonValue) {
	const hint = "Twilio's helper libraries write jti as \"<API Key SID>-<iat>\"; a token built by hand should do the same"
	id, ok := jti.str()
	switch {
	case !jti.present():
		j.add(SeverityWarning, CodeBadJTI, 0, "payload has no jti (token id)", hint)
	case !ok:
		j.add(SeverityWarning, CodeBadJTI, 0, "jti is "+jti.kindName()+", not a string", hint)
	case j.issOK && j.iss != "":
		n := len(j.iss)
		if len(id) <= n+1 || id[:n] != j.iss || id[n] != '-' || !allDigits(id[n+1:]) {
			j.add(SeverityWarning, CodeBadJTI, 0, "jti "+quote(id)+" is not \"<iss>-<unix seconds>\"", hint)
		}
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (j *judge) setTime(slot int, secs int64) *time.Time {
	j.r.times[slot] = time.Unix(secs, 0).UTC()
	return &j.r.times[slot]
}

func (j *judge) checkTimes(iat, nbf, exp timeClaim) {
	r, now := j.r, j.now
	nowSec := now.Unix()
	window := j.cfg.aboutToExpire

	// Each claim on its own.
	switch {
	case !iat.v.present():
		j.add(SeverityWarning, CodeBadIat, 0, "payload has no iat (issued at)",
			"Twilio's helper libraries always write iat; without it the lifetime can only be measured from nbf")
	case !iat.number:
		j.add(SeverityError, CodeBadIat, TwilioInvalidToken, "iat is "+describe(iat.v)+"; it must be a number of unix seconds", "write iat as Math.floor(Date.now() / 1000), or let the helper library set it")
	case !iat.inRange:
		j.add(SeverityError, CodeBadIat, TwilioInvalidToken, "iat is out of range for a date", "iat is unix seconds, not milliseconds")
	default:
		r.IssuedAt = j.setTime(0, iat.secs)
	}
	switch {
	case !nbf.v.present():
	case !nbf.number:
		j.add(SeverityError, CodeBadNbf, TwilioNotYetValid, "nbf is "+describe(nbf.v)+"; it must be a number of unix seconds", "leave nbf out, or write it as unix seconds")
	case !nbf.inRange:
		j.add(SeverityError, CodeBadNbf, TwilioNotYetValid, "nbf is out of range for a date", "nbf is unix seconds, not milliseconds; or leave it out")
	default:
		r.NotBefore = j.setTime(1, nbf.secs)
	}
	switch {
	case !exp.v.present():
		j.add(SeverityError, CodeBadExp, TwilioTokenExpired, "payload has no exp; Twilio requires an expiry",
			"set a ttl in seconds (the helper libraries default to 3600 and write exp for you)")
	case !exp.number:
		j.add(SeverityError, CodeBadExp, TwilioTokenExpired, "exp is "+describe(exp.v)+"; it must be a number of unix seconds",
			"write exp as a number (iat + ttl seconds), not a string or a date")
	case exp.inRange:
		r.ExpiresAt = j.setTime(2, exp.secs)
	}

	// Lifetime: exp - (nbf or iat).
	start, startName, startOK := int64(0), "", false
	switch {
	case r.NotBefore != nil:
		start, startName, startOK = nbf.secs, "nbf", true
	case r.IssuedAt != nil:
		start, startName, startOK = iat.secs, "iat", true
	}
	windowSecs := int64(window / time.Second)
	if exp.number && startOK {
		life := exp.secs - start
		r.ints[0] = life
		r.LifetimeSeconds = &r.ints[0]
		lifeD := time.Duration(life) * time.Second
		switch {
		case life <= 0:
			j.add(SeverityError, CodeBadExp, TwilioTokenExpired,
				"exp is "+human(-lifeD)+" before "+startName+": the token is never valid",
				"exp must come after iat and nbf: exp = iat + ttl seconds")
		case life > int64(MaxLifetime/time.Second):
			j.tooLong(exp, life)
		case life < windowSecs:
			j.add(SeverityWarning, CodeShortLifetime, 0,
				"lifetime is "+human(lifeD)+", under "+human(window)+": the SDK announces tokenAboutToExpire at once",
				"mint tokens for longer (the helper default is 1 hour, the maximum 24 hours) and renew them on tokenAboutToExpire")
		}
	} else if exp.number && !exp.inRange {
		j.tooLong(exp, 0)
	}

	// Judged against the clock.
	if exp.number {
		in := exp.secs - nowSec
		if now.Nanosecond() > 0 {
			in--
		}
		r.ints[1] = in
		r.ExpiresInSeconds = &r.ints[1]
	}
	if r.ExpiresAt != nil {
		about := r.ExpiresAt.Add(-window)
		if startOK && exp.secs-start < windowSecs && exp.secs > start {
			about = time.Unix(start, 0).UTC()
		}
		j.r.times[3] = about
		r.AboutToExpireAt = &j.r.times[3]
	}

	if r.IssuedAt != nil && iat.secs > nowSec {
		ahead := time.Unix(iat.secs, 0).Sub(now)
		j.add(SeverityWarning, CodeIssuedInFuture, 0,
			"issued "+human(ahead)+" in the future (iat "+rfc3339(*r.IssuedAt)+"): the issuing server's clock runs ahead of this one",
			"sync the issuing server's clock with NTP; Twilio judges nbf and exp by its own clock (with --at, judge as of a time after iat)")
	}
	if r.NotBefore != nil && nowSec < nbf.secs {
		wait := time.Unix(nbf.secs, 0).Sub(now)
		hint := "leave nbf out or set it no later than now; if the token was just minted, the issuing server's clock runs ahead: sync it with NTP"
		if r.IssuedAt != nil && nbf.secs > iat.secs {
			hint = "nbf is " + human(time.Duration(nbf.secs-iat.secs)*time.Second) + " after iat: the token was minted to start later; leave nbf out to use it at once"
		}
		j.add(SeverityError, CodeNotYetValid, TwilioNotYetValid,
			"not valid for another "+human(wait)+" (nbf "+rfc3339(*r.NotBefore)+")", hint)
	}
	if !exp.number {
		return
	}
	if nowSec >= exp.secs {
		ago := now.Sub(time.Unix(exp.secs, 0))
		msg := "token expired " + human(ago) + " ago"
		if r.ExpiresAt != nil {
			msg += " (exp " + rfc3339(*r.ExpiresAt) + ")"
		}
		j.add(SeverityError, CodeExpired, TwilioTokenExpired, msg,
			"mint a new token and renew before exp (on tokenAboutToExpire); if fresh tokens arrive expired, check the issuing server's clock")
		return
	}
	if r.ExpiresAt == nil {
		return
	}
	left := r.ExpiresAt.Sub(now)
	switch {
	case j.cfg.minRemaining > 0 && left < j.cfg.minRemaining:
		j.add(SeverityError, CodeExpiresSoon, 0,
			"expires in "+human(left)+", less than the "+human(j.cfg.minRemaining)+" required",
			"mint a fresh token before starting; a client renews on tokenAboutToExpire")
	case !now.Before(*r.AboutToExpireAt):
		j.add(SeverityWarning, CodeExpiresSoon, 0,
			"expires in "+human(left)+": inside the final "+human(window)+", where the SDK fires tokenAboutToExpire",
			"the client should call updateToken with a fresh token now")
	}
}

// tooLong reports lifetime_too_long, naming the millisecond mistake when
// the numbers look like it.
func (j *judge) tooLong(exp timeClaim, life int64) {
	const msHint = "JWT times and the helper's ttl are seconds, not milliseconds: divide by 1000 (ttl: 3600 is one hour)"
	switch {
	case exp.secs > 1e11: // a unix time in ms: 1e11 s is the year 5138, 1e11 ms is 1973
		j.add(SeverityError, CodeLifetimeTooLong, TwilioExpiryTooLong,
			"exp looks like a unix time in milliseconds ("+time.UnixMilli(exp.secs).UTC().Format(time.RFC3339)+" if so): the token would live for centuries, over the 24h maximum",
			"write exp in seconds: Math.floor(Date.now() / 1000) + ttl, or let the helper library set it from ttl")
	case life%1000 == 0 && life/1000 <= int64(MaxLifetime/time.Second):
		j.add(SeverityError, CodeLifetimeTooLong, TwilioExpiryTooLong,
			"lifetime is "+human(time.Duration(life)*time.Second)+", over the 24h maximum; it looks like milliseconds: "+itoa(life)+" ms would be "+human(time.Duration(life)*time.Millisecond),
			msHint)
	default:
		j.add(SeverityError, CodeLifetimeTooLong, TwilioExpiryTooLong,
			"lifetime is "+human(time.Duration(life)*time.Second)+", over the 24h maximum Twilio allows",
			"mint tokens with a ttl of at most 86400 seconds; renew them on tokenAboutToExpire instead of minting long-lived ones")
	}
}

// grants the SDKs and helper libraries know, by grant key.
const (
	grantChat  = "chat"
	grantSync  = "data_sync"
	grantVoice = "voice"
	grantVideo = "video"
	// IpMessagingGrant's key: older helpers wrote it, Conversations does not read it.
	grantLegacyChat = "ip_messaging"
)

func (j *judge) checkGrants(grants jsonValue) {
	const identityHint = "pass identity in AccessToken's options (the helper requires it); Conversations uses it as the user's name"
	if !grants.present() {
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "payload has no grants",
			"add a grant for the product: new ChatGrant({serviceSid: 'IS…'}) for Conversations")
		j.add(SeverityError, CodeMissingIdentity, TwilioInvalidGrants, "no identity: it lives in grants.identity", identityHint)
		return
	}
	if grants.kind() != kindObject {
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "grants is "+grants.kindName()+"; it must be an object",
			"grants is an object: {\"identity\": \"alice\", \"chat\": {\"service_sid\": \"IS…\"}}")
		j.add(SeverityError, CodeMissingIdentity, TwilioInvalidGrants, "no identity: it lives in grants.identity", identityHint)
		return
	}
	var identity, chat, sync, voice, video, legacy jsonValue
	m := grants.members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		switch k {
		case "identity":
			identity = v
			continue
		case grantChat:
			chat = v
		case grantSync:
			sync = v
		case grantVoice:
			voice = v
		case grantVideo:
			video = v
		case grantLegacyChat:
			legacy = v
		}
		if !slices.Contains(j.r.Grants, k) {
			j.r.Grants = append(j.r.Grants, k)
		}
	}

	id, ok := identity.str()
	switch {
	case !identity.present():
		j.add(SeverityError, CodeMissingIdentity, TwilioInvalidGrants, "grants has no identity", identityHint)
	case !ok:
		j.add(SeverityError, CodeMissingIdentity, TwilioInvalidGrants, "identity is "+identity.kindName()+"; it must be a non-empty string", identityHint)
	case id == "":
		j.add(SeverityError, CodeMissingIdentity, TwilioInvalidGrants, "identity is empty", identityHint)
	default:
		j.r.Identity = id
	}

	for _, g := range [...]struct {
		key string
		v   jsonValue
	}{{grantChat, chat}, {grantSync, sync}, {grantVoice, voice}, {grantVideo, video}} {
		if g.v.present() && g.v.kind() != kindObject {
			j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "grant "+g.key+" is "+g.v.kindName()+"; it must be an object", "each grant is an object of its fields, e.g. \"chat\": {\"service_sid\": \"IS…\"}")
		}
	}
	product := j.cfg.product
	j.checkChat(chat, product == ProductConversations)
	j.checkSync(sync)
	j.checkVoice(voice, product == ProductVoice)
	j.checkVideo(video)

	need, needName := "", ""
	switch product {
	case ProductConversations:
		need, needName = grantChat, "the Conversations SDK needs a chat grant with the Conversations Service SID (IS…)"
	case ProductSync:
		need, needName = grantSync, "the Sync SDK needs a data_sync grant"
	case ProductVoice:
		need, needName = grantVoice, "the Voice SDK needs a voice grant"
	case ProductVideo:
		need, needName = grantVideo, "the Video SDK needs a video grant"
	}
	has := ""
	if len(j.r.Grants) > 0 {
		has = " (the token has: " + strings.Join(j.r.Grants, ", ") + ")"
	}
	switch {
	case need == "" && len(j.r.Grants) == 0:
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "no product grant: the token carries only an identity",
			"add the grant for the SDK the client uses: ChatGrant, SyncGrant, VoiceGrant or VideoGrant")
	case need == "":
	case !slices.Contains(j.r.Grants, need) && need == grantChat && legacy.present():
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "no chat grant: the token has the legacy ip_messaging grant, which the Conversations SDK does not read",
			"use ChatGrant (key chat) instead of IpMessagingGrant; `convctl token mint --chat-service-sid IS…` writes one")
	case !slices.Contains(j.r.Grants, need):
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "no "+need+" grant"+has+": "+needName, grantHint(product))
	}
}

func grantHint(p Product) string {
	switch p {
	case ProductConversations:
		return "add new ChatGrant({serviceSid: 'IS…'}) (convctl token mint --chat-service-sid IS…), or pass --product if the token is for another SDK"
	case ProductSync:
		return "add new SyncGrant({serviceSid: 'IS…'}), or pass --product if the token is for another SDK"
	case ProductVoice:
		return "add new VoiceGrant({outgoingApplicationSid: 'AP…', incomingAllow: true}), or pass --product if the token is for another SDK"
	default:
		return "add new VideoGrant({room: '…'}), or pass --product if the token is for another SDK"
	}
}

// checkServiceSID checks a grant's service_sid; required says whether the
// product at hand cannot work without it.
func (j *judge) checkServiceSID(grant string, v jsonValue, required bool) {
	field := grant + ".service_sid"
	s, ok := v.str()
	switch {
	case !v.present():
		if required {
			j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "the "+grant+" grant has no service_sid; the Conversations SDK needs the Conversations Service SID (IS…)",
				"new ChatGrant({serviceSid: 'IS…'}): find the SID in the Console under Conversations > Manage > Services")
		}
	case !ok:
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, field+" is "+v.kindName()+"; it must be a Service SID (IS…), a string", "set serviceSid to the Service SID string")
	case isSID(s, prefixService):
	case isSID(s, "MG"):
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants,
			field+" "+quote(s)+" is a Messaging Service SID (MG…); the "+grant+" grant needs the Conversations Service SID (IS…)",
			"the Conversations Service SID starts with IS: find it in the Console under Conversations > Manage > Services (a Messaging Service SID does not work here)")
	default:
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants,
			field+" "+quote(s)+" "+sidProblem(s, prefixService)+"; it must be a Service SID (IS followed by 32 hex digits)",
			"use the Service SID (IS…) from the Console under Conversations > Manage > Services (or Sync > Services)")
	}
}

func (j *judge) checkOptionalString(grant, field string, v jsonValue) {
	if v.present() && v.kind() != kindString {
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, grant+"."+field+" is "+v.kindName()+"; it must be a string", "leave "+field+" out or set it to a string")
	}
}

func (j *judge) checkOptionalSID(grant, field, prefix, kind string, v jsonValue) {
	if !v.present() {
		return
	}
	s, ok := v.str()
	if !ok {
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, grant+"."+field+" is "+v.kindName()+"; it must be "+kind+" ("+prefix+"…)", "leave "+field+" out or set it to "+kind)
		return
	}
	if p := sidProblem(s, prefix); p != "" {
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, grant+"."+field+" "+quote(s)+" "+p+"; it must be "+kind+" ("+prefix+" followed by 32 hex digits)", "leave "+field+" out or set it to "+kind)
	}
}

func (j *judge) checkChat(chat jsonValue, required bool) {
	if !chat.present() || chat.kind() != kindObject {
		return
	}
	f := chat.pick("service_sid", "endpoint_id", "deployment_role_sid", "push_credential_sid")
	service, endpoint, role, push := f[0], f[1], f[2], f[3]
	j.checkServiceSID(grantChat, service, required)
	j.checkOptionalString(grantChat, "endpoint_id", endpoint)
	j.checkOptionalString(grantChat, "deployment_role_sid", role)
	j.checkOptionalSID(grantChat, "push_credential_sid", prefixCredential, "a Push Credential SID", push)
}

func (j *judge) checkSync(sync jsonValue) {
	if !sync.present() || sync.kind() != kindObject {
		return
	}
	f := sync.pick("service_sid", "endpoint_id")
	service, endpoint := f[0], f[1]
	// Without service_sid Sync uses the account's default service.
	if s, ok := service.str(); !ok || s != "default" {
		j.checkServiceSID(grantSync, service, false)
	}
	j.checkOptionalString(grantSync, "endpoint_id", endpoint)
}

func (j *judge) checkVoice(voice jsonValue, required bool) {
	if !voice.present() || voice.kind() != kindObject {
		return
	}
	f := voice.pick("incoming", "outgoing", "push_credential_sid", "endpoint_id")
	incoming, outgoing, push, endpoint := f[0], f[1], f[2], f[3]
	allowsIn, hasApp := false, false
	if incoming.present() {
		allow := incoming.pick("allow")[0]
		b, isBool := allow.boolean()
		switch {
		case incoming.kind() != kindObject:
			j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "voice.incoming is "+incoming.kindName()+"; it must be an object such as {\"allow\": true}", "set incomingAllow: true in VoiceGrant, or leave it out")
		case allow.present() && !isBool:
			j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "voice.incoming.allow is "+allow.kindName()+"; it must be true or false", "set incomingAllow: true in VoiceGrant")
		default:
			allowsIn = b
		}
	}
	if outgoing.present() {
		out := outgoing.pick("application_sid", "params")
		app, params := out[0], out[1]
		if outgoing.kind() != kindObject {
			j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "voice.outgoing is "+outgoing.kindName()+"; it must be an object such as {\"application_sid\": \"AP…\"}", "set outgoingApplicationSid in VoiceGrant")
		} else {
			j.checkOptionalSID("voice.outgoing", "application_sid", prefixApp, "a TwiML App SID", app)
			hasApp = app.kind() == kindString
			if params.present() && params.kind() != kindObject {
				j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "voice.outgoing.params is "+params.kindName()+"; it must be an object", "outgoingApplicationParams is an object of parameters for the TwiML app")
			}
		}
	}
	j.checkOptionalSID(grantVoice, "push_credential_sid", prefixCredential, "a Push Credential SID", push)
	j.checkOptionalString(grantVoice, "endpoint_id", endpoint)
	if required && !allowsIn && !hasApp {
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "the voice grant allows neither incoming calls nor outgoing calls",
			"set incomingAllow: true and/or outgoingApplicationSid: 'AP…' in VoiceGrant")
	}
}

func (j *judge) checkVideo(video jsonValue) {
	if !video.present() || video.kind() != kindObject {
		return
	}
	m := video.members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		if k == "room" {
			j.checkOptionalString(grantVideo, "room", v)
		}
	}
}

// checkSignature verifies the HMAC over header.payload when a secret was given.
func (j *judge) checkSignature(signingInput, sig string) {
	idx := hmacIndex(j.r.Algorithm)
	if idx < 0 || len(j.cfg.secret) == 0 {
		return // no secret, or an alg bad_header already reported
	}
	var st *macState
	if pool := &j.in.macs[idx]; pool.New != nil {
		st = pool.Get().(*macState)
		defer pool.Put(st)
		st.mac.Reset()
	} else {
		st = &macState{mac: hmac.New(hmacAlgs[idx].new, j.cfg.secret)}
	}
	size := hmacAlgs[idx].size
	match := false
	if b64.DecodedLen(len(sig)) <= len(st.sig) {
		if n, err := b64.Decode(st.sig[:], []byte(sig)); err == nil && n == size {
			st.input = append(st.input[:0], signingInput...)
			st.mac.Write(st.input)
			match = hmac.Equal(st.mac.Sum(st.sum[:0]), st.sig[:n])
		}
	}
	if match {
		j.r.Signature = SignatureVerified
		return
	}
	j.r.Signature = SignatureInvalid
	hint := "sign with the secret of the API Key named in iss, not the Auth Token or another key's secret; a token changed after signing fails too"
	if j.issOK && isSID(j.iss, prefixAPIKey) {
		hint = "sign with the secret of API Key " + j.iss + " (not the Auth Token or another key's secret); a token changed after signing fails too"
	}
	j.add(SeverityError, CodeBadSignature, TwilioInvalidSignature, "signature does not match the secret given ("+j.r.Algorithm+")", hint)
}

// signatureShapeOK checks the third part is unpadded base64url of a sane length.
func signatureShapeOK(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

const base64Hint = "each part of a JWT is unpadded base64url (A-Z a-z 0-9 - _); the token may be truncated or altered"

// base64Problem says why a header or payload segment did not decode. It is
// only called for those two parts, which are not secret.
func base64Problem(seg string) string {
	switch {
	case seg == "":
		return "is empty"
	case strings.ContainsRune(seg, '='):
		return "has base64 padding ('='); JWTs use unpadded base64url"
	case strings.ContainsAny(seg, "+/"):
		return "uses standard base64 ('+' or '/'); JWTs use base64url ('-' and '_')"
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "is not base64url: it contains " + quote(string(rune(c))) + " at offset " + itoa(int64(i))
		}
	}
	return "is not base64url: its length is impossible (truncated?)"
}

// object reports whether the document is one JSON object, and notes whether
// its strings need unescaping.
func (d *jsonDoc) object() bool {
	ok, escaped := validJSON(d.b, &d.spans)
	if !ok || d.b[skipSpace(d.b, 0)] != '{' {
		return false
	}
	d.plain = !escaped
	return true
}

// jsonProblem says why a decoded part is not a JSON object. It runs only on
// that failure path, so it can afford encoding/json's error messages.
func jsonProblem(b []byte) string {
	first := skipSpace(b, 0)
	switch {
	case first == len(b):
		return "is empty"
	case b[first] != '{' && b[first] != '[':
		return "does not decode to JSON (a JWT's header and payload start with \"eyJ\", base64url of {\")"
	case !utf8.Valid(b):
		return "is not valid UTF-8"
	}
	var probe json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return "is not JSON: " + err.Error()
	}
	return "is JSON but not an object"
}

// wrapperProblem names the ways a whole token arrives wrapped in something:
// whitespace, an Authorization scheme, quotes, the JSON of a token endpoint.
// Each of these still has three dot-separated parts inside, so they are
// caught before splitting. The checks look at the ends only: cheap.
func wrapperProblem(tok string) (msg, hint string) {
	if tok == "" {
		return "", ""
	}
	first, last := tok[0], tok[len(tok)-1]
	switch {
	case len(tok) > 7 && strings.EqualFold(tok[:7], "bearer "):
		return "token starts with \"Bearer \"", "pass the token alone, without the Authorization scheme"
	case first == '{':
		return "this is JSON, not a token", "the token endpoint probably answered {\"token\": \"…\"}: pass the value of its token field (--token-url with --token-field does this)"
	case first == '"' || first == '\'' || last == '"' || last == '\'':
		return "token is wrapped in quotes", "pass the text between the quotes"
	case isSpace(first) || isSpace(last):
		if strings.TrimSpace(tok) == "" {
			return "token is empty (only whitespace)", "pass the token as an argument, on stdin with -, or with --token-file / --token-env / --token-cmd / --token-url"
		}
		return "token has whitespace around it", "pass the token without surrounding spaces or newlines (convctl's token sources trim them)"
	}
	return "", ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// structureProblem explains a token that is not three dot-separated parts,
// naming the usual mistakes. It never echoes the token: it may be a secret.
func structureProblem(tok string) (msg, hint string) {
	parts := strings.Count(tok, ".") + 1
	trimmed := strings.TrimSpace(tok)
	switch {
	case trimmed == "":
		return "token is empty", "pass the token as an argument, on stdin with -, or with --token-file / --token-env / --token-cmd / --token-url"
	case sidKind(trimmed) != "":
		return "this is " + sidKind(trimmed) + ", not an Access Token", "an Access Token is a long string of three base64url parts joined by dots (eyJ….eyJ….…); mint one with Twilio's helper library or `convctl token mint`"
	case parts == 1 && len(trimmed) == 32 && isAlnum(trimmed):
		return "this looks like an API Key secret or an Auth Token, not an Access Token", "never send a secret to a client: mint an Access Token with it (`convctl token mint`) and pass that"
	case parts == 5:
		return "token has 5 parts: it is an encrypted JWE", "Twilio Access Tokens are signed JWS with 3 parts: header.payload.signature"
	case parts == 2:
		return "token has 2 parts, not 3: the signature is missing", "a JWT is header.payload.signature; the token was probably cut short when copied"
	case parts == 1:
		return "token is not a JWT: it has no dots", "a JWT is header.payload.signature (eyJ….eyJ….…)"
	}
	return "token has " + itoa(int64(parts)) + " parts, not 3", "a JWT is header.payload.signature; check the token was copied whole and alone"
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// add records a finding; twilio 0 means Twilio would accept the token anyway.
func (j *judge) add(sev Severity, code string, twilio int, msg, hint string) {
	f := Finding{Severity: sev, Code: code, Message: msg, Hint: hint}
	if twilio != 0 {
		n := twilio
		f.TwilioError = &n
	}
	j.r.Findings = append(j.r.Findings, f)
}

// rank orders findings as Twilio is understood to check a token: structure,
// header, issuer (needed to find the key), signature, expiry, grants. So the
// first error is the code Twilio would answer; warnings follow.
func rank(f *Finding) int {
	order := 0
	switch f.Code {
	case CodeMalformed:
		order = 0
	case CodeBadHeader:
		order = 1
	case CodeBadIssuer:
		order = 2
	case CodeBadSubject:
		order = 3
	case CodeBadSignature:
		order = 4
	case CodeBadIat:
		order = 5
	case CodeBadExp:
		order = 6
	case CodeExpired:
		order = 7
	case CodeBadNbf:
		order = 8
	case CodeNotYetValid:
		order = 9
	case CodeLifetimeTooLong:
		order = 10
	case CodeMissingGrant:
		order = 11
	case CodeBadGrant:
		order = 12
	case CodeMissingIdentity:
		order = 13
	case CodeExpiresSoon:
		order = 14
	case CodeIssuedInFuture:
		order = 15
	case CodeShortLifetime:
		order = 16
	case CodeUnusualAlg:
		order = 17
	case CodeBadJTI:
		order = 18
	default:
		order = 19
	}
	if f.Severity != SeverityError {
		order += 100
	}
	return order
}

func (j *judge) finish() {
	fs := j.r.Findings
	if len(fs) > 1 {
		slices.SortStableFunc(fs, func(a, b Finding) int { return rank(&a) - rank(&b) })
	}
	j.r.Valid = j.r.FirstError() == nil
}
