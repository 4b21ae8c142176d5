package inspect_test

import (
	"fmt"
	"time"

	"github.com/convctl/convctl/pkg/inspect"
)

func ExampleInspect() {
	secret := []byte("example-secret")
	issued := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	token, err := inspect.Mint(inspect.MintOptions{
		AccountSID:     "AC0123456789abcdef0123456789abcdef",
		APIKeySID:      "SKfedcba9876543210fedcba9876543210",
		Secret:         secret,
		Identity:       "alice",
		ChatServiceSID: "IS00112233445566778899aabbccddeeff",
		Now:            issued,
	})
	if err != nil {
		panic(err)
	}

	// Two hours later, with the wrong secret: every problem is reported.
	r := inspect.Inspect(token, inspect.WithSecret([]byte("not-the-secret")), inspect.WithAt(issued.Add(2*time.Hour)))
	fmt.Println("valid:", r.Valid, "signature:", r.Signature)
	for _, f := range r.Findings {
		fmt.Println(f.Severity, f.Code, *f.TwilioError, f.Message)
	}
	// Output:
	// valid: false signature: invalid
	// error bad_signature 20107 signature does not match the secret given (HS256)
	// error expired 20104 token expired 1h0m0s ago (exp 2026-11-25T11:00:00Z)
}

func ExampleInspector() {
	// One Inspector judges many tokens, from many goroutines.
	in := inspect.NewInspector(inspect.WithProduct(inspect.ProductAny), inspect.WithMinRemaining(5*time.Minute))
	for _, tok := range []string{"not-a-token", "Bearer abc.def.ghi"} {
		r := in.Inspect(tok)
		fmt.Println(r.FirstError().Code, "-", r.FirstError().Message)
	}
	// Output:
	// malformed - token is not a JWT: it has no dots
	// malformed - token starts with "Bearer "
}
