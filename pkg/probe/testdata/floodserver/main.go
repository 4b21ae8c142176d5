// Command floodserver is a hostile Twilsock server for measuring convctl
// connect under a flood (issue 9, item 2). It answers init with 200, then
// writes frames as fast as the socket takes them, never reading: valid
// notifications (-mode notify), undecodable binary frames (-mode junk), or
// notifications with a different message type each (-mode distinct). It
// prints its ws:// URL on the first line of stdout.
//
//	go run ./pkg/probe/testdata/floodserver -mode notify
//
// It lives under testdata so that nothing of it builds with ./...
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"

	"github.com/gorilla/websocket"

	"github.com/convctl/convctl/pkg/twilsock"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	mode := flag.String("mode", "notify", "notify | junk | distinct")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ws://%s/v3/wsconnect\n", ln.Addr())
	up := websocket.Upgrader{}
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		f, err := twilsock.Decode(b)
		if err != nil {
			return
		}
		reply, _ := twilsock.Encode(twilsock.NewReply(f.Header.ID, twilsock.OKStatus()), nil)
		if ws.WriteMessage(websocket.BinaryMessage, reply) != nil {
			return
		}
		// Drain the client's acks in the background so the flood is limited
		// by the client's reading, not by a full TCP buffer of acks.
		go func() {
			for {
				if _, _, err := ws.NextReader(); err != nil {
					return
				}
			}
		}()
		for i := 0; ; i++ {
			var msg []byte
			switch *mode {
			case "junk":
				msg = []byte("TWILSOCK V3.0 7\r\n{junk!}\r\n")
			default:
				mt := "twilio.ipmsg.typing_indicator"
				if *mode == "distinct" {
					mt = "flood." + strconv.Itoa(i)
				}
				h := &twilsock.Header{Base: twilsock.Base{Method: twilsock.MethodNotification, ID: "TM" + strconv.Itoa(i)}, MessageType: mt}
				msg, _ = twilsock.Encode(h, []byte(`{}`))
			}
			if err := ws.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				return
			}
		}
	})))
}
