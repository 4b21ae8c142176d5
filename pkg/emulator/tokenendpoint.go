package emulator

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convctl/convctl/pkg/inspect"
)

// TokenEndpoint mints Access Tokens for GET /token?identity=NAME, so a web
// app in development fetches its token from the server it connects to and
// needs no Twilio account, backend or secret of its own.
type TokenEndpoint struct {
	AccountSID     string        // the token's sub (AC…)
	APIKeySID      string        // its iss (SK…)
	ChatServiceSID string        // the Conversations grant's service (IS…)
	TTL            time.Duration // default inspect.DefaultTTL
}

// TokenAnswer is what GET /token answers.
type TokenAnswer struct {
	Identity string `json:"identity"`
	Token    string `json:"token"`
}

// maxIdentityLen bounds an identity as Twilio does (Conversations allows 256 characters).
const maxIdentityLen = 256

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Web.ControlToken == "" {
		// Only while the server is reachable from this machine alone: any
		// web app on any port may fetch a development token.
		w.Header().Set("Access-Control-Allow-Origin", "*")
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GET /token?identity=NAME"})
		return
	}
	id := r.URL.Query().Get("identity")
	switch {
	case id == "":
		writeError(w, badParam("identity", id, "the user's identity, e.g. /token?identity=alice"))
		return
	case !utf8.ValidString(id) || utf8.RuneCountInString(id) > maxIdentityLen || strings.ContainsFunc(id, isControl):
		writeError(w, badParam("identity", id, "at most 256 printable characters"))
		return
	}
	tok, err := s.mintFor(id)
	if err != nil {
		writeError(w, err)
		return
	}
	s.log.Info("token endpoint: minted", "identity", id, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, TokenAnswer{Identity: id, Token: tok})
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (s *Server) mintFor(identity string) (string, error) {
	te := s.cfg.Web.TokenEndpoint
	secret := s.cfg.Secret
	if len(secret) == 0 {
		// The server does not verify signatures: any secret will do, and
		// a fresh one per token keeps it from meaning anything.
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	o := inspect.MintOptions{AccountSID: te.AccountSID, APIKeySID: te.APIKeySID, Secret: secret, Identity: identity,
		TTL: te.TTL, Now: s.cfg.Clock()}
	switch s.cfg.Product {
	case inspect.ProductSync:
		o.SyncServiceSID = te.ChatServiceSID
	default:
		o.ChatServiceSID = te.ChatServiceSID
	}
	tok, err := inspect.Mint(o)
	if err != nil {
		if errors.Is(err, inspect.ErrMintOptions) {
			return "", badParam("identity", identity, "an identity a token can carry ("+err.Error()+")")
		}
		return "", err
	}
	return tok, nil
}
