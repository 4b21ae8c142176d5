package emulator

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// The server's web side, beside the WebSocket: the dashboard at /, the event
// stream, the runtime faults, the token endpoint, and the control token that
// guards them all when the server is reachable from other machines.

// WebConfig sets up the web side.
type WebConfig struct {
	// ControlToken, when set, is required by everything but the WebSocket
	// endpoint: the dashboard, the control API and the token endpoint. A
	// script sends it as "Authorization: Bearer TOKEN"; a browser opens
	// /?control_token=TOKEN once and keeps it in an HttpOnly cookie. Set it
	// whenever the server listens where other machines can reach it.
	// Without it, the token endpoint allows any origin (CORS *).
	ControlToken string
	// TokenEndpoint, when set, makes GET /token?identity=NAME answer a token
	// minted with Config.Secret. Nil: /token is 404.
	TokenEndpoint *TokenEndpoint
}

// webState is the Server's share of the web side.
type webState struct {
	events broker
	faults faultState
}

// controlCookie carries the control token for the dashboard's own requests.
const controlCookie = "convctl_control"

// initWeb routes the web side; New calls it once.
func (s *Server) initWeb(mux *http.ServeMux) {
	s.initFaults()
	mux.HandleFunc("GET /control/events", s.serveEvents)
	mux.HandleFunc("GET /control/server", s.serveServerInfo)
	s.routeFaults(mux)
	s.routeDashboard(mux)
	if s.cfg.Web.TokenEndpoint != nil {
		mux.HandleFunc("/token", s.serveToken)
	}
}

// ServerInfo is GET /control/server: what the dashboard needs to know of the
// server's settings.
type ServerInfo struct {
	Product         string `json:"product"`
	AboutToExpireMS int64  `json:"about_to_expire_ms"`
	OffloadBackoff  int64  `json:"offload_backoff_ms"`
	TokenEndpoint   bool   `json:"token_endpoint"`
	VerifiesTokens  bool   `json:"verifies_signatures"`
	ControlToken    bool   `json:"control_token"` // the API is behind a control token
}

func (s *Server) serveServerInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ServerInfo{
		Product:         string(s.cfg.Product),
		AboutToExpireMS: s.cfg.AboutToExpire.Milliseconds(),
		OffloadBackoff:  s.cfg.OffloadBackoff.Milliseconds(),
		TokenEndpoint:   s.cfg.Web.TokenEndpoint != nil,
		VerifiesTokens:  len(s.cfg.Secret) > 0,
		ControlToken:    s.cfg.Web.ControlToken != "",
	})
}

// authorized lets a request through, or answers it. The WebSocket endpoint is
// always open, as Twilio's is: a token in init is what it checks.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	want := s.cfg.Web.ControlToken
	if want == "" || r.URL.Path == PathWS {
		return true
	}
	if r.URL.Path == "/" {
		if got := r.URL.Query().Get("control_token"); got != "" {
			if !sameToken(got, want) {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "wrong control_token: use the one the server printed when it started"})
				return false
			}
			// Keep it in a cookie the page's scripts cannot read, and drop it
			// from the address bar and the history.
			http.SetCookie(w, &http.Cookie{Name: controlCookie, Value: want, Path: "/", HttpOnly: true,
				SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int((30 * 24 * time.Hour).Seconds())})
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return false
		}
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && sameToken(strings.TrimSpace(got), want) {
		return true
	}
	if c, err := r.Cookie(controlCookie); err == nil && sameToken(c.Value, want) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="convctl serve"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "this server requires its control token: send Authorization: Bearer TOKEN, " +
		"or open /?control_token=TOKEN in a browser (the server printed both when it started)"})
	return false
}

func sameToken(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
