package emulator

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Server-wide faults a client meets on its next connection, changed at run
// time through the control API (POST /control/faults/…) and shown by the
// dashboard. Config's Deny, InitDelay and RefuseUpgrades are their starting
// values.

// Faults are the server-wide faults in force.
type Faults struct {
	Deny           *DenyFault `json:"deny"`            // null: inits are judged on their token
	RefuseUpgrades int64      `json:"refuse_upgrades"` // upgrades still to answer 503
	InitDelayMS    int64      `json:"init_delay_ms"`   // wait before answering each init
}

// DenyFault answers inits with 401 and a Twilio error code, whatever the token.
type DenyFault struct {
	Code      int  `json:"code"`
	Every     bool `json:"every"`     // every init, as Config.Deny does
	Remaining int  `json:"remaining"` // otherwise: the next this many inits
}

type faultState struct {
	denyOn    atomic.Bool // fast path: no lock per init while no deny is armed
	mu        sync.Mutex
	deny      DenyFault
	initDelay atomic.Int64 // nanoseconds
	// refuseTotal is how many upgrades the refusal in force was armed with,
	// so that each refusal can say which of them it is.
	refuseTotal atomic.Int64
}

func (s *Server) initFaults() {
	f := &s.web.faults
	if s.cfg.Deny != 0 {
		f.deny = DenyFault{Code: s.cfg.Deny, Every: true}
		f.denyOn.Store(true)
	}
	f.initDelay.Store(int64(s.cfg.InitDelay))
	f.refuseTotal.Store(int64(s.cfg.RefuseUpgrades))
}

// Faults returns the server-wide faults in force.
func (s *Server) Faults() Faults {
	f := &s.web.faults
	out := Faults{RefuseUpgrades: max(s.refuseLeft.Load(), 0), InitDelayMS: time.Duration(f.initDelay.Load()).Milliseconds()}
	f.mu.Lock()
	if f.deny.Code != 0 {
		d := f.deny
		out.Deny = &d
	}
	f.mu.Unlock()
	return out
}

// takeDeny returns the Twilio error code the next init is to be denied
// with, or 0, and counts it against a deny armed for the next N inits.
func (s *Server) takeDeny() int {
	f := &s.web.faults
	if !f.denyOn.Load() {
		return 0
	}
	f.mu.Lock()
	code, counted := f.deny.Code, !f.deny.Every
	if counted {
		if f.deny.Remaining--; f.deny.Remaining <= 0 {
			f.deny = DenyFault{}
			f.denyOn.Store(false)
		}
	}
	f.mu.Unlock()
	if counted {
		s.publishFaults()
	}
	return code
}

func (s *Server) initDelay() time.Duration { return time.Duration(s.web.faults.initDelay.Load()) }

// takeRefusal reports whether this upgrade is to be refused, counting it,
// and which of how many armed refusals it is.
func (s *Server) takeRefusal() (refuse bool, nth, of int64) {
	if s.refuseLeft.Load() <= 0 {
		return false, 0, 0
	}
	left := s.refuseLeft.Add(-1)
	if left < 0 {
		return false, 0, 0
	}
	of = s.web.faults.refuseTotal.Load()
	s.publishFaults()
	return true, max(of-left, 1), max(of, 1)
}

func (s *Server) routeFaults(mux *http.ServeMux) {
	mux.HandleFunc("GET /control/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("POST /control/faults/deny", s.controlDeny)
	mux.HandleFunc("POST /control/faults/refuse-upgrades", s.controlRefuse)
	mux.HandleFunc("POST /control/faults/init-delay", s.controlInitDelay)
	mux.HandleFunc("POST /control/faults/clear", func(w http.ResponseWriter, r *http.Request) {
		f := &s.web.faults
		f.mu.Lock()
		f.deny = DenyFault{}
		f.denyOn.Store(false)
		f.mu.Unlock()
		s.refuseLeft.Store(0)
		f.refuseTotal.Store(0)
		f.initDelay.Store(0)
		s.faultsChanged(w, r)
	})
}

// controlDeny is POST /control/faults/deny?code=20107&count=1: deny the next
// count inits (count=every: all of them; count=0: stop denying).
func (s *Server) controlDeny(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := DenyFault{Remaining: 1}
	switch v := q.Get("count"); v {
	case "", "1":
	case "every":
		d.Every, d.Remaining = true, 0
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, badParam("count", v, `a number of inits, 0 or more, or "every"`))
			return
		}
		d.Remaining = n
	}
	off := !d.Every && d.Remaining == 0
	if v := q.Get("code"); !off || v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10000 || n > 99999 {
			writeError(w, badParam("code", v, "a Twilio error code (5 digits), e.g. 20107 (invalid signature) or 20104 (expired)"))
			return
		}
		d.Code = n
	}
	f := &s.web.faults
	f.mu.Lock()
	if off {
		f.deny = DenyFault{}
	} else {
		f.deny = d
	}
	f.denyOn.Store(!off)
	f.mu.Unlock()
	s.faultsChanged(w, r)
}

// controlRefuse is POST /control/faults/refuse-upgrades?count=N: answer the
// next N upgrades with 503 (0: none).
func (s *Server) controlRefuse(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("count")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		writeError(w, badParam("count", v, "a number of upgrades, 0 or more"))
		return
	}
	s.web.faults.refuseTotal.Store(int64(n))
	s.refuseLeft.Store(int64(n))
	s.faultsChanged(w, r)
}

// maxInitDelay bounds the init delay the control API sets: long enough for
// any client's init timeout, short enough that a typo does not wedge a run.
const maxInitDelay = 10 * time.Minute

// controlInitDelay is POST /control/faults/init-delay?delay_ms=N: wait N ms
// before answering each init from now on (0: answer at once).
func (s *Server) controlInitDelay(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("delay_ms")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || time.Duration(n)*time.Millisecond > maxInitDelay {
		writeError(w, badParam("delay_ms", v, "milliseconds, 0 to "+strconv.FormatInt(maxInitDelay.Milliseconds(), 10)))
		return
	}
	s.web.faults.initDelay.Store(int64(time.Duration(n) * time.Millisecond))
	s.faultsChanged(w, r)
}

func (s *Server) faultsChanged(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	s.log.Info("control: "+r.URL.Path, "query", r.URL.RawQuery, "faults", f)
	s.publishFaults()
	writeJSON(w, http.StatusOK, f)
}
