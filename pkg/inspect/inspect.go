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
			"the token was probably wrapped when copied: join the lines, or read it from a file")
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
	} else if (len(sseg) == 43 || len(sseg) == 86) && !canonicalBase64(sseg) { // an HS256 or HS512 MAC; HS384's has no unused bits
		j.add(SeverityError, CodeNoncanonicalSignature, TwilioInvalidSignature,
			"signature is not canonical base64url: its last character sets bits that decode to nothing, so it decodes to the same bytes as the minted signature but is not the same text",
			"use the token exactly as it was minted; verifiers that compare the encoded signature (jsonwebtoken, the JWT library of Twilio's Node helper, does) refuse an altered one")
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

// Header parameters the rules read, as indexes into an array of values
// (an array indexed directly, not pointers to fields, so that the values,
// which point into the judge's documents, stay on the stack).
const (
	hdrAlg = iota
	hdrTyp
	hdrCty
	hdrTwr
	hdrCrit
	hdrCount
)

func headerIndex(key string) int {
	switch key {
	case "alg":
		return hdrAlg
	case "typ":
		return hdrTyp
	case "cty":
		return hdrCty
	case "twr":
		return hdrTwr
	case "crit":
		return hdrCrit
	}
	return -1
}

// checkHeader applies the 20102 rules: HMAC alg, typ JWT, cty twilio-fpa;v=1,
// a string twr, no crit, each parameter once. Each rule is its own function,
// as golang-jwt's validator splits its checks.
func (j *judge) checkHeader() {
	var h [hdrCount]jsonValue
	var reported [hdrCount]bool
	m := j.hdoc.root().members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		i := headerIndex(k)
		if i < 0 {
			continue
		}
		if h[i].present() && !reported[i] {
			reported[i] = true
			j.add(SeverityError, CodeDuplicateHeader, TwilioInvalidHeader,
				"header "+k+" appears more than once ("+shortValue(h[i])+", then "+shortValue(v)+"): JSON parsers disagree on which counts, so verifiers can read different headers; this report judges the last",
				"write each header parameter once; JSON libraries never repeat a key, so the token was built by hand or altered")
		}
		h[i] = v // the last one wins, as in encoding/json and JSON.parse
	}
	j.checkAlg(h[hdrAlg])
	j.checkTyp(h[hdrTyp])
	j.checkCty(h[hdrCty])
	j.checkRegion(h[hdrTwr])
	j.checkCrit(h[hdrCrit])
}

func (j *judge) checkAlg(alg jsonValue) {
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
}

func (j *judge) checkTyp(typ jsonValue) {
	switch t, isStr := typ.str(); {
	case !typ.present():
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header has no typ; Twilio requires \"JWT\"",
			"set \"typ\":\"JWT\" in the header (Twilio's helper libraries do)")
	case !isStr || t != "JWT":
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header typ is "+describe(typ)+"; Twilio requires \"JWT\"",
			"set \"typ\":\"JWT\" in the header")
	}
}

func (j *judge) checkCty(cty jsonValue) {
	switch c, isStr := cty.str(); {
	case !cty.present():
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header has no cty; Twilio requires \"twilio-fpa;v=1\"",
			"generic JWT libraries leave cty out: mint with Twilio's helper library (AccessToken), or add the header \"cty\":\"twilio-fpa;v=1\"")
	case !isStr || c != "twilio-fpa;v=1":
		j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header cty is "+describe(cty)+"; Twilio requires \"twilio-fpa;v=1\"",
			"set \"cty\":\"twilio-fpa;v=1\" (exactly, no spaces)")
	}
}

func (j *judge) checkRegion(twr jsonValue) {
	if !twr.present() {
		return
	}
	if region, isStr := twr.str(); isStr {
		j.r.Region = region
		return
	}
	j.add(SeverityError, CodeBadHeader, TwilioInvalidHeader, "header twr (region) is "+twr.kindName()+", not a string",
		"twr names a Twilio region such as \"us1\" or \"ie1\"; leave it out for the default region")
}

// checkCrit rejects any crit parameter: it lists JWS extensions a verifier
// must understand or else reject the token (RFC 7515, section 4.1.11), and
// Twilio's Access Tokens use none.
func (j *judge) checkCrit(crit jsonValue) {
	if !crit.present() {
		return
	}
	msg := "header crit is " + shortValue(crit) + ": it names extensions a verifier must understand or reject the token, and Twilio implements none"
	if crit.kind() != kindArray {
		msg = "header crit is " + crit.kindName() + ", not a list of extension names; a verifier must reject such a header"
	}
	j.add(SeverityError, CodeCritUnsupported, TwilioInvalidHeader, msg,
		"remove crit from the header: Twilio Access Tokens use no JWS extensions")
}

// shortValue shows a claim's value in a message: strings quoted (and hidden
// when they look like a credential), other values as their JSON text, cut.
func shortValue(v jsonValue) string {
	if s, ok := v.str(); ok {
		return quote(s)
	}
	switch v.kind() {
	case kindObject:
		return "an object"
	case kindNone:
		return "missing"
	}
	raw := v.doc.s[v.start:v.end]
	if len(raw) > 40 {
		return raw[:40] + "…"
	}
	return raw
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
	huge    bool // a JSON number too large (or too small) to be any time: 1e400, 1e20
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
		t.huge = v.kind() == kindNumber
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

// Payload members the rules read, as indexes (see hdrAlg for why).
const (
	clJTI = iota
	clIss
	clSub
	clIat
	clNbf
	clExp
	clGrants
	clCount
)

func claimIndex(key string) int {
	switch key {
	case "jti":
		return clJTI
	case "iss":
		return clIss
	case "sub":
		return clSub
	case "iat":
		return clIat
	case "nbf":
		return clNbf
	case "exp":
		return clExp
	case "grants":
		return clGrants
	}
	return -1
}

func (j *judge) checkPayload() {
	var c [clCount]jsonValue
	var reported [clCount]bool
	m := j.pdoc.root().members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		i := claimIndex(k)
		if i < 0 {
			continue
		}
		if c[i].present() && !reported[i] {
			reported[i] = true
			j.duplicateClaim(k, c[i], v, i != clJTI) // every claim read is a security claim but jti
		}
		c[i] = v // the last one wins, as in encoding/json and JSON.parse
	}
	iss, sub := c[clIss], c[clSub]
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
	j.checkJTI(c[clJTI])
	j.checkTimes(readTime(c[clIat]), readTime(c[clNbf]), readTime(c[clExp]))
	j.checkGrants(c[clGrants])
}

// duplicateClaim reports a payload or grants member that appears more than
// once. Parsers disagree on which one counts (most keep the last, some the
// first, strict ones refuse the token), so a token with a repeated security
// claim means different things to different readers: {"identity":"alice",
// "identity":"admin"} is alice to one and admin to another. Twilio is taken to
// refuse it as an invalid token (20101).
func (j *judge) duplicateClaim(key string, first, last jsonValue, security bool) {
	msg := key + " appears more than once (" + shortValue(first) + ", then " + shortValue(last) + "): JSON parsers disagree on which counts; this report judges the last"
	const hint = "write each claim once; JSON libraries never repeat a key, so the token was built by hand or altered"
	if security {
		j.add(SeverityError, CodeDuplicateClaim, TwilioInvalidToken, msg, hint)
		return
	}
	j.add(SeverityWarning, CodeDuplicateClaim, 0, msg, hint)
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

// times is what the time rules share: the three claims as read, and where
// the lifetime starts (nbf when usable, else iat).
type times struct {
	iat, nbf, exp timeClaim
	start         int64
	startName     string
	startOK       bool
}

// checkTimes applies the time rules, each its own function (as golang-jwt's
// validator has verifyExpiresAt, verifyIssuedAt, verifyNotBefore): first
// each claim on its own, then the lifetime, then each against the clock.
func (j *judge) checkTimes(iat, nbf, exp timeClaim) {
	t := times{iat: iat, nbf: nbf, exp: exp}
	j.readIssuedAt(&t.iat)
	j.readNotBefore(&t.nbf)
	j.readExpiry(&t.exp)
	j.lifetimeStart(&t)
	j.checkLifetime(&t)
	j.setExpiresIn(&t.exp)
	j.setAboutToExpire(&t)
	j.checkIssuedInFuture(&t.iat)
	j.checkNotYetValid(&t)
	j.checkExpiry(&t.exp)
}

// outOfRange is the message for a time claim that is a number but no time.
func outOfRange(name string, c *timeClaim) string {
	return name + " is " + shortValue(c.v) + ", out of range for a date: unix seconds today are about 1.8e9"
}

func (j *judge) readIssuedAt(iat *timeClaim) {
	switch {
	case !iat.v.present():
		j.add(SeverityWarning, CodeBadIat, 0, "payload has no iat (issued at)",
			"Twilio's helper libraries always write iat; without it the lifetime can only be measured from nbf")
	case iat.huge:
		j.add(SeverityError, CodeBadIat, TwilioInvalidToken, outOfRange("iat", iat), "write iat as unix seconds: Math.floor(Date.now() / 1000), or let the helper library set it")
	case !iat.number:
		j.add(SeverityError, CodeBadIat, TwilioInvalidToken, "iat is "+describe(iat.v)+"; it must be a number of unix seconds", "write iat as Math.floor(Date.now() / 1000), or let the helper library set it")
	case !iat.inRange:
		j.add(SeverityError, CodeBadIat, TwilioInvalidToken, "iat is out of range for a date", "iat is unix seconds, not milliseconds")
	default:
		j.r.IssuedAt = j.setTime(0, iat.secs)
	}
}

func (j *judge) readNotBefore(nbf *timeClaim) {
	switch {
	case !nbf.v.present():
	case nbf.huge:
		j.add(SeverityError, CodeBadNbf, TwilioNotYetValid, outOfRange("nbf", nbf), "leave nbf out, or write it as unix seconds")
	case !nbf.number:
		j.add(SeverityError, CodeBadNbf, TwilioNotYetValid, "nbf is "+describe(nbf.v)+"; it must be a number of unix seconds", "leave nbf out, or write it as unix seconds")
	case !nbf.inRange:
		j.add(SeverityError, CodeBadNbf, TwilioNotYetValid, "nbf is out of range for a date", "nbf is unix seconds, not milliseconds; or leave it out")
	default:
		j.r.NotBefore = j.setTime(1, nbf.secs)
	}
}

func (j *judge) readExpiry(exp *timeClaim) {
	switch {
	case !exp.v.present():
		j.add(SeverityError, CodeBadExp, TwilioTokenExpired, "payload has no exp; Twilio requires an expiry",
			"set a ttl in seconds (the helper libraries default to 3600 and write exp for you)")
	case exp.huge:
		j.add(SeverityError, CodeBadExp, TwilioTokenExpired, outOfRange("exp", exp),
			"write exp as unix seconds: iat + ttl, with ttl at most 86400")
	case !exp.number:
		j.add(SeverityError, CodeBadExp, TwilioTokenExpired, "exp is "+describe(exp.v)+"; it must be a number of unix seconds",
			"write exp as a number (iat + ttl seconds), not a string or a date")
	case exp.inRange:
		j.r.ExpiresAt = j.setTime(2, exp.secs)
	}
}

// lifetimeStart picks where the lifetime is measured from: nbf, else iat.
func (j *judge) lifetimeStart(t *times) {
	switch {
	case j.r.NotBefore != nil:
		t.start, t.startName, t.startOK = t.nbf.secs, "nbf", true
	case j.r.IssuedAt != nil:
		t.start, t.startName, t.startOK = t.iat.secs, "iat", true
	}
}

// checkLifetime judges exp - start: never valid, over 24 hours, or shorter
// than the about-to-expire window.
func (j *judge) checkLifetime(t *times) {
	exp := &t.exp
	if !exp.number {
		return
	}
	if !t.startOK {
		if !exp.inRange {
			j.tooLong(*exp, 0)
		}
		return
	}
	window := j.cfg.aboutToExpire
	life := exp.secs - t.start
	j.r.ints[0] = life
	j.r.LifetimeSeconds = &j.r.ints[0]
	lifeD := time.Duration(life) * time.Second
	switch {
	case life <= 0:
		j.add(SeverityError, CodeBadExp, TwilioTokenExpired,
			"exp is "+human(-lifeD)+" before "+t.startName+": the token is never valid",
			"exp must come after iat and nbf: exp = iat + ttl seconds")
	case life > int64(MaxLifetime/time.Second):
		j.tooLong(*exp, life)
	case life < int64(window/time.Second):
		j.add(SeverityWarning, CodeShortLifetime, 0,
			"lifetime is "+human(lifeD)+", under "+human(window)+": the SDK announces tokenAboutToExpire at once",
			"mint tokens for longer (the helper default is 1 hour, the maximum 24 hours) and renew them on tokenAboutToExpire")
	}
}

// setExpiresIn records whole seconds left until exp, negative once past.
func (j *judge) setExpiresIn(exp *timeClaim) {
	if !exp.number {
		return
	}
	in := exp.secs - j.now.Unix()
	if j.now.Nanosecond() > 0 {
		in--
	}
	j.r.ints[1] = in
	j.r.ExpiresInSeconds = &j.r.ints[1]
}

// setAboutToExpire records when the SDK fires tokenAboutToExpire: the window
// before exp, or at once for a token shorter-lived than the window.
func (j *judge) setAboutToExpire(t *times) {
	if j.r.ExpiresAt == nil {
		return
	}
	window := j.cfg.aboutToExpire
	about := j.r.ExpiresAt.Add(-window)
	if t.startOK && t.exp.secs-t.start < int64(window/time.Second) && t.exp.secs > t.start {
		about = time.Unix(t.start, 0).UTC()
	}
	j.r.times[3] = about
	j.r.AboutToExpireAt = &j.r.times[3]
}

func (j *judge) checkIssuedInFuture(iat *timeClaim) {
	if j.r.IssuedAt == nil || iat.secs <= j.now.Unix() {
		return
	}
	ahead := time.Unix(iat.secs, 0).Sub(j.now)
	j.add(SeverityWarning, CodeIssuedInFuture, 0,
		"issued "+human(ahead)+" in the future (iat "+rfc3339(*j.r.IssuedAt)+"): the issuing server's clock runs ahead of this one",
		"sync the issuing server's clock with NTP; Twilio judges nbf and exp by its own clock (or judge the token as of a time after iat)")
}

func (j *judge) checkNotYetValid(t *times) {
	if j.r.NotBefore == nil || j.now.Unix() >= t.nbf.secs {
		return
	}
	wait := time.Unix(t.nbf.secs, 0).Sub(j.now)
	hint := "leave nbf out or set it no later than now; if the token was just minted, the issuing server's clock runs ahead: sync it with NTP"
	if j.r.IssuedAt != nil && t.nbf.secs > t.iat.secs {
		hint = "nbf is " + human(time.Duration(t.nbf.secs-t.iat.secs)*time.Second) + " after iat: the token was minted to start later; leave nbf out to use it at once"
	}
	j.add(SeverityError, CodeNotYetValid, TwilioNotYetValid,
		"not valid for another "+human(wait)+" (nbf "+rfc3339(*j.r.NotBefore)+")", hint)
}

// checkExpiry judges exp against the clock: expired, or expiring inside the
// required minimum or the about-to-expire window.
func (j *judge) checkExpiry(exp *timeClaim) {
	if !exp.number {
		return
	}
	now := j.now
	if now.Unix() >= exp.secs {
		ago := now.Sub(time.Unix(exp.secs, 0))
		msg := "token expired " + human(ago) + " ago"
		if j.r.ExpiresAt != nil {
			msg += " (exp " + rfc3339(*j.r.ExpiresAt) + ")"
		}
		j.add(SeverityError, CodeExpired, TwilioTokenExpired, msg,
			"mint a new token and renew before exp (on tokenAboutToExpire); if fresh tokens arrive expired, check the issuing server's clock")
		return
	}
	if j.r.ExpiresAt == nil {
		return
	}
	left := j.r.ExpiresAt.Sub(now)
	switch {
	case j.cfg.minRemaining > 0 && left < j.cfg.minRemaining:
		j.add(SeverityError, CodeExpiresSoon, 0,
			"expires in "+human(left)+", less than the "+human(j.cfg.minRemaining)+" required",
			"mint a fresh token before starting; a client renews on tokenAboutToExpire")
	case !now.Before(*j.r.AboutToExpireAt):
		j.add(SeverityWarning, CodeExpiresSoon, 0,
			"expires in "+human(left)+": inside the final "+human(j.cfg.aboutToExpire)+", where the SDK fires tokenAboutToExpire",
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

// grantSet holds the members of grants the rules read.
type grantSet struct {
	identity, chat, sync, voice, video, legacy jsonValue
}

// Members of grants the rules read, as indexes (see hdrAlg for why).
const (
	grIdentity = iota
	grChat
	grSync
	grVoice
	grVideo
	grLegacy
	grCount
)

func grantIndex(key string) int {
	switch key {
	case "identity":
		return grIdentity
	case grantChat:
		return grChat
	case grantSync:
		return grSync
	case grantVoice:
		return grVoice
	case grantVideo:
		return grVideo
	case grantLegacyChat:
		return grLegacy
	}
	return -1
}

const identityHint = "pass identity in AccessToken's options (the helper requires it); Conversations uses it as the user's name"

// checkGrants applies the 20106 rules, each its own function: grants is an
// object, identity is a non-empty string, each grant is well formed, and the
// product's grant is there.
func (j *judge) checkGrants(grants jsonValue) {
	if !j.checkGrantsObject(grants) {
		return
	}
	g := j.readGrants(grants)
	j.checkIdentity(g.identity)
	j.checkGrantKinds(&g)
	product := j.cfg.product
	j.checkChat(g.chat, product == ProductConversations)
	j.checkSync(g.sync)
	j.checkVoice(g.voice, product == ProductVoice)
	j.checkVideo(g.video)
	j.checkProductGrant(product, g.legacy)
}

// checkGrantsObject reports a missing or non-object grants claim (and the
// identity that then cannot be there); it returns whether grants is usable.
func (j *judge) checkGrantsObject(grants jsonValue) bool {
	switch {
	case !grants.present():
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "payload has no grants",
			"add a grant for the product: new ChatGrant({serviceSid: 'IS…'}) for Conversations")
	case grants.kind() != kindObject:
		j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "grants is "+grants.kindName()+"; it must be an object",
			"grants is an object: {\"identity\": \"alice\", \"chat\": {\"service_sid\": \"IS…\"}}")
	default:
		return true
	}
	j.add(SeverityError, CodeMissingIdentity, TwilioInvalidGrants, "no identity: it lives in grants.identity", identityHint)
	return false
}

// readGrants walks grants once: it keeps the members the rules read (the
// last of a repeated one, reporting the repeat), and lists the grant keys in
// the report in document order.
func (j *judge) readGrants(grants jsonValue) grantSet {
	var g [grCount]jsonValue
	var reported [grCount]bool
	m := grants.members()
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		if i := grantIndex(k); i >= 0 {
			if g[i].present() && !reported[i] {
				reported[i] = true
				j.duplicateClaim("grants."+k, g[i], v, true)
			}
			g[i] = v
		}
		if k != "identity" && !slices.Contains(j.r.Grants, k) {
			j.r.Grants = append(j.r.Grants, k)
		}
	}
	return grantSet{identity: g[grIdentity], chat: g[grChat], sync: g[grSync], voice: g[grVoice], video: g[grVideo], legacy: g[grLegacy]}
}

func (j *judge) checkIdentity(identity jsonValue) {
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
}

// checkGrantKinds requires each product grant to be an object.
func (j *judge) checkGrantKinds(g *grantSet) {
	for _, gr := range [...]struct {
		key string
		v   jsonValue
	}{{grantChat, g.chat}, {grantSync, g.sync}, {grantVoice, g.voice}, {grantVideo, g.video}} {
		if gr.v.present() && gr.v.kind() != kindObject {
			j.add(SeverityError, CodeBadGrant, TwilioInvalidGrants, "grant "+gr.key+" is "+gr.v.kindName()+"; it must be an object", "each grant is an object of its fields, e.g. \"chat\": {\"service_sid\": \"IS…\"}")
		}
	}
}

// checkProductGrant requires the grant of the product judged for (any grant
// at all for ProductAny).
func (j *judge) checkProductGrant(product Product, legacy jsonValue) {
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
	switch {
	case need == "" && len(j.r.Grants) == 0:
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "no product grant: the token carries only an identity",
			"add the grant for the SDK the client uses: ChatGrant, SyncGrant, VoiceGrant or VideoGrant")
	case need == "" || slices.Contains(j.r.Grants, need):
	case need == grantChat && legacy.present():
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "no chat grant: the token has the legacy ip_messaging grant, which the Conversations SDK does not read",
			"use ChatGrant (key chat) instead of IpMessagingGrant")
	default:
		has := ""
		if len(j.r.Grants) > 0 {
			has = " (the token has: " + strings.Join(j.r.Grants, ", ") + ")"
		}
		j.add(SeverityError, CodeMissingGrant, TwilioInvalidGrants, "no "+need+" grant"+has+": "+needName, grantHint(product))
	}
}

func grantHint(p Product) string {
	switch p {
	case ProductConversations:
		return "add new ChatGrant({serviceSid: 'IS…'}), or judge the token for the product it is meant for if it is for another SDK"
	case ProductSync:
		return "add new SyncGrant({serviceSid: 'IS…'}), or judge the token for the product it is meant for if it is for another SDK"
	case ProductVoice:
		return "add new VoiceGrant({outgoingApplicationSid: 'AP…', incomingAllow: true}), or judge the token for the product it is meant for if it is for another SDK"
	default:
		return "add new VideoGrant({room: '…'}), or judge the token for the product it is meant for if it is for another SDK"
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

// canonicalBase64 reports whether the unused low bits of s's last character
// are zero, as every encoder writes them. Decoders ignore those bits, so
// without this check one signature has four (or sixteen) accepted spellings.
func canonicalBase64(s string) bool {
	if s == "" {
		return true
	}
	v := b64Value(s[len(s)-1])
	switch len(s) % 4 {
	case 2: // 12 bits for 1 byte
		return v&0x0f == 0
	case 3: // 18 bits for 2 bytes
		return v&0x03 == 0
	}
	return true
}

func b64Value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63
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
		return "this is JSON, not a token", "the token endpoint probably answered {\"token\": \"…\"}: pass the value of its token field"
	case first == '"' || first == '\'' || last == '"' || last == '\'':
		return "token is wrapped in quotes", "pass the text between the quotes"
	case isSpace(first) || isSpace(last):
		if strings.TrimSpace(tok) == "" {
			return "token is empty (only whitespace)", "pass the token itself: the whole header.payload.signature string"
		}
		return "token has whitespace around it", "pass the token without surrounding spaces or newlines"
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
		return "token is empty", "pass the token itself: the whole header.payload.signature string"
	case sidKind(trimmed) != "":
		return "this is " + sidKind(trimmed) + ", not an Access Token", "an Access Token is a long string of three base64url parts joined by dots (eyJ….eyJ….…); mint one with Twilio's helper library"
	case parts == 1 && len(trimmed) == 32 && isAlnum(trimmed):
		return "this looks like an API Key secret or an Auth Token, not an Access Token", "never send a secret to a client: mint an Access Token with it and pass that"
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
	var order int
	switch f.Code {
	case CodeMalformed:
		order = 0
	case CodeDuplicateHeader:
		order = 1
	case CodeBadHeader:
		order = 2
	case CodeCritUnsupported:
		order = 3
	case CodeDuplicateClaim:
		order = 4
	case CodeBadIssuer:
		order = 5
	case CodeBadSubject:
		order = 6
	case CodeBadSignature:
		order = 7
	case CodeNoncanonicalSignature:
		order = 8
	case CodeBadIat:
		order = 9
	case CodeBadExp:
		order = 10
	case CodeExpired:
		order = 11
	case CodeBadNbf:
		order = 12
	case CodeNotYetValid:
		order = 13
	case CodeLifetimeTooLong:
		order = 14
	case CodeMissingGrant:
		order = 15
	case CodeBadGrant:
		order = 16
	case CodeMissingIdentity:
		order = 17
	case CodeExpiresSoon:
		order = 18
	case CodeIssuedInFuture:
		order = 19
	case CodeShortLifetime:
		order = 20
	case CodeUnusualAlg:
		order = 21
	case CodeBadJTI:
		order = 22
	default:
		order = 23
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
