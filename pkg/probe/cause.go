package probe

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/twilsock"
)

// tokenCause explains a 401/403 reply to init or update, or a server close
// 401/410: what the server said, and what the token itself says about it.
func (r *run) tokenCause(st *twilsock.Status, what string) *Cause {
	code, terr := statusCodes(st)
	c := &Cause{Kind: CauseTokenRejected, HTTPStatus: code, TwilioError: terr}
	if st != nil && (st.ErrorCode == twilsock.ErrTokenExpired || st.Code == twilsock.CloseTokenExpired) {
		c.Kind = CauseTokenExpired
	}
	switch what {
	case "init":
		c.Phase = PhaseInit
		c.Message = "the server rejected the token in init: " + describeStatus(st)
	case "update":
		c.Message = "the server rejected the fresh token sent in update: " + describeStatus(st)
	default:
		c.Message = "the server closed the connection: " + describeStatus(st)
	}
	c.Hint = r.tokenHint(st)
	c.RegionMismatch = r.regionMismatch()
	return c
}

// tokenHint runs the token through inspect to say why the server said what
// it said, and what to change.
func (r *run) tokenHint(st *twilsock.Status) string {
	code := 0
	if st != nil {
		code = st.ErrorCode
		if code == 0 && st.Code == twilsock.CloseTokenExpired {
			code = twilsock.ErrTokenExpired
		}
	}
	rep := r.tokenRep
	key := rep.APIKeySID
	if key == "" {
		key = "(iss)"
	}
	var parts []string
	switch rep.Signature {
	case inspect.SignatureInvalid:
		if code == twilsock.ErrInvalidSignature {
			parts = append(parts, fmt.Sprintf("the server said %d because the signature does not verify with this key: the secret given is not the one that signed the token; mint it with the secret of API key %s", code, key))
		} else {
			parts = append(parts, "also, the signature does not verify with the secret given")
		}
	case inspect.SignatureVerified:
		if code == twilsock.ErrInvalidSignature {
			parts = append(parts, fmt.Sprintf("the signature verifies with the secret given, so the service holds a different secret for API key %s: the key was deleted or its secret rotated, or it belongs to another account or region", key))
		}
	default:
		if code == twilsock.ErrInvalidSignature {
			parts = append(parts, fmt.Sprintf("signature not verified: no API key secret was given to check it; 20107 means the secret that signed it is not the secret of API key %s", key))
		}
	}

	matched := false
	for _, f := range rep.Findings {
		if f.TwilioError == nil || *f.TwilioError != code || code == twilsock.ErrInvalidSignature {
			continue
		}
		matched = true
		s := "the token confirms it: " + f.Message
		if f.Hint != "" {
			s += " (" + f.Hint + ")"
		}
		parts = append(parts, s)
		break
	}

	now := r.cfg.Now()
	switch code {
	case twilsock.ErrTokenExpired:
		if exp := rep.ExpiresAt; exp != nil && !matched {
			if left := exp.Sub(now); left <= 0 {
				parts = append(parts, fmt.Sprintf("the token expired %s ago (exp %s): mint a new one", roundDur(-left), exp.UTC().Format(time.RFC3339)))
			} else {
				parts = append(parts, fmt.Sprintf("by this machine's clock the token is valid for another %s, so the server's clock disagrees with the issuer's: check clock skew", roundDur(left)))
			}
		}
	case twilsock.ErrTokenNotYetValid:
		if nbf := rep.NotBefore; nbf != nil && !matched {
			if wait := nbf.Sub(now); wait > 0 {
				parts = append(parts, fmt.Sprintf("the token is not valid for another %s (nbf %s): the issuing server's clock runs ahead", roundDur(wait), nbf.UTC().Format(time.RFC3339)))
			} else {
				parts = append(parts, "by this machine's clock nbf has passed, so the server's clock is behind the issuer's: check clock skew")
			}
		}
	}

	if !matched && rep.Signature != inspect.SignatureInvalid {
		if f := rep.FirstError(); f != nil {
			parts = append(parts, "inspecting the token finds: "+f.Message)
		} else if info, ok := twilsock.Lookup(code); ok && len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("the token looks valid here; Twilio error %d (%s) usually means: %s", code, info.Name, info.Cause))
		}
	}
	if m := r.regionMismatch(); m != nil {
		parts = append(parts, fmt.Sprintf("the token is for region %s (twr) but the URL is region %s: connect to region %s's URL, or mint the token for %s", m.Token, m.URL, m.Token, m.URL))
	}
	if len(parts) == 0 {
		return "inspect the token, with its API key secret, to see what the server objects to"
	}
	return strings.Join(parts, "; ")
}

// expiryHint explains a token that expired while the run was connected:
// when, whether tokenAboutToExpire came in time, and whether renewing helped.
func (r *run) expiryHint(c *Cause) string {
	if !r.everConnected {
		return c.Hint
	}
	var parts []string
	// The 410 is for the token that was warned about, not a renewal that
	// lost the race to it.
	exp := r.tokenRep.ExpiresAt
	if r.warnedExpiry != nil {
		exp = r.warnedExpiry
	}
	early := exp != nil && r.closedAt != nil && r.closedAt.Before(*exp)
	switch {
	case early:
		parts = append(parts, fmt.Sprintf("the server closed with %d at %s, %s before the token's exp (%s) by this machine's clock: its clock runs ahead of this machine's, or it ended the session early for its own reasons",
			twilsock.CloseTokenExpired, r.closedAt.UTC().Format(time.RFC3339), roundDur(exp.Sub(*r.closedAt)), exp.UTC().Format(time.RFC3339)))
	case exp != nil:
		parts = append(parts, fmt.Sprintf("the token expired at %s", exp.UTC().Format(time.RFC3339)))
	}
	switch {
	case r.aboutToExpire == nil:
		s := "the server never sent token_about_to_expire before it expired"
		if early {
			s = "the server never sent token_about_to_expire before it closed"
		}
		if r.cfg.Renew {
			s += ", so renewing had nothing to act on"
		}
		parts = append(parts, s)
	default:
		s := "tokenAboutToExpire came"
		if exp != nil {
			s += fmt.Sprintf(" %s before expiry", roundDur(exp.Sub(*r.aboutToExpire)))
		}
		switch {
		case !r.cfg.Renew:
			s += ", but renewing was off and nothing renewed the token: an app must call updateToken on tokenAboutToExpire"
		case errors.Is(r.renewErr, ErrTokenTooLarge):
			s += fmt.Sprintf(" and renewing fetched a token it could not send: %v", r.renewErr)
		case r.renewErr != nil:
			s += fmt.Sprintf(" and renewing could not fetch a fresh token: %v", r.renewErr)
		case r.renewedSameExp:
			s += " and renewing sent update, but the token source returned a token that expires no later: it hands out the same token instead of minting a new one"
		case r.updatesAccepted > 0:
			s += " and the server accepted the renewed token, yet expired the session anyway"
		default:
			s += " and renewing sent update, but no reply came before expiry"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func upgradeHint(status int) string {
	switch {
	case status == http.StatusServiceUnavailable:
		return "the server refused the WebSocket upgrade: the service (or a proxy in front of it) is unavailable or overloaded; the SDK retries with backoff"
	case status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusProxyAuthRequired:
		return "the upgrade itself was refused: Twilsock sends no credentials on the upgrade, so a proxy or firewall in between is blocking it"
	case status == http.StatusNotFound:
		return "nothing serves Twilsock at this path: check the URL (Twilsock's path is /v3/wsconnect)"
	case status == http.StatusBadRequest || status == http.StatusUpgradeRequired || status == http.StatusMethodNotAllowed:
		return "the server does not take WebSocket upgrades at this URL: check the URL and any proxy in between"
	case status >= 300 && status < 400:
		return "the server redirected the upgrade; WebSocket clients do not follow redirects: use the final URL"
	case status == http.StatusSwitchingProtocols:
		return "the server switched protocols without a valid WebSocket handshake: something in between rewrites the upgrade"
	}
	return "the server refused the WebSocket upgrade"
}

func dialHint(phase Phase, err error, rawURL string) string {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	switch {
	case outOfFDs(err):
		return "this machine ran out of file descriptors (the process's open-file limit, or the system's), so no socket could be opened and the server was never reached: raise the limit (ulimit -n) or close connections this process holds"
	case errors.As(err, &dnsErr):
		return "check the host name (Twilio's is tsock.<region>.twilio.com) and this machine's resolver"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing is listening there: is the server running, and is the port right?"
	case errors.As(err, &certErr):
		return "the certificate does not verify: a TLS-inspecting proxy must have its CA trusted on this machine"
	case phase == PhaseTLS:
		return "the TLS handshake failed: check the URL's scheme (wss:// needs a TLS server) and any proxy in between"
	case phase == PhaseUpgrade:
		return "the server hung up during the WebSocket upgrade: a proxy that does not pass WebSockets, or not an HTTP server"
	case phase == PhaseTCP:
		return "a firewall may block the connection, or the host is down"
	}
	return "check the network path to " + hostOf(rawURL)
}

// outOfFDs reports whether err is this machine running out of file
// descriptors: EMFILE for the process, ENFILE for the system.
func outOfFDs(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// regionMismatch is the token's region and the URL's when they differ.
func (r *run) regionMismatch() *RegionMismatch {
	tr, ur := tokenRegion(r.tokenRep), urlRegion(r.cfg.URL)
	if tr == "" || ur == "" || tr == ur {
		return nil
	}
	return &RegionMismatch{Token: tr, URL: ur}
}

// describeSocketError says how an open connection ended, and whether the
// server (a WebSocket close) or the network (a cut) ended it.
func describeSocketError(err error) (string, CauseKind) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case err == nil:
		return "the connection closed", CauseNetwork
	case errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure:
		// gorilla reports a read cut short (no close frame) as 1006.
		return "the TCP connection was cut without a close frame", CauseNetwork
	case errors.As(err, &ce):
		s := fmt.Sprintf("the server closed the WebSocket (code %d", ce.Code)
		if ce.Text != "" {
			s += ": " + ce.Text
		}
		return s + ")", CauseServerClose
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return "the TCP connection was cut without a close frame", CauseNetwork
	case errors.As(err, &ne) && ne.Timeout():
		return "the connection stalled (write timed out)", CauseNetwork
	}
	return err.Error(), CauseNetwork
}

func phaseWords(p Phase, rawURL string) string {
	host := hostOf(rawURL)
	switch p {
	case PhaseDNS:
		h, _, _ := net.SplitHostPort(host)
		return "the DNS lookup of " + h
	case PhaseTCP:
		return "the TCP connect to " + host
	case PhaseTLS:
		return "the TLS handshake with " + host
	case PhaseProxy:
		return proxyWords(rawURL)
	case PhaseUpgrade:
		return "the WebSocket upgrade"
	case PhaseInit:
		return "init (the WebSocket was open but no reply came)"
	}
	return "the connection"
}

// hostOf returns host:port of a ws/wss URL, with the scheme's default port.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if u.Port() != "" {
		return u.Host
	}
	port := "80"
	if u.Scheme == "wss" {
		port = "443"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// urlRegion is the region of a Twilio Twilsock URL (tsock.<region>.twilio.com),
// or "" for any other host.
func urlRegion(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	p := strings.Split(strings.ToLower(u.Hostname()), ".")
	if len(p) == 4 && p[0] == "tsock" && p[2] == "twilio" && p[3] == "com" {
		return p[1]
	}
	return ""
}

func tokenRegion(rep *inspect.Report) string {
	if rep == nil {
		return ""
	}
	return rep.Region
}
