package twilsock

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestFixturesMatchTheirMagic(t *testing.T) {
	if len(tok466) != 466 {
		t.Fatalf("tok466 is %d bytes", len(tok466))
	}
	for _, f := range sdkFrames {
		if len(f.header) != f.magicN {
			t.Errorf("%s: header is %d bytes, the SDK's magic said %d", f.name, len(f.header), f.magicN)
		}
	}
}

// The SDK's own frames, decoded and encoded again, come out byte for byte as
// the SDK wrote them: same field order, payload_size last, same length.
func TestEncodeReproducesSDKFrames(t *testing.T) {
	for _, sf := range sdkFrames {
		if sf.name == "message" {
			continue // covered below: params {} and field order differ by design
		}
		t.Run(sf.name, func(t *testing.T) {
			in := frame(sf.header, "")
			f, err := Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			var msg Message = &f.Header
			if f.Header.Method == MethodInit {
				// Init keeps the null fields the SDK writes.
				var ini Init
				if err := json.Unmarshal(f.RawHeader, &ini); err != nil {
					t.Fatal(err)
				}
				msg = &ini
			}
			out, err := Encode(msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, in) {
				t.Errorf("re-encoded\n got %q\nwant %q", out, in)
			}
		})
	}
}

func TestEncodeExactBytes(t *testing.T) {
	withID := func(h *Header, id string) *Header { h.ID = id; return h }
	close308, p308, err := NewServerClose(CloseStatus(308), &BackoffPolicy{ReconnectMinMS: 3000, ReconnectMaxMS: 5000})
	if err != nil {
		t.Fatal(err)
	}
	close308.ID = "TM16dd68eb30ab46159cea99655d17b191"
	ini := NewInit(tok466, nil, Metadata{Ver: "1.0.2", Env: "Node.js", EnvV: "20.20.2", OS: "Linux", OSV: "unknown", OSA: 64, SDK: "js-default"}, nil)
	ini.ID = "TM605b7649-16f7-4f95-a0fc-4b5fac45db50"
	ct := "CT-28cbe63f-095d-41d8-85d9-dc400d3f2ccd"
	reinit := NewInit(tok466, &ct, ini.Metadata, nil)
	reinit.ID = "TM8d0f28d7-6456-49f3-a851-6f5619d7f84a"
	convMD := Metadata{Ver: "1.0.2", Env: "Node.js", EnvV: "20.20.2", OS: "Linux", OSV: "unknown", OSA: 64, Type: "conversations", SDK: "JS", SDKV: "3.0.1"}
	conv := NewInit(tok466, nil, convMD, []Registration{{Product: ProductConversations, Type: "ers", MessageTypes: []string{
		"twilio.ipmsg.typing_indicator", "twilio.sync.event", "com.twilio.rtd.cds.document", "com.twilio.rtd.cds.list", "com.twilio.rtd.cds.map"}}})
	conv.ID = "TM81190e45-5217-461a-980a-d925f9040c2c"
	tel := &Header{Base: Base{ID: "TMcea782a1-1e44-42ad-9330-94da5bc6b3ca", Method: MethodTelemetry},
		Events: []TelemetryEvent{{Start: -52, End: 0, Title: "Establish WebSocket connection"}}}

	sdk := func(name string) string {
		for _, f := range sdkFrames {
			if f.name == name {
				return f.header
			}
		}
		panic(name)
	}
	tests := []struct {
		name    string
		msg     Message
		payload string
		want    string // header
	}{
		{"client close", withID(NewClientClose(), "TM60d109b0-d22d-4aff-be79-afbf5c503846"), "", sdk("close")},
		{"ack", NewAck("TM04737660235f408d97d2954af4baa01d"), "", sdk("ack")},
		{"update", withID(NewUpdate(tok466), "TM6642956e-bff4-4b38-ae7f-f3c72dbce02a"), "", sdk("update")},
		{"telemetry", tel, "", sdk("telemetry")},
		{"init", ini, "", sdk("init")},
		{"re-init", reinit, "", sdk("re-init")},
		{"conversations init", conv, "", sdk("conversations init")},
		{"server close 308", close308, string(p308),
			`{"id":"TM16dd68eb30ab46159cea99655d17b191","method":"close","payload_type":"application/json","status":{"code":308,"status":"Permanent Redirect"},"payload_size":68}`},
		{"server close 410", withID(&Header{Base: Base{Method: MethodClose}, Status: ptr(CloseStatus(410))}, "TM1"), "",
			`{"id":"TM1","method":"close","status":{"code":410,"status":"Token expired","errorCode":20104,"description":"Access Token expired or expiration date invalid"},"payload_size":0}`},
		{"deny", NewReply("TM2", DenyStatus(ErrInvalidSignature)), "",
			`{"id":"TM2","method":"reply","payload_type":"application/json","status":{"code":401,"status":"Unauthorized","errorCode":20107,"description":"Invalid Access Token signature"},"payload_size":0}`},
		{"client_update", withID(NewClientUpdate(ClientUpdateTokenAboutToExpire), "TM3"), "",
			`{"id":"TM3","method":"client_update","client_update_type":"token_about_to_expire","payload_size":0}`},
		{"init reply", NewInitReply("TM4", "CT-1", ContinuationTokenStatus{}, DefaultCapabilities,
			map[string]OfflineStorage{"ip_messaging": {StorageID: "s"}}, nil), "",
			`{"id":"TM4","method":"reply","payload_type":"application/json","status":{"code":200,"status":"OK"},"continuation_token":"CT-1","continuation_token_status":{"reused":false,"restored":false,"restore_error":null,"invalid":false,"expired":false},"capabilities":["client_update","offline_storage","telemetry.v1"],"offline_storage":{"ip_messaging":{"storage_id":"s"}},"init_registrations":[],"payload_size":0}`},
		{"no HTML escaping", NewReply("TM5", Status{Code: 400, Status: "Bad Request", Description: "<a> & <b>"}), "",
			`{"id":"TM5","method":"reply","payload_type":"application/json","status":{"code":400,"status":"Bad Request","description":"<a> & <b>"},"payload_size":0}`},
		{"text payload", &Header{Base: Base{ID: "TM6", Method: MethodNotification, PayloadType: "text/plain"}, MessageType: "m"}, "héllo",
			`{"id":"TM6","method":"notification","payload_type":"text/plain","message_type":"m","payload_size":6}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Encode(tt.msg, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			want := frame(tt.want, tt.payload)
			if !bytes.Equal(got, want) {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The brief's own example: the SDK's close frame is 101 bytes.
func TestClientCloseIs101Bytes(t *testing.T) {
	b, err := Encode(NewClientClose(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 101 || !strings.HasPrefix(string(b), "TWILSOCK V3.0 81\r\n{\"id\":\"TM") ||
		!strings.HasSuffix(string(b), `","method":"close","payload_size":0}`+"\r\n") {
		t.Fatalf("close frame is %d bytes: %q", len(b), b)
	}
}

func TestDecodeSDKFrames(t *testing.T) {
	for _, sf := range sdkFrames {
		f, err := Decode(frame(sf.header, ""))
		if err != nil {
			t.Fatalf("%s: %v", sf.name, err)
		}
		if string(f.RawHeader) != sf.header || f.Payload != nil || !strings.HasPrefix(f.Header.ID, "TM") {
			t.Errorf("%s: decoded %+v", sf.name, f)
		}
	}
	f, err := Decode(frame(sdkFrames[7].header, ""))
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header
	if h.Method != MethodInit || h.Token != tok466 || h.ContinuationToken != nil || h.Metadata.SDKV != "3.0.1" ||
		h.Metadata.OSA != 64 || len(h.Registrations) != 1 || h.Registrations[0].Product != "ip_messaging" ||
		len(h.Registrations[0].MessageTypes) != 5 || string(h.Tweaks) != "null" || len(h.Capabilities) != 3 {
		t.Errorf("conversations init: %+v", h)
	}
	f, _ = Decode(frame(sdkFrames[6].header, ""))
	if f.Header.ContinuationToken == nil || *f.Header.ContinuationToken != "CT-28cbe63f-095d-41d8-85d9-dc400d3f2ccd" {
		t.Errorf("re-init continuation token: %v", f.Header.ContinuationToken)
	}
	f, _ = Decode(frame(sdkFrames[8].header, ""))
	if r := f.Header.HTTPRequest; f.Header.ActiveGrant != "ip_messaging" || r == nil || r.Host != "aim.us1.twilio.com" ||
		r.Path != "/Client/v2/Configuration" || r.Method != "GET" || r.Headers["Content-Type"] != "application/json; charset=utf-8" {
		t.Errorf("message: %+v %+v", f.Header, r)
	}
	f, _ = Decode(frame(sdkFrames[4].header, ""))
	if ev := f.Header.Events; len(ev) != 2 || ev[0].Start != -347 || ev[0].Details != "Succeeded" {
		t.Errorf("telemetry events: %+v", ev)
	}
}

func TestDecodeServerFrames(t *testing.T) {
	f, err := Decode(frame(serverInitReply, ""))
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header
	if !h.Status.OK() || h.ContinuationToken == nil || *h.ContinuationToken != "CT-28cbe63f-095d-41d8-85d9-dc400d3f2ccd" ||
		h.ContinuationTokenStatus == nil || h.ContinuationTokenStatus.Reused || h.OfflineStorage["ip_messaging"].StorageID != "emulator-storage" ||
		string(h.DebugInfo) != `{"host":"convctl-emulator","conn":1}` {
		t.Errorf("init reply: %+v", h)
	}
	f, _ = Decode(frame(serverReject, ""))
	if s := f.Header.Status; s.OK() || s.Code != 401 || s.ErrorCode != ErrInvalidSignature || s.Description != Describe(ErrInvalidSignature) {
		t.Errorf("reject: %+v", s)
	}
	f, _ = Decode(frame(serverClose410, ""))
	if s := f.Header.Status; s.Code != CloseTokenExpired || s.ErrorCode != ErrTokenExpired || *s != CloseStatus(410) {
		t.Errorf("close 410: %+v", s)
	}
	f, err = Decode(frame(serverClose308, serverClose308P))
	if err != nil {
		t.Fatal(err)
	}
	var cp ClosePayload
	if err := json.Unmarshal(f.Payload, &cp); err != nil || cp.BackoffPolicy == nil || cp.BackoffPolicy.ReconnectMinMS != 3000 || ActionForClose(f.Header.Status.Code) != CloseActionReconnect {
		t.Errorf("close 308: %+v %v", cp, err)
	}
	f, err = Decode(frame(serverUpstream, serverUpstreamP))
	if err != nil {
		t.Fatal(err)
	}
	var re RESTError
	if err := json.Unmarshal(f.Payload, &re); err != nil || f.Header.HTTPStatus.Code != 404 || re.Code != ErrUpstreamNotFound || len(f.Payload) != 175 {
		t.Errorf("upstream reply: %+v %+v %v", f.Header.HTTPStatus, re, err)
	}
	f, _ = Decode(frame(serverUpdate, ""))
	if f.Header.ClientUpdateType != ClientUpdateTokenAboutToExpire {
		t.Errorf("client_update: %+v", f.Header)
	}
}

func TestDecodeMalformed(t *testing.T) {
	const close81 = `{"id":"TM60d109b0-d22d-4aff-be79-afbf5c503846","method":"close","payload_size":0}`
	// "TWILSOCK V3.0 81\r\n" is 18 bytes: the header starts at 18, its CRLF at 99.
	const (
		synErr      = `{"id":"TM1","method":"close",}`
		early       = `{"id":"TM1","method":"clos`
		methodNum   = `{"id":"TM1","method":5}`
		noMethod    = `{"id":"TM1","payload_size":0}`
		emptyMethod = `{"id":"TM1","method":""}`
		negSize     = `{"id":"TM1","method":"m","payload_size":-1}`
		bigSize     = `{"id":"TM1","method":"m","payload_size":9999999}`
		size5       = `{"id":"TM1","method":"m","payload_size":5}`
		size0       = `{"id":"TM1","method":"m","payload_size":0}`
		sizeStr     = `{"id":"TM1","method":"m","payload_size":"0"}`
	)
	// hdrAt is the frame offset of byte i of header h.
	hdrAt := func(h string, i int) int { return len(Magic) + len(itoa(len(h))) + 2 + i }
	tests := []struct {
		name   string
		in     string
		offset int
		large  bool // ErrTooLarge rather than only ErrMalformed
		reason string
	}{
		{"empty", "", 0, false, "ends inside the magic"},
		{"short magic", "TWILSOCK", 8, false, "ends inside the magic"},
		{"lower case", "twilsock V3.0 81\r\n", 0, false, "want 'T'"},
		{"other version", "TWILSOCK V3.1 81\r\n" + close81 + "\r\n", 12, false, "want '0'"},
		{"no length", "TWILSOCK V3.0 ", 14, false, "ends before the header length"},
		{"length not a number", "TWILSOCK V3.0 x1\r\n", 14, false, "want a decimal header length"},
		{"signed length", "TWILSOCK V3.0 +81\r\n", 14, false, "want a decimal header length"},
		{"eight digits", "TWILSOCK V3.0 12345678\r\n", 21, true, "more than 7 digits"},
		{"over the limit", "TWILSOCK V3.0 65537\r\n{", 14, true, "exceeds the limit"},
		{"LF only", "TWILSOCK V3.0 81\n" + close81, 16, false, `want '\r' after the header length, got '\n'`},
		{"CR only", "TWILSOCK V3.0 81\r" + close81, 17, false, `want '\n' after the header length`},
		{"space before CRLF", "TWILSOCK V3.0 81 \r\n", 16, false, `want '\r'`},
		{"ends after length", "TWILSOCK V3.0 81", 16, false, "ends where"},
		{"tiny header", "TWILSOCK V3.0 1\r\n{\r\n", 17, false, "cannot hold a JSON object"},
		{"truncated header", "TWILSOCK V3.0 81\r\n" + close81[:40], 58, false, "ends inside the 81-byte header"},
		{"no CRLF after header", "TWILSOCK V3.0 81\r\n" + close81, 99, false, `ends where \r\n belongs after the header`},
		{"LF after header", "TWILSOCK V3.0 81\r\n" + close81 + "\n\n", 99, false, `want '\r' after the header`},
		{"CR CR after header", "TWILSOCK V3.0 81\r\n" + close81 + "\r\r", 100, false, `want '\n' after the header`},
		// 81 characters but 83 bytes: the length must count bytes.
		{"length counts characters", "TWILSOCK V3.0 81\r\n" + `{"id":"TMé","method":"close","description":"ü","payload_size":0,"x":"0123456789"}` + "\r\n", 99, false, `want '\r' after the header, got '"'`},
		{"header not an object", "TWILSOCK V3.0 2\r\n[]\r\n", 17, false, "must be a JSON object"},
		{"syntax error", string(frame(synErr, "")), hdrAt(synErr, 29), false, "not valid JSON: invalid character '}'"},
		{"header ends early", string(frame(early, "")), hdrAt(early, len(early)), false, "unexpected end"},
		{"method not a string", string(frame(methodNum, "")), hdrAt(methodNum, 21), false, `field "method" holds a JSON number`},
		{"no method", string(frame(noMethod, "")), hdrAt(noMethod, 0), false, "no method"},
		{"empty method", string(frame(emptyMethod, "")), hdrAt(emptyMethod, 0), false, "no method"},
		{"negative payload_size", string(frame(negSize, "")), len(frame(negSize, "")), false, "negative payload_size -1"},
		{"payload_size too big", string(frame(bigSize, "")), len(frame(bigSize, "")), true, "exceeds the limit"},
		{"payload shorter than said", string(frame(size5, "abc")), len(frame(size5, "")), false, "says 5 bytes but 3 follow"},
		{"payload longer than said", string(frame(size0, "abc")), len(frame(size0, "")), false, "says 0 bytes but 3 follow"},
		{"payload_size a string", string(frame(sizeStr, "")), hdrAt(sizeStr, 42), false, `field "payload_size" holds a JSON string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("decoded %q without error: %+v", tt.in, f)
			}
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not a *FrameError", err, err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error matches neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			if tt.large != errors.Is(err, ErrTooLarge) {
				t.Errorf("errors.Is(ErrTooLarge) = %v, want %v: %v", !tt.large, tt.large, err)
			}
			if fe.Offset != tt.offset {
				t.Errorf("offset %d, want %d: %v", fe.Offset, tt.offset, err)
			}
			if fe.Offset > len(tt.in) {
				t.Errorf("offset %d is past the frame's %d bytes", fe.Offset, len(tt.in))
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "twilsock frame: byte ") {
				t.Errorf("error %q does not name the byte", err)
			}
		})
	}
}

// A header longer than MaxHeaderSize is refused on the strength of its length
// line alone: before Decode looks for it, let alone copies it anywhere.
func TestDecodeRefusesOversizedHeaderBeforeAllocating(t *testing.T) {
	in := []byte("TWILSOCK V3.0 9999999\r\n{")
	_, err := Decode(in)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	in = []byte("TWILSOCK V3.0 65537\r\n" + strings.Repeat(" ", 70000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := Decode(in); !errors.Is(err, ErrTooLarge) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if perCall := (after.TotalAlloc - before.TotalAlloc) / 100; perCall > 1024 {
		t.Errorf("refusing an oversized header allocated %d bytes per call", perCall)
	}
	// Exactly the limit is fine as far as the length goes.
	hdr := `{"id":"TM1","method":"m","pad":"` + strings.Repeat("a", MaxHeaderSize-34) + `"}`
	if len(hdr) != MaxHeaderSize {
		t.Fatalf("test header is %d bytes", len(hdr))
	}
	if _, err := Decode(frame(hdr, "")); err != nil {
		t.Errorf("a header of exactly MaxHeaderSize: %v", err)
	}
}

func TestEncodeRefusesOversized(t *testing.T) {
	big := NewReply("TM1", Status{Code: 400, Description: strings.Repeat("x", MaxHeaderSize)})
	if _, err := Encode(big, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized header: %v", err)
	}
	if _, err := Encode(NewAck("TM1"), make([]byte, MaxPayloadSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized payload: %v", err)
	}
	if _, err := Encode(&Header{}, nil); err == nil {
		t.Error("a header with no method encoded")
	}
	if _, err := Encode(nil, nil); err == nil {
		t.Error("a nil header encoded")
	}
	dst := []byte("keep")
	if got, err := AppendEncode(dst, &Header{}, nil); err == nil || string(got) != "keep" {
		t.Errorf("AppendEncode on error returned %q, %v", got, err)
	}
}

func TestUTF8LengthsAreBytes(t *testing.T) {
	desc := "Zürich — 東京 🎉" // 13 characters, 23 bytes
	if n := len(desc); n != 23 {
		t.Fatalf("test string is %d bytes", n)
	}
	b, err := Encode(NewReply("TM1", Status{Code: 401, Status: "Unauthorized", Description: desc}), []byte("ünï"))
	if err != nil {
		t.Fatal(err)
	}
	hdr := `{"id":"TM1","method":"reply","payload_type":"application/json","status":{"code":401,"status":"Unauthorized","description":"` + desc + `"},"payload_size":5}`
	want := Magic + itoa(len(hdr)) + "\r\n" + hdr + "\r\nünï"
	if string(b) != want {
		t.Fatalf("\n got %q\nwant %q", b, want)
	}
	if len(hdr) != 166 || !strings.HasPrefix(want, "TWILSOCK V3.0 166\r\n") {
		t.Fatalf("header length is not the byte count: %q", want[:20])
	}
	f, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Header.Status.Description != desc || string(f.Payload) != "ünï" || f.Header.PayloadSize != 5 {
		t.Errorf("decoded %+v payload %q", f.Header.Status, f.Payload)
	}
	// The same frame with N counted in characters (10 fewer) is refused.
	short := strings.Replace(string(b), "V3.0 166", "V3.0 156", 1)
	if _, err := Decode([]byte(short)); !errors.Is(err, ErrMalformed) {
		t.Errorf("character-counted length accepted: %v", err)
	}
}

func TestDecodeAliasesInput(t *testing.T) {
	in := frame(serverClose308, serverClose308P)
	f, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if &f.Payload[0] != &in[len(in)-len(serverClose308P)] || &f.RawHeader[0] != &in[19] {
		t.Error("RawHeader and Payload do not alias the input")
	}
}

func TestIsJSONPayload(t *testing.T) {
	for pt, want := range map[string]bool{
		"": true, "application/json": true, "application/json; charset=utf-8": true,
		"text/plain": false, "text/plain; charset=utf-8": false, "application/octet-stream": false,
	} {
		if got := IsJSONPayload(pt); got != want {
			t.Errorf("IsJSONPayload(%q) = %v", pt, got)
		}
	}
}

// Every header the SDK and the service were seen writing takes the fast
// path, and decodes exactly as encoding/json decodes it.
func TestFastHeaderDecoderTakesRealHeaders(t *testing.T) {
	hdrs := []string{serverInitReply, serverReject, serverClose410, serverClose308, serverUpstream, serverUpdate}
	for _, sf := range sdkFrames {
		hdrs = append(hdrs, sf.header)
	}
	for _, h := range hdrs {
		var fast, slow Header
		if !decodeHeader([]byte(h), &fast) {
			t.Errorf("fast path refused %.80s…", h)
			continue
		}
		if err := json.Unmarshal([]byte(h), &slow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Errorf("decoders disagree on %.80s…:\nfast %+v\nslow %+v", h, fast, slow)
		}
	}
	// And hands what it does not handle to encoding/json.
	for _, h := range []string{`{"id":"a\"b","method":"m"}`, `{"Method":"m"}`, `{"method":"m","method":"n"}`,
		`{"method":"m","payload_size":1.0}`, "{\"method\":\"\xff\"}"} {
		var fast Header
		if decodeHeader([]byte(h), &fast) {
			t.Errorf("fast path took %q", h)
		}
	}
}
