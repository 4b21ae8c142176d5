package twilsock

import "strings"

// Headers as Twilio's JavaScript clients (twilsock 1.0.2, @twilio/conversations
// 3.0.1) wrote them on the wire, as recorded in the interop transcript
// (docs/protocol.md, "Recorded frames"). The transcript abbreviates the
// 466-character tokens; tok466 stands in for them so that every header keeps
// the byte length its magic line announced.
var tok466 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImN0eSI6InR3aWxpby1mcGE7dj0xIn0." +
	strings.Repeat("x", 466-68-1-43) + "." + strings.Repeat("s", 43)

type sdkFrame struct {
	name   string
	magicN int // the length the SDK's magic line announced
	header string
}

var sdkFrames = []sdkFrame{
	{"close", 81, `{"id":"TM60d109b0-d22d-4aff-be79-afbf5c503846","method":"close","payload_size":0}`},
	{"ack", 147, `{"id":"TM04737660235f408d97d2954af4baa01d","method":"reply","payload_type":"application/json","status":{"code":200,"status":"OK"},"payload_size":0}`},
	{"update", 559, `{"id":"TM6642956e-bff4-4b38-ae7f-f3c72dbce02a","method":"update","token":"` + tok466 + `","payload_size":0}`},
	{"telemetry", 175, `{"id":"TMcea782a1-1e44-42ad-9330-94da5bc6b3ca","method":"telemetry.v1","events":[{"start":-52,"end":0,"title":"Establish WebSocket connection","details":""}],"payload_size":0}`},
	{"telemetry two events", 251, `{"id":"TM81949014-d917-4ca2-b511-51b49e057b35","method":"telemetry.v1","events":[{"start":-347,"end":-338,"title":"Send Twilsock init","details":"Succeeded"},{"start":-7,"end":0,"title":"Establish WebSocket connection","details":""}],"payload_size":0}`},
	{"init", 801, `{"id":"TM605b7649-16f7-4f95-a0fc-4b5fac45db50","method":"init","token":"` + tok466 + `","continuation_token":null,"metadata":{"ver":"1.0.2","env":"Node.js","envv":"20.20.2","os":"Linux","osv":"unknown","osa":64,"sdk":"js-default"},"registrations":null,"tweaks":null,"capabilities":["client_update","offline_storage","telemetry.v1"],"payload_size":0}`},
	{"re-init", 838, `{"id":"TM8d0f28d7-6456-49f3-a851-6f5619d7f84a","method":"init","token":"` + tok466 + `","continuation_token":"CT-28cbe63f-095d-41d8-85d9-dc400d3f2ccd","metadata":{"ver":"1.0.2","env":"Node.js","envv":"20.20.2","os":"Linux","osv":"unknown","osa":64,"sdk":"js-default"},"registrations":null,"tweaks":null,"capabilities":["client_update","offline_storage","telemetry.v1"],"payload_size":0}`},
	{"conversations init", 1053, `{"id":"TM81190e45-5217-461a-980a-d925f9040c2c","method":"init","token":"` + tok466 + `","continuation_token":null,"metadata":{"ver":"1.0.2","env":"Node.js","envv":"20.20.2","os":"Linux","osv":"unknown","osa":64,"type":"conversations","sdk":"JS","sdkv":"3.0.1"},"registrations":[{"product":"ip_messaging","type":"ers","notification_protocol_version":0,"message_types":["twilio.ipmsg.typing_indicator","twilio.sync.event","com.twilio.rtd.cds.document","com.twilio.rtd.cds.list","com.twilio.rtd.cds.map"]}],"tweaks":null,"capabilities":["client_update","offline_storage","telemetry.v1"],"payload_size":0}`},
	{"message", 329, `{"id":"TM76363316-126f-4981-a374-9fbe60f0a2ce","method":"message","active_grant":"ip_messaging","payload_type":"application/json; charset=utf-8","http_request":{"host":"aim.us1.twilio.com","path":"/Client/v2/Configuration","method":"GET","params":{},"headers":{"Content-Type":"application/json; charset=utf-8"}},"payload_size":0}`},
}

// Server frames the SDK accepted in the transcript (the recording server wrote
// method before id; order does not matter to the SDK).
var (
	serverInitReply = `{"method":"reply","id":"TM605b7649-16f7-4f95-a0fc-4b5fac45db50","payload_type":"application/json","status":{"code":200,"status":"OK"},"continuation_token":"CT-28cbe63f-095d-41d8-85d9-dc400d3f2ccd","continuation_token_status":{"reused":false,"restored":false,"restore_error":null,"invalid":false,"expired":false},"capabilities":["client_update","offline_storage","telemetry.v1"],"offline_storage":{"ip_messaging":{"storage_id":"emulator-storage"}},"init_registrations":[],"debug_info":{"host":"convctl-emulator","conn":1},"payload_size":0}`
	serverReject    = `{"method":"reply","id":"TMfef43017-1197-42cb-a315-1d666ce3d2fe","payload_type":"application/json","status":{"code":401,"status":"Unauthorized","errorCode":20107,"description":"Invalid Access Token signature"},"payload_size":0}`
	serverClose410  = `{"method":"close","id":"TM804b5bc16de8452aa468bd4ade6e7402","status":{"code":410,"status":"Token expired","errorCode":20104,"description":"Access Token expired or expiration date invalid"},"payload_size":0}`
	serverClose308  = `{"method":"close","id":"TM16dd68eb30ab46159cea99655d17b191","status":{"code":308,"status":"Permanent Redirect"},"payload_type":"application/json","payload_size":68}`
	serverClose308P = `{"backoff_policy":{"reconnect_min_ms":3000,"reconnect_max_ms":5000}}`
	serverUpstream  = `{"method":"reply","id":"TM76363316-126f-4981-a374-9fbe60f0a2ce","payload_type":"application/json","status":{"code":200,"status":"OK"},"http_status":{"code":404,"status":"Not Found"},"http_headers":{"Content-Type":"application/json"},"payload_size":175}`
	serverUpstreamP = `{"status":404,"message":"convctl emulator: no upstream for GET aim.us1.twilio.com/Client/v2/Configuration","code":20404,"more_info":"https://www.twilio.com/docs/errors/20404"}`
	serverUpdate    = `{"method":"client_update","id":"TM04737660235f408d97d2954af4baa01d","client_update_type":"token_about_to_expire","payload_size":0}`
)

// frame assembles a frame by hand, the way the SDK does: magic, the header's
// byte length, CRLF, header, CRLF, payload.
func frame(header, payload string) []byte {
	return []byte(Magic + itoa(len(header)) + "\r\n" + header + "\r\n" + payload)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
