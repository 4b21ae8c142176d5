package probe_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/probe"
)

// A token signed with the wrong secret, against a local Twilsock server: the
// report says it was denied, why, and what to fix.
func Example() {
	secret := []byte("the API key's secret, 32 bytes..")
	em := emulator.New(emulator.Config{Secret: secret})
	srv := httptest.NewServer(em)
	defer srv.Close()
	defer em.Shutdown(context.Background())

	tok, _ := inspect.Mint(inspect.MintOptions{
		AccountSID: "AC0123456789abcdef0123456789abcdef", APIKeySID: "SK0123456789abcdef0123456789abcdef",
		Secret: []byte("some other secret, not the key's"), Identity: "alice",
		ChatServiceSID: "IS0123456789abcdef0123456789abcdef",
	})
	rep, err := probe.Run(context.Background(), probe.Config{
		URL:     "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS,
		Token:   func(context.Context) (string, error) { return tok, nil },
		Secret:  secret, // lets the report check the signature itself
		Timeout: 5 * time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Outcome, rep.States[0].State, rep.States[1].State)
	fmt.Println(rep.Cause.Kind, *rep.Cause.HTTPStatus, *rep.Cause.TwilioError)
	fmt.Println(strings.Contains(rep.Cause.Hint, "does not verify with this key"))
	// Output:
	// denied connecting denied
	// token_rejected 401 20107
	// true
}
