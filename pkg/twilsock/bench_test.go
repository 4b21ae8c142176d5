package twilsock

import "testing"

// BenchmarkEncode and BenchmarkDecode measure the two frames every session
// starts with: the SDK's init (the largest a client sends) and an ack (the
// most frequent).
func benchFrames() map[string]Message {
	md := Metadata{Ver: "1.0.2", Env: "Node.js", EnvV: "20.20.2", OS: "Linux", OSV: "unknown", OSA: 64, Type: "conversations", SDK: "JS", SDKV: "3.0.1"}
	regs := []Registration{{Product: ProductConversations, Type: "ers", MessageTypes: []string{
		"twilio.ipmsg.typing_indicator", "twilio.sync.event", "com.twilio.rtd.cds.document", "com.twilio.rtd.cds.list", "com.twilio.rtd.cds.map"}}}
	return map[string]Message{
		"init": NewInit(tok466, nil, md, regs),
		"ack":  NewAck(NewID()),
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, name := range []string{"init", "ack"} {
		m := benchFrames()[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				buf, err = AppendEncode(buf[:0], m, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"init", "ack"} {
		in, err := Encode(benchFrames()[name], nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Decode(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
