package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/debuglog"
	"github.com/convctl/convctl/pkg/twilsock"
)

// tooLarge answers a frame twilsock.Decode refused as too large (a header
// over twilsock.MaxHeaderSize, or a payload_size over MaxPayloadSize). Left
// unanswered, such an init leaves the SDK waiting 30 s for a reply, then
// resending the same init, forever. When the header still names a request
// (init, update or message, with an id), the server replies 413 to that id,
// which the SDK and convctl connect report as a connection error; otherwise
// it closes the connection with 1009 and a reason.
func (c *conn) tooLarge(data []byte, err error) bool {
	method, id, ok := peekHeader(data)
	if ok && id != "" && (method == twilsock.MethodInit || method == twilsock.MethodUpdate || method == twilsock.MethodMessage) {
		c.s.stats.oversized.Add(1)
		c.warnFrame(method+" too large: answered 413", "bytes", len(data), "id", clipS(id), "error", err)
		return c.reply(id, twilsock.Status{Code: http.StatusRequestEntityTooLarge, Status: "Payload Too Large",
			Description: method + " of " + strconv.Itoa(len(data)) + " bytes refused: " + err.Error()})
	}
	if len(data) <= twilsock.MaxHeaderSize {
		// It only claims a size it does not have: malformed, like any other.
		c.s.stats.malformed.Add(1)
		c.warnFrame("malformed frame ignored", "bytes", len(data), "error", err, "frame", debuglog.RedactJWTs(clip(data)))
		return true
	}
	c.s.stats.oversized.Add(1)
	c.warnFrame("frame too large and no request id to answer: closing with 1009", "bytes", len(data), "error", err)
	reason := "twilsock frame over the limits (header " + strconv.Itoa(twilsock.MaxHeaderSize) + " bytes)"
	return c.send(outgoing{kind: outCloseSocket, closeCode: websocket.CloseMessageTooBig, closeText: reason})
}

// peekHeader reads the method and id of a frame whose header is too large to
// decode in full, so that the request can still be answered. It only looks
// inside b, which the read limit bounds; ok is false when the frame does
// not hold a complete JSON header.
func peekHeader(b []byte) (method, id string, ok bool) {
	if len(b) < len(twilsock.Magic) || string(b[:len(twilsock.Magic)]) != twilsock.Magic {
		return "", "", false
	}
	pos, n := len(twilsock.Magic), 0
	for start := pos; pos < len(b) && b[pos] >= '0' && b[pos] <= '9'; pos++ {
		if pos-start >= 9 {
			return "", "", false
		}
		n = n*10 + int(b[pos]-'0')
	}
	if n < 2 || pos+2 > len(b) || b[pos] != '\r' || b[pos+1] != '\n' || len(b)-(pos+2) < n {
		return "", "", false
	}
	var h struct {
		ID     string `json:"id"`
		Method string `json:"method"`
	}
	if json.Unmarshal(b[pos+2:pos+2+n], &h) != nil {
		return "", "", false
	}
	return h.Method, h.ID, true
}
