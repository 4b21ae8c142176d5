package twilsock

import "testing"

func TestQuickRoundTrip(t *testing.T) {
	b, err := Encode(NewClientClose(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 101 {
		t.Fatalf("close frame is %d bytes, the SDK's is 101: %q", len(b), b)
	}
	f, err := Decode(b)
	if err != nil || f.Header.Method != "close" {
		t.Fatal(f, err)
	}
}
