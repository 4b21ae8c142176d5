package tokensource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer answers the ways real token endpoints do, and some ways they
// break. It listens on 127.0.0.1 and stops with the test.
func tokenServer(t *testing.T) *httptest.Server {
	t.Helper()
	var count atomic.Int32
	release := make(chan struct{})
	mux := http.NewServeMux()
	text := func(ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			io.WriteString(w, body)
		}
	}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "nope "+tok, code) }
	}
	mux.Handle("/text", text("text/plain", "Bearer "+tok+"\n"))
	mux.Handle("/json", text("application/json", `{"token":"`+tok+`","identity":"alice"}`))
	mux.Handle("/json-as-text", text("text/plain; charset=utf-8", ` {"token":"`+tok+`"}`))
	mux.Handle("/nested", text("application/json", `{"data":{"ttl":3600,"token":"`+tok+`"}}`))
	mux.Handle("/array", text("application/json", `{"data":{"tokens":["`+tok+`"]}}`))
	mux.Handle("/string", text("application/json", `"`+tok+`"`))
	mux.Handle("/missing", text("application/json", `{"access_token":"`+tok+`","expires_in":3600}`))
	mux.Handle("/number", text("application/json", `{"token":12345}`))
	mux.Handle("/emptytoken", text("application/json", `{"token":"  "}`))
	mux.Handle("/badjson", text("application/json", `{"token":`))
	mux.Handle("/twojson", text("application/json", `{"token":"a.b.c"} {"token":"d.e.f"}`))
	mux.Handle("/junk", text("text/html", "<!doctype html><html><body>Sign in</body></html>"))
	mux.Handle("/sentence", text("", "not a token, sorry."))
	mux.Handle("/empty", text("text/plain", ""))
	mux.Handle("/big", text("text/plain", strings.Repeat("a", MaxSize+1)))
	mux.Handle("/500", status(http.StatusInternalServerError))
	mux.Handle("/404", status(http.StatusNotFound))
	mux.Handle("/401", status(http.StatusUnauthorized))
	mux.Handle("/418", status(http.StatusTeapot))
	mux.Handle("/redirect", http.RedirectHandler("/json", http.StatusFound))
	mux.Handle("/loop", http.RedirectHandler("/loop", http.StatusFound))
	mux.HandleFunc("/count", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "tok.%d.sig", count.Add(1))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/cutoff", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "eyJ")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv
}

func TestURL(t *testing.T) {
	srv := tokenServer(t)
	good := []struct {
		path, field, want string
	}{
		{"/text", "", tok},
		{"/json", "", tok},
		{"/json-as-text", "", tok},
		{"/nested", "data.token", tok},
		{"/array", "data.tokens.0", tok},
		{"/string", "", tok},
		{"/redirect", "", tok},
	}
	for _, tt := range good {
		t.Run(tt.path, func(t *testing.T) {
			got, err := fetch(t, Spec{URL: srv.URL + tt.path, Field: tt.field, Client: srv.Client()})
			if got != tt.want || err != nil {
				t.Errorf("Fetch = %q, %v", got, err)
			}
		})
	}

	host := "--token-url " + srv.URL
	bad := []struct {
		path, field string
		want        []string
	}{
		{"/500?key=k3y", "", []string{host + ": token endpoint answered 500 Internal Server Error: check the server's logs"}},
		{"/404", "", []string{"answered 404 Not Found: check the URL's path"}},
		{"/401", "", []string{"answered 401 Unauthorized: the endpoint refused the request"}},
		{"/418", "", []string{"answered 418 I'm a teapot: check the URL and the server"}},
		{"/missing", "", []string{host + `: the JSON answer has no "token": the answer has keys "access_token", "expires_in"; name the right one with --token-field`}},
		{"/nested", "data.jwt", []string{`the JSON answer has no "data.jwt": "data" has keys "token", "ttl"`}},
		{"/nested", "data.token.x", []string{`the JSON answer has no "data.token.x": "data.token" is a string, not an object`}},
		{"/array", "data.tokens.1", []string{`the JSON answer has no "data.tokens.1": "data.tokens" is an array of 1`}},
		{"/number", "", []string{`"token" in the JSON answer is a number, not a string`}},
		{"/emptytoken", "", []string{`"token" in the answer is empty`}},
		{"/badjson", "", []string{"the answer is not valid JSON (application/json, 9 bytes)"}},
		{"/twojson", "", []string{"the answer is not valid JSON"}},
		{"/junk", "", []string{"the answer is neither a JWT nor JSON (text/html, 48 bytes, looks like HTML); point --token-url at the endpoint that returns the token"}},
		{"/sentence", "", []string{"neither a JWT nor JSON (text/plain"}},
		{"/empty", "", []string{"the answer was empty"}},
		{"/big", "", []string{"larger than 1 MiB"}},
		{"/loop", "", []string{host + ": request failed: stopped after 10 redirects"}},
		{"/cutoff", "", []string{host + ": the answer broke off: unexpected EOF"}},
	}
	for _, tt := range bad {
		t.Run(tt.path+"#"+tt.field, func(t *testing.T) {
			_, err := fetch(t, Spec{URL: srv.URL + tt.path, Field: tt.field, Client: srv.Client()})
			checkErr(t, err, tt.want, "k3y", "nope", "Sign in")
		})
	}
}

func TestURLFreshTokenEachFetch(t *testing.T) {
	srv := tokenServer(t)
	src, err := Spec{URL: srv.URL + "/count", Client: srv.Client()}.Source()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tok.1.sig", "tok.2.sig"} {
		if got, err := src.Fetch(context.Background()); got != want || err != nil {
			t.Errorf("Fetch = %q, %v; want %q", got, err, want)
		}
	}
}

func TestURLDefaultClient(t *testing.T) {
	srv := tokenServer(t)
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	if got, err := fetch(t, Spec{URL: srv.URL + "/text"}); got != tok || err != nil {
		t.Errorf("Fetch = %q, %v", got, err)
	}
}

func TestURLDeadlines(t *testing.T) {
	srv := tokenServer(t)
	t.Run("context deadline", func(t *testing.T) {
		src, err := Spec{URL: srv.URL + "/slow?key=k3y", Client: srv.Client()}.Source()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = src.Fetch(ctx)
		checkErr(t, err, []string{"--token-url " + srv.URL + ": no answer before the deadline: context deadline exceeded"}, "k3y", "/slow")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v does not match context.DeadlineExceeded", err)
		}
	})
	t.Run("client timeout", func(t *testing.T) {
		client := srv.Client()
		client.Timeout = 50 * time.Millisecond
		_, err := fetch(t, Spec{URL: srv.URL + "/slow?key=k3y", Client: client})
		checkErr(t, err, []string{"no answer within the client's timeout"}, "k3y")
	})
	t.Run("already cancelled", func(t *testing.T) {
		src, err := Spec{URL: srv.URL + "/text", Client: srv.Client()}.Source()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = src.Fetch(ctx)
		checkErr(t, err, []string{"gave up before reading the token"})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v does not match context.Canceled", err)
		}
	})
}

func TestURLConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = fetch(t, Spec{URL: "http://u:hunter2@" + addr + "/token?key=k3y"})
	checkErr(t, err, []string{"--token-url http://" + addr + ": request failed:", "connection refused", "is the server running"}, "k3y", "hunter2", "/token")
}
