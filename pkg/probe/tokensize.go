package probe

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/convctl/convctl/pkg/twilsock"
)

// ErrTokenTooLarge is matched (errors.Is) by the error for a token that
// cannot be sent: the init that carries it would be over the Twilsock
// header limit (twilsock.MaxHeaderSize). Run returns it, wrapped with
// ErrToken as well, when the first token is too large, before it dials.
var ErrTokenTooLarge = errors.New("probe: token too large for a Twilsock header")

// TokenTooLargeError says how large a token is and how large it may be.
// It matches ErrTokenTooLarge.
type TokenTooLargeError struct {
	// Size is the token's length in bytes as the header carries it (a
	// JWT's own length: its characters need no JSON escaping).
	Size int
	// Room is the most the init header leaves for the token: Limit less
	// the rest of the init (metadata, registrations, a continuation token).
	Room int
	// Limit is the Twilsock header limit, twilsock.MaxHeaderSize.
	Limit int
}

func (e *TokenTooLargeError) Error() string {
	return fmt.Sprintf("the token is %d bytes, too large for a Twilsock header: the header that carries it (init) is limited to %d bytes (64 KiB), which leaves room for a token of at most %d bytes",
		e.Size, e.Limit, e.Room)
}

// Is makes errors.Is(err, ErrTokenTooLarge) true.
func (e *TokenTooLargeError) Is(target error) bool { return target == ErrTokenTooLarge }

// newInit is the init that opens a session with tok, as the Conversations
// client sends it.
func (r *run) newInit(tok string) *twilsock.Init {
	return twilsock.NewInit(tok, r.continuation, r.metadata(), []twilsock.Registration{{
		Product: twilsock.ProductConversations, Type: "ers", NotificationProtocolVersion: 0,
		MessageTypes: conversationsMessageTypes,
	}})
}

// checkTokenSize refuses a token whose init would not encode: every
// frame that carries a token (init, update) must fit a Twilsock header,
// and init, with its metadata and the continuation token in hand, is the
// largest of them.
func (r *run) checkTokenSize(tok string) error {
	quoted, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	size := len(quoted) - 2
	empty, err := twilsock.Encode(r.newInit(""), nil)
	if err != nil {
		return fmt.Errorf("the init does not encode even without a token: %w", err)
	}
	f, err := twilsock.Decode(empty)
	if err != nil {
		return fmt.Errorf("the init does not decode: %w", err)
	}
	room := twilsock.MaxHeaderSize - len(f.RawHeader)
	if size <= room {
		return nil
	}
	return &TokenTooLargeError{Size: size, Room: max(room, 0), Limit: twilsock.MaxHeaderSize}
}
