package twilsock

import (
	"regexp"
	"slices"
	"testing"
)

func TestNewIDIsSDKShaped(t *testing.T) {
	re := regexp.MustCompile(`^TM[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("id %q is not TM + a version-4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestActionForClose(t *testing.T) {
	for code, want := range map[int]CloseAction{
		308: CloseActionReconnect, 401: CloseActionDisconnect, 410: CloseActionDisconnect,
		406: CloseActionFatal, 417: CloseActionFatal, 500: CloseActionReconnect, 503: CloseActionReconnect, 0: CloseActionReconnect,
	} {
		if got := ActionForClose(code); got != want {
			t.Errorf("ActionForClose(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	codes := Codes()
	if !slices.IsSorted(codes) {
		t.Errorf("Codes() not ascending: %v", codes)
	}
	if len(codes) != len(catalogue) {
		t.Errorf("Codes() lists %d codes, the catalogue holds %d", len(codes), len(catalogue))
	}
	for _, c := range codes {
		e, ok := Lookup(c)
		if !ok || e.Code != c || e.Name == "" || e.Cause == "" || Describe(c) != e.Name {
			t.Errorf("code %d: %+v %v", c, e, ok)
		}
	}
	// The SDK shows the description as the connectionError message; these are
	// the words the transcript recorded.
	for code, want := range map[int]string{
		20107: "Invalid Access Token signature",
		20104: "Access Token expired or expiration date invalid",
		99999: "Authentication Failed",
	} {
		if got := Describe(code); got != want {
			t.Errorf("Describe(%d) = %q, want %q", code, got, want)
		}
	}
	if _, ok := Lookup(99999); ok {
		t.Error("Lookup of an unknown code succeeded")
	}
}

func TestStatuses(t *testing.T) {
	if s := DenyStatus(20104); s.Code != 401 || s.Status != "Unauthorized" || s.ErrorCode != 20104 || s.Description != Describe(20104) || s.OK() {
		t.Errorf("DenyStatus: %+v", s)
	}
	if s := OKStatus(); !s.OK() {
		t.Errorf("OKStatus not OK: %+v", s)
	}
	var nilStatus *Status
	if nilStatus.OK() {
		t.Error("a nil status is OK")
	}
	for code, want := range map[int]Status{
		308: {Code: 308, Status: "Permanent Redirect"},
		401: {Code: 401, Status: "Unauthorized"},
		410: {Code: 410, Status: "Token expired", ErrorCode: 20104, Description: "Access Token expired or expiration date invalid"},
		406: {Code: 406, Status: "Not Acceptable"},
		417: {Code: 417, Status: "Expectation Failed"},
		503: {Code: 503, Status: "Closed"},
	} {
		if got := CloseStatus(code); got != want {
			t.Errorf("CloseStatus(%d) = %+v, want %+v", code, got, want)
		}
	}
	h, p, err := NewServerClose(CloseStatus(401), nil)
	if err != nil || p != nil || h.PayloadType != "" || h.Method != MethodClose || h.Status.Code != 401 {
		t.Errorf("close without policy: %+v %q %v", h, p, err)
	}
}
