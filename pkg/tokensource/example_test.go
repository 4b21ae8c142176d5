package tokensource_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/convctl/convctl/pkg/tokensource"
)

func Example() {
	env := map[string]string{"TWILIO_TOKEN": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBQzEifQ.c2ln\n"}
	spec := tokensource.Spec{Env: "TWILIO_TOKEN", Getenv: func(k string) string { return env[k] }}
	src, err := spec.Source()
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := src.Fetch(context.Background())
	fmt.Println(src.Name(), tok, err)

	_, err = tokensource.Spec{File: "token.txt", Env: "TWILIO_TOKEN"}.Source()
	fmt.Println(err, errors.Is(err, tokensource.ErrInput))
	// Output:
	// --token-env TWILIO_TOKEN eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJBQzEifQ.c2ln <nil>
	// --token-file and --token-env both given; pick one true
}
