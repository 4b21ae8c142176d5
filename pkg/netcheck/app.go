package netcheck

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// maxAnswer bounds what is read of an answer: the status line and headers.
const maxAnswer = 64 << 10

// appStep asks the endpoint what a client would ask first and returns the
// HTTP status of the answer. For wss it is a WebSocket upgrade with no
// token, closed at once with a close frame when it succeeds; for https a
// GET whose body is not read.
func appStep(conn net.Conn, e Endpoint) (int, error) {
	host := e.Host
	if e.Port != "443" {
		host = net.JoinHostPort(e.Host, e.Port)
	}
	var key string
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: convctl-netcheck\r\n", e.Path, host)
	if e.Protocol == ProtocolWSS {
		var nonce [16]byte
		rand.Read(nonce[:])
		key = base64.StdEncoding.EncodeToString(nonce[:])
		fmt.Fprintf(&b, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	} else {
		b.WriteString("Accept: */*\r\nConnection: close\r\n\r\n")
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return 0, fmt.Errorf("sending the request: %w", err)
	}
	br := bufio.NewReaderSize(io.LimitReader(conn, maxAnswer), 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return 0, fmt.Errorf("reading the answer: %w", err)
	}
	if e.Protocol != ProtocolWSS || resp.StatusCode != http.StatusSwitchingProtocols {
		return resp.StatusCode, nil
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), acceptKey(key); got != want {
		return resp.StatusCode, fmt.Errorf("answered 101 without the right Sec-WebSocket-Accept: not a WebSocket server")
	}
	// A close frame (1000), masked as a client's must be; then the caller
	// closes the socket. The server's answer is not awaited.
	var mask [4]byte
	rand.Read(mask[:])
	payload := []byte{0x03, 0xe8}
	frame := []byte{0x88, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, p := range payload {
		frame = append(frame, p^mask[i%4])
	}
	conn.Write(frame)
	return resp.StatusCode, nil
}

// acceptKey is RFC 6455's Sec-WebSocket-Accept for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}
