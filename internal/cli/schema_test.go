package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/convctl/convctl/internal/testpeer"
	"github.com/convctl/convctl/pkg/emulator"
	"github.com/convctl/convctl/pkg/inspect"
)

// The JSON reports are a promise to scripts; docs/schema holds one JSON
// Schema per report, and docs/json-reports.md says what every field means.
// These tests run real command lines through Run, as main does, against
// servers they start on 127.0.0.1, and validate what lands on stdout.

const schemaDir = "../../docs/schema"

// Each report and the schema file that describes it.
const (
	schemaTokenInspect = "token-inspect.schema.json"
	schemaTokenBatch   = "token-inspect-batch.schema.json"
	schemaConnect      = "connect.schema.json"
	schemaCheck        = "check.schema.json"
	schemaDemo         = "demo.schema.json"
	schemaNetcheck     = "netcheck.schema.json"
	schemaNetcheckSum  = "netcheck-summary.schema.json"
)

// schemaID is the $id every shipped schema declares: the address its file
// will have, so that their relative $refs resolve to each other.
func schemaID(file string) string {
	return "https://raw.githubusercontent.com/convctl/convctl/main/docs/schema/" + file
}

// compileSchemas loads every docs/schema/*.json as a resource under its $id
// (nothing is fetched) and compiles each one, formats asserted.
func compileSchemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas in %s (%v)", schemaDir, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s is not JSON: %v", path, err)
		}
		obj, _ := doc.(map[string]any)
		name := filepath.Base(path)
		if got := obj["$id"]; got != schemaID(name) {
			t.Errorf("%s: $id = %v, want %s", name, got, schemaID(name))
		}
		if got := obj["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %v, want draft 2020-12", name, got)
		}
		if err := c.AddResource(schemaID(name), doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, path := range files {
		name := filepath.Base(path)
		s, err := c.Compile(schemaID(name))
		if err != nil {
			t.Fatalf("%s does not compile: %v", name, err)
		}
		out[name] = s
	}
	return out
}

// TestSchemasParseAndAreDocumented fails when a shipped schema is not valid
// JSON Schema, when a report named in this file has none, or when
// docs/json-reports.md does not point at one of them.
func TestSchemasParseAndAreDocumented(t *testing.T) {
	schemas := compileSchemas(t)
	for _, name := range []string{schemaTokenInspect, schemaTokenBatch, schemaConnect, schemaCheck, schemaDemo, schemaNetcheck, schemaNetcheckSum} {
		if schemas[name] == nil {
			t.Errorf("docs/schema/%s is missing", name)
		}
	}
	doc, err := os.ReadFile("../../docs/json-reports.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range schemas {
		if !strings.Contains(string(doc), "schema/"+name) {
			t.Errorf("docs/json-reports.md does not reference schema/%s", name)
		}
	}
	// Every relative link the page makes to a schema names a file that exists.
	for _, m := range regexp.MustCompile(`schema/([a-z0-9-]+\.schema\.json)`).FindAllStringSubmatch(string(doc), -1) {
		if schemas[m[1]] == nil {
			t.Errorf("docs/json-reports.md references schema/%s, which does not exist", m[1])
		}
	}
}

// validateJSON checks one JSON document against a schema and says where it
// fails, with the document for context.
func validateJSON(t *testing.T, s *jsonschema.Schema, doc string) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not one JSON value: %v\n%s", err, doc)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("does not match %s:\n%v\n--- output\n%s", s.Location, err, doc)
	}
}

// schemaRun runs one command line through Run with getenv answering env,
// bounded, and returns its exit code and output.
func schemaRun(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ios, in, out, errOut := TestIO()
	in.WriteString(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Run(ctx, args, ios, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

const (
	schemaSecret  = "schema-test-secret-0123456789abcdef"
	schemaAccount = "AC0123456789abcdef0123456789abcdef"
	schemaKey     = "SK0123456789abcdef0123456789abcdef"
	schemaService = "IS0123456789abcdef0123456789abcdef"
)

func schemaMint(t *testing.T, mod func(*inspect.MintOptions)) string {
	t.Helper()
	o := inspect.MintOptions{AccountSID: schemaAccount, APIKeySID: schemaKey, Secret: []byte(schemaSecret),
		Identity: "alice", ChatServiceSID: schemaService, TTL: time.Hour, Now: time.Now()}
	if mod != nil {
		mod(&o)
	}
	tok, err := inspect.Mint(o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// schemaEmulator serves pkg/emulator on 127.0.0.1 for one test and returns its ws:// URL.
func schemaEmulator(t *testing.T, cfg emulator.Config) string {
	t.Helper()
	cfg.Secret = []byte(schemaSecret)
	em := emulator.New(cfg)
	srv := httptest.NewServer(em)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = em.Shutdown(ctx)
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + emulator.PathWS
}

// schemaDeadURL is a ws:// URL on 127.0.0.1 where nothing listens.
func schemaDeadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ws://" + addr + emulator.PathWS
}

func TestTokenInspectJSONMatchesSchema(t *testing.T) {
	schemas := compileSchemas(t)
	good := schemaMint(t, nil)
	env := map[string]string{"SECRET": schemaSecret, "GOOD": good}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		exit  int
	}{
		{"valid, verified", []string{"--secret-env", "SECRET", "--token-env", "GOOD"}, "", exitOK},
		{"valid, unchecked", []string{"--token-env", "GOOD"}, "", exitOK},
		{"region and warnings", []string{"-"}, schemaMint(t, func(o *inspect.MintOptions) { o.Region = "ie1"; o.TTL = time.Minute; o.Algorithm = "HS384" }), exitOK},
		{"bad signature", []string{"--secret-env", "SECRET", "-"}, schemaMint(t, func(o *inspect.MintOptions) { o.Secret = []byte("another secret, 0123456789abcdef") }), exitFailed},
		{"expired", []string{"-"}, schemaMint(t, func(o *inspect.MintOptions) { o.Now = time.Now().Add(-2 * time.Hour) }), exitFailed},
		{"not yet valid", []string{"-"}, schemaMint(t, func(o *inspect.MintOptions) { o.NotBefore = time.Now().Add(30 * time.Minute) }), exitFailed},
		{"min remaining", []string{"--min-remaining", "2h", "--token-env", "GOOD"}, "", exitFailed},
		{"wrong product", []string{"--product", "voice", "--token-env", "GOOD"}, "", exitFailed},
		{"malformed, no dots", []string{"garbage"}, "", exitFailed},
		{"malformed, JSON not an object", []string{"W10.IjEi.c2ln"}, "", exitFailed},
		{"malformed, payload not JSON", []string{strings.SplitN(good, ".", 2)[0] + ".bm9wZQ.c2ln"}, "", exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"token", "inspect", "-o", "json"}, tc.args...)
			code, stdout, stderr := schemaRun(t, env, tc.stdin, args...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.exit, stderr)
			}
			validateJSON(t, schemas[schemaTokenInspect], stdout)
		})
	}

	t.Run("batch", func(t *testing.T) {
		lines := []string{
			good,
			"",
			"Bearer " + good,
			"garbage",
			schemaMint(t, func(o *inspect.MintOptions) { o.Now = time.Now().Add(-2 * time.Hour) }),
			schemaMint(t, func(o *inspect.MintOptions) { o.Region = "au1" }),
		}
		code, stdout, stderr := schemaRun(t, env, strings.Join(lines, "\n")+"\n", "token", "inspect", "--batch", "--secret-env", "SECRET")
		if code != exitFailed {
			t.Fatalf("exit %d, want %d\nstderr: %s", code, exitFailed, stderr)
		}
		sc := bufio.NewScanner(strings.NewReader(stdout))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			n++
			validateJSON(t, schemas[schemaTokenBatch], sc.Text())
			// A batch line is not a single report: the line number is extra.
			if err := schemas[schemaTokenInspect].Validate(mustUnmarshal(t, sc.Text())); err == nil {
				t.Errorf("line %d validates as a single report, though it carries \"line\"", n)
			}
		}
		if n != len(lines)-1 {
			t.Errorf("%d report lines, want %d (one per non-blank input line)", n, len(lines)-1)
		}
	})
}

func TestConnectJSONMatchesSchema(t *testing.T) {
	schemas := compileSchemas(t)
	url := schemaEmulator(t, emulator.Config{})
	silent := schemaEmulator(t, emulator.Config{InitDelay: time.Hour})
	refusing := schemaEmulator(t, emulator.Config{RefuseUpgrades: 100})
	env := map[string]string{
		"SECRET":  schemaSecret,
		"GOOD":    schemaMint(t, nil),
		"BADSIG":  schemaMint(t, func(o *inspect.MintOptions) { o.Secret = []byte("another secret, 0123456789abcdef") }),
		"EXPIRED": schemaMint(t, func(o *inspect.MintOptions) { o.Now = time.Now().Add(-2 * time.Hour) }),
		"REGION":  schemaMint(t, func(o *inspect.MintOptions) { o.Region = "ie1" }),
	}
	for _, tc := range []struct {
		name string
		args []string
		exit int
	}{
		{"connected, token updated", []string{"--url", url, "--token-env", "GOOD", "--update-token", "--secret-env", "SECRET"}, exitOK},
		{"connected, region in the token", []string{"--url", url, "--token-env", "REGION"}, exitOK},
		{"denied, bad signature", []string{"--url", url, "--token-env", "BADSIG", "--secret-env", "SECRET"}, exitFailed},
		{"denied as expected", []string{"--url", url, "--token-env", "BADSIG", "--expect", "denied"}, exitOK},
		{"denied, expired", []string{"--url", url, "--token-env", "EXPIRED"}, exitFailed},
		{"timeout in init", []string{"--url", silent, "--token-env", "GOOD", "--timeout", "300ms"}, exitCannotFinish},
		{"unreachable", []string{"--url", schemaDeadURL(t), "--token-env", "GOOD", "--no-reconnect"}, exitCannotFinish},
		{"upgrade refused", []string{"--url", refusing, "--token-env", "GOOD", "--no-reconnect"}, exitCannotFinish},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"connect", "-o", "json"}, tc.args...)
			code, stdout, stderr := schemaRun(t, env, "", args...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.exit, stderr)
			}
			validateJSON(t, schemas[schemaConnect], stdout)
		})
	}
}

func TestCheckJSONMatchesSchema(t *testing.T) {
	schemas := compileSchemas(t)
	url := schemaEmulator(t, emulator.Config{})
	env := map[string]string{
		"SECRET":  schemaSecret,
		"GOOD":    schemaMint(t, nil),
		"BADSIG":  schemaMint(t, func(o *inspect.MintOptions) { o.Secret = []byte("another secret, 0123456789abcdef") }),
		"EXPIRED": schemaMint(t, func(o *inspect.MintOptions) { o.Now = time.Now().Add(-2 * time.Hour) }),
	}
	for _, tc := range []struct {
		name string
		args []string
		exit int
	}{
		{"pass, update and hold", []string{"--url", url, "--token-env", "GOOD", "--secret-env", "SECRET", "--update-token", "--hold", "50ms"}, exitOK},
		{"pass, local", []string{"--local", "--token-env", "GOOD", "--secret-env", "SECRET"}, exitOK},
		{"fail, token inspect", []string{"--url", url, "--token-env", "EXPIRED"}, exitFailed},
		{"fail, connect denied", []string{"--url", url, "--token-env", "BADSIG"}, exitFailed},
		{"fail, unreachable", []string{"--url", schemaDeadURL(t), "--token-env", "GOOD", "--timeout", "300ms"}, exitCannotFinish},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"check", "-o", "json"}, tc.args...)
			code, stdout, stderr := schemaRun(t, env, "", args...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.exit, stderr)
			}
			validateJSON(t, schemas[schemaCheck], stdout)
		})
	}
}

// TestNetcheckJSONMatchesSchema runs netcheck against local TLS servers
// (netcheck_test.go's ncSite) in the shapes its report takes: all up, an
// endpoint down, IPv6 broken, through a real proxy that blocks one, and
// --every's lines with the summary.
func TestNetcheckJSONMatchesSchema(t *testing.T) {
	schemas := compileSchemas(t)
	s := newNcSite(t)
	down := newNcSite(t)
	down.servers["mcs"].Close()
	down.servers["cds"].Close()
	v6 := newNcSite(t)
	port := v6.port("tsock")
	v6.dest["tsock.us1.twilio.com"] = "dualstack.test:" + port
	for _, tc := range []struct {
		name string
		args []string
		exit int
	}{
		{"all up", s.args(), exitOK},
		{"endpoints down", down.args(), exitFailed},
		{"ipv6 broken", append(v6.args(), "--resolve", "dualstack.test:"+port+":[::1],127.0.0.1"), exitOK},
		{"not trusted", s.args()[2:], exitFailed},
		{"unknown region", append(au1Args(s), "--region", "au1"), exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := ncRun(t, append(tc.args, "-o", "json")...)
			if code != tc.exit {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tc.exit, stderr)
			}
			validateJSON(t, schemas[schemaNetcheck], stdout)
		})
	}
	t.Run("through a proxy", func(t *testing.T) {
		proxy := testpeer.Tinyproxy{Filter: []string{`^blocked\.`}}.Start(t)
		p := newNcSite(t)
		p.dest["media.us1.twilio.com"] = "blocked.localhost:" + p.port("media")
		code, stdout, stderr := ncRun(t, append(p.args(), "--proxy", "http://u:pw@"+proxy, "-o", "json")...)
		if code != exitFailed {
			t.Fatalf("exit %d\nstderr: %s", code, stderr)
		}
		validateJSON(t, schemas[schemaNetcheck], stdout)
	})
	t.Run("every", func(t *testing.T) {
		code, stdout, stderr := ncRun(t, append(down.args(), "--every", "1ms", "--count", "2", "-o", "json")...)
		if code != exitFailed {
			t.Fatalf("exit %d\nstderr: %s", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 2 rounds and a summary:\n%s", len(lines), stdout)
		}
		for _, l := range lines[:2] {
			validateJSON(t, schemas[schemaNetcheck], l)
		}
		validateJSON(t, schemas[schemaNetcheckSum], lines[2])
		// A round is not a summary, and a summary not a round.
		if schemas[schemaNetcheckSum].Validate(mustUnmarshal(t, lines[0])) == nil || schemas[schemaNetcheck].Validate(mustUnmarshal(t, lines[2])) == nil {
			t.Error("a round and a summary validate against each other's schema")
		}
	})
	t.Run("no round finished", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ios, _, out, _ := TestIO()
		if code := Run(ctx, append([]string{"netcheck", "--every", "1s", "-o", "json"}, s.args()...), ios, func(string) string { return "" }); code != exitCannotFinish {
			t.Fatalf("exit %d, want 3", code)
		}
		validateJSON(t, schemas[schemaNetcheckSum], out.String())
	})
}

// au1Args sends au1's names to s's servers, whose certificates are for
// us1's: every endpoint fails at TLS, and nothing leaves 127.0.0.1.
func au1Args(s *ncSite) []string {
	a := []string{"--ca-file", s.caFile}
	for _, h := range s.order {
		a = append(a, "--connect-to", strings.Replace(h, ".us1.", ".au1.", 1)+":443:"+s.dest[h])
	}
	return a
}

// TestNetcheckSchemasRejectDrift: real netcheck output with a field
// renamed, dropped, nulled or given a word outside its set must not
// validate.
func TestNetcheckSchemasRejectDrift(t *testing.T) {
	schemas := compileSchemas(t)
	s := newNcSite(t)
	s.servers["mcs"].Close()
	_, round, _ := ncRun(t, append(s.args(), "-o", "json")...)
	_, lines, _ := ncRun(t, append(s.args(), "--every", "1ms", "--count", "1", "-o", "json")...)
	summary := strings.Split(strings.TrimSuffix(lines, "\n"), "\n")[1]
	validateJSON(t, schemas[schemaNetcheck], round)
	validateJSON(t, schemas[schemaNetcheckSum], summary)
	ep := func(m map[string]any, i int) map[string]any { return m["endpoints"].([]any)[i].(map[string]any) }
	for _, tc := range []struct {
		name   string
		schema string
		doc    string
		edit   func(m map[string]any)
	}{
		{"endpoints renamed", schemaNetcheck, round, func(m map[string]any) { m["results"] = m["endpoints"]; delete(m, "endpoints") }},
		{"http_status missing", schemaNetcheck, round, func(m map[string]any) { delete(ep(m, 0), "http_status") }},
		{"addresses null", schemaNetcheck, round, func(m map[string]any) { ep(m, 0)["addresses"] = nil }},
		{"timing key renamed", schemaNetcheck, round, func(m map[string]any) {
			tm := ep(m, 0)["timing_ms"].(map[string]any)
			tm["connect"] = tm["tcp"]
			delete(tm, "tcp")
		}},
		{"protocol word", schemaNetcheck, round, func(m map[string]any) { ep(m, 0)["protocol"] = "websocket" }},
		{"proxy source word", schemaNetcheck, round, func(m map[string]any) {
			ep(m, 0)["proxy"] = map[string]any{"url": "http://p:3128", "source": "config", "connect_status": 200, "connect_ms": 0.4}
		}},
		{"a failure without its error", schemaNetcheck, round, func(m map[string]any) { ep(m, 1)["error"] = nil }},
		{"a success with a kind", schemaNetcheck, round, func(m map[string]any) { ep(m, 0)["kind"] = "tcp" }},
		{"warning code word", schemaNetcheck, round, func(m map[string]any) {
			m["warnings"] = []any{map[string]any{"code": "intercepted", "message": "m"}}
		}},
		{"summary without rounds", schemaNetcheckSum, summary, func(m map[string]any) { delete(m["summary"].(map[string]any), "rounds") }},
		{"success ratio over 1", schemaNetcheckSum, summary, func(m map[string]any) {
			ep(m["summary"].(map[string]any), 0)["success_ratio"] = 1.5
		}},
		{"unknown phase", schemaNetcheckSum, summary, func(m map[string]any) {
			ep(m["summary"].(map[string]any), 0)["phases"].(map[string]any)["connect"] = map[string]any{"p50_ms": 1, "p95_ms": 2}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(tc.doc), &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas[tc.schema].Validate(mustUnmarshal(t, string(b))); err == nil {
				t.Errorf("%s accepts the edited report:\n%s", tc.schema, b)
			}
		})
	}
}

func TestDemoJSONMatchesSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about six seconds of real timers")
	}
	schemas := compileSchemas(t)
	code, stdout, stderr := schemaRun(t, nil, "", "demo", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d\nstderr: %s", code, stderr)
	}
	validateJSON(t, schemas[schemaDemo], stdout)
}

// TestSchemasRejectDrift proves the schemas can fail: real reports with a
// field renamed, dropped, added or given a value outside its set must not
// validate.
func TestSchemasRejectDrift(t *testing.T) {
	schemas := compileSchemas(t)
	url := schemaEmulator(t, emulator.Config{})
	env := map[string]string{"GOOD": schemaMint(t, nil)}
	_, tokenOut, _ := schemaRun(t, env, "", "token", "inspect", "-o", "json", "--token-env", "GOOD")
	_, connectOut, _ := schemaRun(t, env, "", "connect", "-o", "json", "--url", url, "--token-env", "GOOD")
	_, checkOut, _ := schemaRun(t, env, "", "check", "-o", "json", "--url", url, "--token-env", "GOOD")
	reports := map[string]string{schemaTokenInspect: tokenOut, schemaConnect: connectOut, schemaCheck: checkOut}
	for name, out := range reports {
		validateJSON(t, schemas[name], out) // the unchanged report passes
	}

	for _, tc := range []struct {
		name   string
		schema string
		edit   func(m map[string]any)
	}{
		{"token: findings renamed", schemaTokenInspect, func(m map[string]any) { m["finding"] = m["findings"]; delete(m, "findings") }},
		{"token: expires_at missing", schemaTokenInspect, func(m map[string]any) { delete(m, "expires_at") }},
		{"token: unknown field", schemaTokenInspect, func(m map[string]any) { m["verdict"] = "ok" }},
		{"token: signature word", schemaTokenInspect, func(m map[string]any) { m["signature"] = "checked" }},
		{"token: time not UTC", schemaTokenInspect, func(m map[string]any) { m["issued_at"] = "2026-11-25T12:00:00+02:00" }},
		{"token: finding code renamed", schemaTokenInspect, func(m map[string]any) {
			m["findings"] = []any{map[string]any{"severity": "error", "code": "token_expired", "twilio_error": 20104, "message": "m", "hint": "h"}}
		}},
		{"connect: outcome renamed", schemaConnect, func(m map[string]any) { m["result"] = m["outcome"]; delete(m, "outcome") }},
		{"connect: outcome word", schemaConnect, func(m map[string]any) { m["outcome"] = "ok" }},
		{"connect: timing key renamed", schemaConnect, func(m map[string]any) {
			tm := m["timing_ms"].(map[string]any)
			tm["websocket"] = tm["upgrade"]
			delete(tm, "upgrade")
		}},
		{"connect: state word", schemaConnect, func(m map[string]any) {
			m["states"] = []any{map[string]any{"state": "retrying", "at_ms": 1}}
		}},
		{"connect: cause without hint", schemaConnect, func(m map[string]any) {
			m["cause"] = map[string]any{"kind": "network", "http_status": nil, "twilio_error": nil, "message": "m"}
		}},
		{"connect: a cause on a clean run", schemaConnect, func(m map[string]any) {
			m["cause"] = map[string]any{"kind": "network", "http_status": nil, "twilio_error": nil, "message": "m", "hint": "h"}
		}},
		{"check: a check missing", schemaCheck, func(m map[string]any) { m["checks"] = m["checks"].([]any)[:5] }},
		{"check: checks out of order", schemaCheck, func(m map[string]any) {
			cs := m["checks"].([]any)
			cs[0], cs[1] = cs[1], cs[0]
		}},
		{"check: connection report drifts", schemaCheck, func(m map[string]any) { delete(m["connection"].(map[string]any), "states") }},
		{"check: token report drifts", schemaCheck, func(m map[string]any) { m["token"].(map[string]any)["valid"] = "yes" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(reports[tc.schema]), &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas[tc.schema].Validate(mustUnmarshal(t, string(b))); err == nil {
				t.Errorf("%s accepts the edited report:\n%s", tc.schema, b)
			}
		})
	}
}

func mustUnmarshal(t *testing.T, doc string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	return v
}
