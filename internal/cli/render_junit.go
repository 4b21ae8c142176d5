package cli

import (
	"encoding/xml"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// JUnit XML, in the shape GitHub Actions reporters, GitLab and Jenkins read:
// <testsuites> around one <testsuite>, a <testcase> per check, time in
// seconds, <failure message type> with the hint in its body, <skipped/>.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

// The bodies are CDATA so that their line breaks stay line breaks in the
// file, for a person reading it raw.
type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

const junitSuiteName = "convctl check"

func checkJUnit(rep *checkReport) *junitSuites {
	s := junitSuite{Name: junitSuiteName, Timestamp: rep.Started.UTC().Format(time.RFC3339)}
	var total float64
	for _, c := range rep.Checks {
		jc := junitCase{Name: c.Name, Classname: "convctl.check", Time: junitSeconds(c.DurationMS)}
		total += c.DurationMS
		switch c.Status {
		case checkFail:
			s.Failures++
			f := &junitFailure{Message: c.Message, Type: "fail"}
			if c.Cause != nil {
				f.Type = string(c.Cause.Kind)
				f.Body = junitClean(causeText(c.Cause))
			}
			jc.Failure = f
		case checkSkip:
			s.Skipped++
			jc.Skipped = &junitSkipped{Message: c.Message}
		default:
			jc.SystemOut = &junitText{Text: junitClean(c.Message)}
		}
		s.Cases = append(s.Cases, jc)
	}
	s.Tests = len(s.Cases)
	s.Time = junitSeconds(total)
	if pr := rep.Connection; pr != nil {
		s.Properties = append(s.Properties, junitProperty{Name: "url", Value: pr.URL},
			junitProperty{Name: "outcome", Value: string(pr.Outcome)})
		if s2 := proxySummary(pr.Network); s2 != "" {
			s.Properties = append(s.Properties, junitProperty{Name: "proxy", Value: junitClean(s2)})
		}
		if pr.Network != nil && pr.Network.TLS != nil {
			s.Properties = append(s.Properties, junitProperty{Name: "tls", Value: junitClean(tlsSummary(pr.Network.TLS))})
			if by := pr.Network.TLS.InterceptedBy; by != nil {
				s.Properties = append(s.Properties, junitProperty{Name: "tls_intercepted_by", Value: junitClean(*by)})
			}
		}
	}
	s.Properties = append(s.Properties, junitProperty{Name: "local", Value: strconv.FormatBool(rep.Local)})
	return &junitSuites{Name: junitSuiteName, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped,
		Time: s.Time, Suites: []junitSuite{s}}
}

// junitClean replaces what XML 1.0 cannot carry (most control characters)
// with U+FFFD: encoding/xml does that for attributes, not for CDATA, and
// one stray byte from a token's identity would make the file unreadable.
func junitClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

func junitSeconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

// writeCheckJUnit writes the report as JUnit XML to path ("" writes nothing).
func writeCheckJUnit(path string, rep *checkReport) error {
	if path == "" {
		return nil
	}
	b, err := xml.MarshalIndent(checkJUnit(rep), "", "  ")
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	b = append([]byte(xml.Header), b...)
	b = append(b, '\n')
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("--junit: cannot write the report: %w", err)
	}
	return nil
}
