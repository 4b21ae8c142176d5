package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzFrame decodes arbitrary bytes; whatever decodes must encode, and the
// encoding must decode to the same frame and encode to the same bytes again.
// Nothing may panic, and every error must be a *FrameError inside the input.
func FuzzFrame(f *testing.F) {
	for _, sf := range sdkFrames {
		f.Add(frame(sf.header, ""))
	}
	for _, h := range []struct{ hdr, payload string }{
		{serverInitReply, ""}, {serverReject, ""}, {serverClose410, ""}, {serverClose308, serverClose308P},
		{serverUpstream, serverUpstreamP}, {serverUpdate, ""},
		{`{"id":"TM1","method":"notification","payload_type":"text/plain","payload_size":4}`, "héé"[:4]},
		{`{"id":"TMé","method":"m","tweaks":{ "a" : [1, 2.50, 1e400] },"payload_size":0}`, ""},
		{`{"id":"x","method":"m","METHOD":"","continuation_token":null,"status":null,"payload_size":0}`, ""},
		{`{"id":"\u2028<&>\ud800","method":"m","http_request":{"params":{"n":12345678901234567890}}}`, ""},
	} {
		f.Add(frame(h.hdr, h.payload))
	}
	f.Add([]byte("TWILSOCK V3.0 9999999\r\n"))
	f.Add([]byte("TWILSOCK V3.0 2\r\n{}\r\n"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, in []byte) {
		fr, err := Decode(in)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FrameError: %v", err, err)
			}
			if fe.Offset < 0 || fe.Offset > len(in) {
				t.Fatalf("offset %d outside the %d-byte input: %v", fe.Offset, len(in), err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error matches neither sentinel: %v", err)
			}
			return
		}
		if fr.Header.PayloadSize != len(fr.Payload) {
			t.Fatalf("payload_size %d but %d payload bytes", fr.Header.PayloadSize, len(fr.Payload))
		}
		enc1, err := Encode(&fr.Header, fr.Payload)
		if err != nil {
			// Re-encoding may escape what arrived raw (invalid UTF-8, control
			// characters) and outgrow the limit; nothing else may fail.
			if errors.Is(err, ErrTooLarge) {
				return
			}
			t.Fatalf("decoded frame does not encode: %v\n%q", err, in)
		}
		fr2, err := Decode(enc1)
		if err != nil {
			t.Fatalf("encoding does not decode: %v\n%q", err, enc1)
		}
		if fr2.Header.Method != fr.Header.Method || fr2.Header.ID != fr.Header.ID || !bytes.Equal(fr2.Payload, fr.Payload) {
			t.Fatalf("round trip changed the frame:\n%+v\n%+v", fr.Header, fr2.Header)
		}
		enc2, err := Encode(&fr2.Header, fr2.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding is not stable:\n%q\n%q", enc1, enc2)
		}
	})
}

// FuzzHeaderDecoder checks the fast header decoder against encoding/json:
// whenever it accepts a header, encoding/json accepts it too and decodes the
// same value.
func FuzzHeaderDecoder(f *testing.F) {
	for _, sf := range sdkFrames {
		f.Add([]byte(sf.header))
	}
	for _, h := range []string{serverInitReply, serverReject, serverClose410, serverClose308, serverUpstream, serverUpdate,
		`{"id":"x","method":"m","Method":"M"}`, `{"id":"x","id":"y"}`, `{"id":null,"status":null,"metadata":null}`,
		`{"tweaks":{"a":[1,-2.5e3,true,false,null,"\u00e9\n"]},"debug_info":"x"}`, `{"payload_size":-0}`, `{"payload_size":01}`,
		`{"capabilities":["a",null,"b"],"registrations":[{"message_types":[]}],"init_registrations":[]}`,
		`{"events":[{"start":1,"end":2.5}]}`, `{"http_request":{"params":{"a":1}},"http_headers":{"a":"b"},"offline_storage":{"x":{"storage_id":"s"}}}`,
		`{"ſtatus":{}}`, `{"status":{"code":200,"Code":1}}`, "{\"id\":\"\xff\"}", `{"id":"é"} `, `{"a":1}x`,
	} {
		f.Add([]byte(h))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fast Header
		if !decodeHeader(raw, &fast) {
			return
		}
		var slow Header
		if err := json.Unmarshal(raw, &slow); err != nil {
			t.Fatalf("fast decoder accepted what encoding/json refuses (%v): %q", err, raw)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decoders disagree on %q:\nfast %#v\nslow %#v", raw, fast, slow)
		}
	})
}
