package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/convctl/convctl/pkg/twilsock"
)

// maxSessions bounds the continuation tokens remembered. The oldest is
// forgotten first; a client presenting a forgotten one is told it is invalid
// and given a new one, which the SDK takes in its stride.
const maxSessions = 1 << 17

// sessions remembers the continuation tokens the server issued and whose they
// are, so that a client reconnecting with one (after a drop or an offload)
// resumes its session: the init reply hands the same token back with
// continuation_token_status reused and restored, as the SDK expects of the
// service.
type sessions struct {
	mu    sync.Mutex
	owner map[string]string // continuation token → identity
	ring  []string          // issue order, for forgetting the oldest
	next  int
}

// resume returns the continuation token for an init that presented
// `presented` (nil or empty on a first connection) for identity, and what to
// say about it.
func (ss *sessions) resume(presented *string, identity string) (string, twilsock.ContinuationTokenStatus) {
	var st twilsock.ContinuationTokenStatus
	if presented != nil && *presented != "" {
		ss.mu.Lock()
		owner, known := ss.owner[*presented]
		ss.mu.Unlock()
		var why string
		switch {
		case known && owner == identity:
			st.Reused, st.Restored = true, true
			return *presented, st
		case known:
			why = "continuation token belongs to another identity"
		default:
			why = "unknown continuation token"
		}
		st.Invalid = true
		st.RestoreError = &why
	}
	return ss.issue(identity), st
}

func (ss *sessions) issue(identity string) string {
	ct := "CT-" + strings.TrimPrefix(twilsock.NewID(), "TM")
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.owner == nil {
		ss.owner = make(map[string]string)
	}
	if len(ss.ring) < maxSessions {
		ss.ring = append(ss.ring, ct)
	} else {
		delete(ss.owner, ss.ring[ss.next])
		ss.ring[ss.next] = ct
		ss.next = (ss.next + 1) % maxSessions
	}
	ss.owner[ct] = identity
	return ct
}

// storageID names an identity's offline storage. It is derived from the
// identity so that it is the same on every connection of the same user, as
// the service's is.
func storageID(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return "ST" + hex.EncodeToString(sum[:16])
}
