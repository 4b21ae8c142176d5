package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convctl/convctl/pkg/twilsock"
)

// signText signs header and payload JSON exactly as written, which no JSON
// library would (keys twice, extensions), with the test secret.
func signText(header, payload string) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, testSecret)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

// TestInitDeniesAmbiguousTokens: tokens that parsers read differently are
// refused at init with the code pkg/inspect gives them, where before they
// were accepted (the duplicate identity as "admin").
func TestInitDeniesAmbiguousTokens(t *testing.T) {
	const header = `{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}`
	iat := base.Unix()
	exp := base.Add(-time.Hour).Unix()
	payload := func(extra string) string {
		return `{"jti":"` + testKey + `-` + strconv.FormatInt(iat, 10) + `",` + extra +
			`"grants":{"identity":"alice","chat":{"service_sid":"` + testService + `"}},"iat":` + strconv.FormatInt(iat, 10) +
			`,"exp":` + strconv.FormatInt(iat+3600, 10) + `,"iss":"` + testKey + `","sub":"` + testAccount + `"}`
	}
	good := signText(header, payload(""))
	last := good[len(good)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tests := []struct {
		name, token string
		code        int
	}{
		{"duplicate identity", signText(header, strings.Replace(payload(""), `"identity":"alice"`, `"identity":"alice","identity":"admin"`, 1)), 20101},
		{"expired, then a valid exp", signText(header, payload(`"exp":`+strconv.FormatInt(exp, 10)+`,`)), 20101},
		{"crit with an unknown extension", signText(`{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","crit":["x-ext"],"x-ext":1}`, payload("")), 20102},
		{"non-canonical signature", good[:len(good)-1] + string(alphabet[strings.IndexByte(alphabet, last)|1]), 20107},
	}
	ts := startServer(t, Config{})
	if r := dial(t, ts.url).init(good, nil); !r.Header.Status.OK() {
		t.Fatalf("the unambiguous token is refused: %s", r.RawHeader)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, ts.url)
			r := c.init(tt.token, nil)
			if s := r.Header.Status; s == nil || s.Code != 401 || s.ErrorCode != tt.code {
				t.Fatalf("status %+v, want 401 with %d", s, tt.code)
			}
			c.send(twilsock.NewClientClose(), nil)
			_ = c.ended()
		})
	}
}
