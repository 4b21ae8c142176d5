package tokensource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type urlSource struct {
	url    string   // as given, sent as is
	name   string   // "--token-url scheme://host": no userinfo, path or query
	field  []string // path into a JSON answer
	client *http.Client
}

func newURLSource(raw, field string, client *http.Client) (*urlSource, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The raw value may hold credentials: describe it, do not echo it.
		return nil, inputErr(err, "--token-url must be an http:// or https:// URL with a host")
	}
	s := &urlSource{
		url:    raw,
		name:   "--token-url " + u.Scheme + "://" + u.Host,
		field:  []string{"token"},
		client: client,
	}
	if field != "" {
		s.field = strings.Split(field, ".")
		if slices.Contains(s.field, "") {
			return nil, inputErr(nil, "--token-field %q has an empty part; write it as a.b.c", field)
		}
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: DefaultURLTimeout}
	}
	return s, nil
}

func (s *urlSource) Name() string { return s.name }

func (s *urlSource) Fetch(ctx context.Context) (string, error) {
	if err := ctxErr(ctx, s.name); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return "", inputErr(err, "%s: cannot build the request", s.name)
	}
	req.Header.Set("Accept", "application/json, text/plain;q=0.9, */*;q=0.1")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", s.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", inputErr(nil, "%s: token endpoint answered %s: %s", s.name, statusText(resp), statusAdvice(resp.StatusCode))
	}
	body, tooBig, err := readCapped(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return "", s.transportError(ctx, err)
		}
		return "", inputErr(err, "%s: the answer broke off: %v", s.name, unwrapURLError(err))
	}
	if tooBig {
		return "", inputErr(nil, "%s: the answer is larger than 1 MiB, so not a token; point --token-url at the endpoint that returns the token", s.name)
	}
	return s.parse(body, resp.Header.Get("Content-Type"))
}

func statusText(resp *http.Response) string {
	if t := http.StatusText(resp.StatusCode); t != "" {
		return strconv.Itoa(resp.StatusCode) + " " + t
	}
	return strconv.Itoa(resp.StatusCode)
}

func statusAdvice(code int) string {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return "the endpoint refused the request; it may want credentials (put them in the URL, or fetch the token with a command that can send them, such as curl)"
	case code == http.StatusNotFound:
		return "check the URL's path"
	case code >= 500:
		return "check the server's logs"
	case code >= 300 && code < 400:
		return "the redirect was not followed; point --token-url at its target"
	}
	return "check the URL and the server"
}

// parse takes the token out of an answer: JSON with a string at the field
// path (the whole answer may also be a JSON string), or plain text that looks
// like a JWT.
func (s *urlSource) parse(body []byte, contentType string) (string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", inputErr(nil, "%s: the answer was empty; the endpoint should return the token", s.name)
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	isJSON := trimmed[0] == '{' || trimmed[0] == '[' || trimmed[0] == '"' ||
		mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	if !isJSON {
		tok := Clean(string(trimmed))
		if looksLikeToken(tok) {
			return tok, nil
		}
		return "", inputErr(nil, "%s: the answer is neither a JWT nor JSON (%s); point --token-url at the endpoint that returns the token", s.name, describeBody(mediaType, body))
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return "", inputErr(nil, "%s: the answer is not valid JSON (%s); point --token-url at the endpoint that returns the token", s.name, describeBody(mediaType, body))
	}
	if str, ok := doc.(string); ok {
		return s.found(str, "the JSON string")
	}
	v, err := lookup(doc, s.field)
	if err != nil {
		return "", inputErr(nil, "%s: %v", s.name, err)
	}
	return s.found(v, strconv.Quote(strings.Join(s.field, ".")))
}

func (s *urlSource) found(v, where string) (string, error) {
	tok := Clean(v)
	if tok == "" {
		return "", inputErr(nil, "%s: %s in the answer is empty", s.name, where)
	}
	return tok, nil
}

// lookup follows path through objects (and arrays, by index) and returns the
// string there, or an error that says which part was missing and what was
// there instead.
func lookup(doc any, path []string) (string, error) {
	cur := doc
	for i, key := range path {
		at := strings.Join(path[:i], ".")
		where := "the answer"
		if at != "" {
			where = strconv.Quote(at)
		}
		switch node := cur.(type) {
		case map[string]any:
			next, ok := node[key]
			if !ok {
				return "", fmt.Errorf("the JSON answer has no %q: %s has %s; name the right one with --token-field", strings.Join(path[:i+1], "."), where, describeKeys(node))
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(node) {
				return "", fmt.Errorf("the JSON answer has no %q: %s is an array of %d", strings.Join(path[:i+1], "."), where, len(node))
			}
			cur = node[n]
		default:
			return "", fmt.Errorf("the JSON answer has no %q: %s is %s, not an object", strings.Join(path[:i+1], "."), where, jsonKind(node))
		}
	}
	str, ok := cur.(string)
	if !ok {
		return "", fmt.Errorf("%q in the JSON answer is %s, not a string; name the token's field with --token-field", strings.Join(path, "."), jsonKind(cur))
	}
	return str, nil
}

func describeKeys(m map[string]any) string {
	if len(m) == 0 {
		return "no keys"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const show = 10
	var b strings.Builder
	b.WriteString("keys ")
	for i, k := range keys {
		if i == show {
			fmt.Fprintf(&b, " and %d more", len(keys)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(k) > 40 {
			k = k[:40] + "…"
		}
		b.WriteString(strconv.Quote(k))
	}
	return b.String()
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// describeBody says what came back without quoting it: an unexpected answer
// may be a login page or carry someone's credentials.
func describeBody(mediaType string, body []byte) string {
	if mediaType == "" {
		mediaType = "no Content-Type"
	}
	d := fmt.Sprintf("%s, %d bytes", mediaType, len(body))
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '<' {
		d += ", looks like HTML"
	}
	return d
}

// looksLikeToken accepts one word of printable ASCII with at least two dots:
// loose enough that a malformed JWT reaches `token inspect`, which explains
// what is wrong with it, strict enough to turn away an HTML page or a sentence.
func looksLikeToken(s string) bool {
	if len(s) < 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return strings.Count(s, ".") >= 2
}

// transportError reports a failed request by host only: *url.Error repeats
// the full URL, whose query may carry credentials.
func (s *urlSource) transportError(ctx context.Context, err error) error {
	inner := unwrapURLError(err)
	if ctx.Err() != nil {
		return inputErr(ctx.Err(), "%s: no answer before the deadline: %v", s.name, context.Cause(ctx))
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return inputErr(inner, "%s: no answer within the client's timeout; is the server up and quick?", s.name)
	}
	return inputErr(inner, "%s: request failed: %v; is the server running and the URL right?", s.name, inner)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
