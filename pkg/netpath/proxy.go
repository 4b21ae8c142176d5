package netpath

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// MaxAnswerSize bounds a proxy's answer to CONNECT (status line and headers).
const MaxAnswerSize = 16 << 10

// Answer is a proxy's answer to CONNECT.
type Answer struct {
	Proto  string // "HTTP/1.1"
	Status int
	Reason string
	Header textproto.MIMEHeader
}

// ErrBadAnswer is matched by ReadAnswer's errors for an answer that is not
// HTTP.
var ErrBadAnswer = errors.New("not an HTTP answer")

// ReadAnswer reads a proxy's answer to CONNECT from br: the status line and
// headers, at most MaxAnswerSize bytes. A body (a refusal page) is left
// unread. It never reads past the blank line, so after a 200 whatever br
// holds next belongs to the tunnel.
func ReadAnswer(br *bufio.Reader) (*Answer, error) {
	n := 0
	readLine := func() (string, error) {
		var line []byte
		for {
			chunk, isPrefix, err := br.ReadLine()
			n += len(chunk) + 2
			if n > MaxAnswerSize {
				return "", fmt.Errorf("%w: the answer's headers exceed %d bytes", ErrBadAnswer, MaxAnswerSize)
			}
			if err != nil {
				if err == io.EOF && len(line) == 0 && len(chunk) == 0 {
					return "", io.ErrUnexpectedEOF
				}
				return "", err
			}
			line = append(line, chunk...)
			if !isPrefix {
				return string(line), nil
			}
		}
	}
	status, err := readLine()
	if err != nil {
		if n <= 2 {
			return nil, fmt.Errorf("the proxy closed the connection without answering: %w", err)
		}
		return nil, err
	}
	a := &Answer{Header: textproto.MIMEHeader{}}
	proto, rest, ok := strings.Cut(status, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") || len(proto) != len("HTTP/1.1") {
		return nil, fmt.Errorf("%w: status line %s", ErrBadAnswer, quoteShort(status))
	}
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 {
		return nil, fmt.Errorf("%w: status line %s", ErrBadAnswer, quoteShort(status))
	}
	st, err := strconv.Atoi(code)
	if err != nil || st < 100 {
		return nil, fmt.Errorf("%w: status line %s", ErrBadAnswer, quoteShort(status))
	}
	a.Proto, a.Status, a.Reason = proto, st, strings.TrimSpace(reason)
	for {
		line, err := readLine()
		if err != nil {
			return nil, fmt.Errorf("%w: headers cut short: %w", ErrBadAnswer, err)
		}
		if line == "" {
			return a, nil
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%w: header line %s", ErrBadAnswer, quoteShort(line))
		}
		a.Header.Add(textproto.CanonicalMIMEHeaderKey(k), strings.TrimSpace(v))
	}
}

// Schemes returns the authentication schemes named in the answer's
// Proxy-Authenticate headers, in order, each once ("Basic", "NTLM").
func (a *Answer) Schemes() []string {
	var out []string
	seen := map[string]bool{}
	for _, h := range a.Header.Values("Proxy-Authenticate") {
		// A header may hold several challenges: "Basic realm=x, NTLM".
		for _, part := range splitChallenges(h) {
			s, _, _ := strings.Cut(strings.TrimSpace(part), " ")
			if s == "" || seen[strings.ToLower(s)] {
				continue
			}
			seen[strings.ToLower(s)] = true
			out = append(out, s)
		}
	}
	return out
}

// splitChallenges splits a Proxy-Authenticate value at the commas that
// start a new challenge (a token not followed by "="), not at those between
// a challenge's parameters.
func splitChallenges(h string) []string {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(h); i++ {
		switch h[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if inQuote {
				continue
			}
			next := strings.TrimSpace(h[i+1:])
			tok := next
			if j := strings.IndexAny(next, " =,"); j >= 0 {
				tok = next[:j]
			}
			rest := strings.TrimSpace(next[len(tok):])
			if tok != "" && !strings.HasPrefix(rest, "=") {
				out = append(out, h[start:i])
				start = i + 1
			}
		}
	}
	return append(out, h[start:])
}

// viaProxy reaches the proxy, asks it for CONNECT rt.Host:rt.Port and
// returns the tunnel.
func (x *dial) viaProxy(ctx context.Context, rt Route) (net.Conn, error) {
	pu := rt.Proxy
	red := Redact(pu)
	target := net.JoinHostPort(rt.Host, rt.Port)
	port := pu.Port()
	if port == "" {
		port = "80"
		if pu.Scheme == "https" {
			port = "443"
		}
	}
	paddr := net.JoinHostPort(pu.Hostname(), port)
	pi := &Proxy{URL: red, Source: rt.Source, Target: target}
	x.path.Proxy = pi
	fail := func(kind Kind, err error) (net.Conn, error) {
		var ne net.Error
		if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
			switch {
			case errors.Is(ctx.Err(), context.Canceled):
				kind = KindCanceled
			case kind == KindProxyBadAnswer:
				kind = KindProxyTimeout
			}
		}
		return nil, &Error{Kind: kind, Phase: PhaseProxy, Host: target, Proxy: red, Err: err,
			Credentials: pi.Credentials}
	}
	t0 := time.Now()
	done := func(err error) {
		took := time.Since(t0)
		x.path.Timing.Proxy = durp(took)
		pi.ConnectMS = msp(took)
		x.step(Step{Phase: PhaseProxy, Duration: took, Address: red, Err: err})
	}
	x.log.Debug("proxy: connecting", "proxy", red, "source", rt.Source)
	var nd net.Dialer
	c, err := nd.DialContext(ctx, "tcp", paddr)
	if err != nil {
		done(err)
		x.log.Debug("proxy: unreachable", "proxy", red, "err", err)
		return fail(KindProxyUnreachable, err)
	}
	// Bound the exchange by ctx: a deadline for a slow proxy, a close on
	// cancel.
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if pu.Scheme == "https" {
		tc := tls.Client(c, &tls.Config{ServerName: pu.Hostname(), RootCAs: x.d.localPool(),
			NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			done(err)
			x.log.Debug("proxy: TLS to the proxy failed", "proxy", red, "err", err)
			return fail(KindProxyUnreachable, fmt.Errorf("TLS with the proxy: %w", err))
		}
		c = tc
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: convctl\r\n", target, target)
	if pu.User != nil {
		pass, _ := pu.User.Password()
		cred := base64.StdEncoding.EncodeToString([]byte(pu.User.Username() + ":" + pass))
		fmt.Fprintf(&req, "Proxy-Authorization: Basic %s\r\n", cred)
		pi.Credentials = true
	}
	req.WriteString("\r\n")
	x.log.Debug("proxy: CONNECT", "proxy", red, "target", target, "credentials", pi.Credentials)
	if _, err := c.Write(req.Bytes()); err != nil {
		c.Close()
		done(err)
		return fail(KindProxyBadAnswer, fmt.Errorf("sending CONNECT: %w", err))
	}
	br := bufio.NewReaderSize(c, 4096)
	a, err := ReadAnswer(br)
	if err != nil {
		c.Close()
		done(err)
		x.log.Debug("proxy: bad answer", "proxy", red, "err", err)
		return fail(KindProxyBadAnswer, err)
	}
	done(nil)
	pi.ConnectStatus = &a.Status
	pi.Reason = a.Reason
	pi.ProxyAuthenticate = a.Header.Values("Proxy-Authenticate")
	pi.Via = a.Header.Values("Via")
	pi.Server = a.Header.Get("Server")
	x.log.Debug("proxy: answer", "proxy", red, "status", a.Status, "reason", a.Reason,
		"proxy_authenticate", pi.ProxyAuthenticate, "via", pi.Via, "took", x.path.Timing.Proxy)
	if a.Status < 200 || a.Status > 299 {
		c.Close()
		e := &Error{Phase: PhaseProxy, Host: target, Proxy: red, Status: a.Status, Reason: a.Reason,
			Credentials: pi.Credentials, Err: fmt.Errorf("CONNECT answered %d %s", a.Status, a.Reason)}
		switch a.Status {
		case 407, 401:
			// 401 is not the standard answer, but tinyproxy gives it for
			// wrong Basic credentials.
			e.Schemes = a.Schemes()
			e.Kind = KindProxyAuth
			if len(e.Schemes) > 0 && !hasScheme(e.Schemes, "basic") {
				e.Kind = KindProxyAuthUnsupported
			}
		case 403:
			e.Kind = KindProxyForbidden
		case 500, 502, 503, 504:
			// 500: tinyproxy's "Unable to connect" when the target refuses.
			e.Kind = KindProxyUpstream
		default:
			e.Kind = KindProxyRefused
		}
		return nil, e
	}
	c.SetDeadline(time.Time{})
	if !stop() {
		c.Close()
		return fail(KindCanceled, ctx.Err())
	}
	if br.Buffered() > 0 {
		// The proxy sent tunnel bytes with its answer: hand them on.
		b, _ := br.Peek(br.Buffered())
		return &prefixConn{Conn: c, prefix: bytes.Clone(b)}, nil
	}
	return c, nil
}

func hasScheme(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// prefixConn replays bytes read ahead before reading the connection.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
