package emulator

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/convctl/convctl/pkg/twilsock"
)

// The control API (docs/control-api.md): JSON over HTTP on the same handler,
// so a test or a script can make the server act at a moment of its choosing.

// ConnInfo describes one connection in the control API's listing.
type ConnInfo struct {
	ID                string     `json:"id"`
	State             string     `json:"state"`
	Identity          string     `json:"identity"`
	Remote            string     `json:"remote"`
	OpenedAt          time.Time  `json:"opened_at"`
	ConnectedAt       *time.Time `json:"connected_at"`
	TokenExpiresAt    *time.Time `json:"token_expires_at"`
	AboutToExpireAt   *time.Time `json:"about_to_expire_at"`
	ContinuationToken string     `json:"continuation_token,omitempty"`
}

// Connections lists the open connections, oldest first.
func (s *Server) Connections() []ConnInfo {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(a.n, b.n) })
	out := make([]ConnInfo, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.info())
	}
	return out
}

func (c *conn) info() ConnInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := ConnInfo{ID: c.id, State: c.state.String(), Identity: c.identity, Remote: c.remote,
		OpenedAt: c.openedAt.UTC(), ContinuationToken: c.ct}
	if !c.connectedAt.IsZero() {
		t := c.connectedAt.UTC()
		ci.ConnectedAt = &t
	}
	if !c.expires.IsZero() {
		exp := c.expires.UTC()
		about := exp.Add(-c.s.cfg.AboutToExpire)
		ci.TokenExpiresAt, ci.AboutToExpireAt = &exp, &about
	}
	return ci
}

func (s *Server) routeControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /control/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /control/connections", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"connections": s.Connections()})
	})
	mux.HandleFunc("GET /control/connections/{id}", func(w http.ResponseWriter, r *http.Request) {
		c, err := s.lookup(r.PathValue("id"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, c.info())
	})
	mux.HandleFunc("POST /control/connections/{id}/about-to-expire", s.controlAboutToExpire)
	mux.HandleFunc("POST /control/connections/{id}/close", s.controlClose)
	mux.HandleFunc("POST /control/connections/{id}/drop", s.controlDrop)
	mux.HandleFunc(PathControl, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, fmt.Errorf("%w: no control endpoint %s %s (see docs/control-api.md)", errNotFound, r.Method, r.URL.Path))
	})
}

// targets resolves {id}: one connection, or "all" of those in one of states.
func (s *Server) targets(id string, states ...connState) ([]*conn, error) {
	if id != "all" {
		c, err := s.lookup(id)
		if err != nil {
			return nil, err
		}
		if st := c.getState(); !slices.Contains(states, st) {
			return nil, fmt.Errorf("%w: connection %s is %s", errConflict, id, st)
		}
		return []*conn{c}, nil
	}
	s.mu.Lock()
	var cs []*conn
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	cs = slices.DeleteFunc(cs, func(c *conn) bool { return !slices.Contains(states, c.getState()) })
	slices.SortFunc(cs, func(a, b *conn) int { return cmp.Compare(a.n, b.n) })
	return cs, nil
}

func (s *Server) lookup(id string) (*conn, error) {
	n, err := strconv.ParseInt(id[min(1, len(id)):], 10, 64)
	if err == nil && len(id) > 1 && id[0] == 'c' {
		s.mu.Lock()
		c := s.conns[n]
		s.mu.Unlock()
		if c != nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: no open connection %q", errNotFound, id)
}

// acted is the answer to every POST: the connections acted on.
type acted struct {
	Connections []string `json:"connections"`
}

func (s *Server) controlAboutToExpire(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, []connState{stateConnected}, func(c *conn) error {
		return c.command(r.Context(), outgoing{kind: outAboutToExpire})
	})
}

func (s *Server) controlClose(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code := twilsock.CloseTokenExpired
	if v := q.Get("code"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 300 || n > 599 {
			writeError(w, badParam("code", v, "a status from 300 to 599, e.g. 410, 401 or 308"))
			return
		}
		code = n
	}
	st := twilsock.CloseStatus(code)
	if v := q.Get("error_code"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, badParam("error_code", v, "a Twilio error code, e.g. 20104"))
			return
		}
		st.ErrorCode, st.Description = n, twilsock.Describe(n)
	}
	backoff := s.cfg.OffloadBackoff
	if v := q.Get("backoff_ms"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, badParam("backoff_ms", v, "milliseconds, 0 or more"))
			return
		}
		backoff = time.Duration(n) * time.Millisecond
	}
	s.act(w, r, []connState{stateOpen, stateInitialising, stateConnected, stateDenied}, func(c *conn) error {
		return c.command(r.Context(), outgoing{kind: outClose, status: st, backoff: backoff})
	})
}

func (s *Server) controlDrop(w http.ResponseWriter, r *http.Request) {
	s.act(w, r, []connState{stateOpen, stateInitialising, stateConnected, stateDenied, stateClosing}, func(c *conn) error {
		c.drop("control API")
		return nil
	})
}

func (s *Server) act(w http.ResponseWriter, r *http.Request, states []connState, f func(*conn) error) {
	action := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	code := 0
	if action == "close" {
		code, _ = strconv.Atoi(cmp.Or(r.URL.Query().Get("code"), strconv.Itoa(twilsock.CloseTokenExpired)))
	}
	id := r.PathValue("id")
	cs, err := s.targets(id, states...)
	if err != nil {
		writeError(w, err)
		return
	}
	res := acted{Connections: []string{}}
	for _, c := range cs {
		if action == "drop" {
			// Said before it is done: the connection's closed event
			// follows at once, and a stream reads best in that order.
			s.publishAction(c, action, code)
		}
		if err := f(c); err != nil {
			if id != "all" {
				writeError(w, fmt.Errorf("%w: connection %s: %v", errConflict, c.id, err))
				return
			}
			continue // it closed while we acted: not acted on
		}
		res.Connections = append(res.Connections, c.id)
		if action != "drop" {
			s.publishAction(c, action, code)
		}
	}
	s.log.Info("control: "+r.URL.Path, "query", r.URL.RawQuery, "connections", res.Connections)
	writeJSON(w, http.StatusOK, res)
}

type paramError struct{ name, value, want string }

func (e *paramError) Error() string {
	return fmt.Sprintf("bad %s %q: want %s", e.name, e.value, e.want)
}

func badParam(name, value, want string) error { return &paramError{name, value, want} }

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var pe *paramError
	switch {
	case errors.Is(err, errNotFound):
		status = http.StatusNotFound
	case errors.Is(err, errConflict):
		status = http.StatusConflict
	case errors.As(err, &pe):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
