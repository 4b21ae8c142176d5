package netcheck

import (
	"math"
	"slices"
)

// Summary accumulates rounds: per endpoint, how often it answered and the
// spread of each phase's duration. Add from one goroutine.
type Summary struct {
	Rounds    int                `json:"rounds"`
	Endpoints []*EndpointSummary `json:"endpoints"`
}

// EndpointSummary is one endpoint over every round so far.
type EndpointSummary struct {
	Host         string  `json:"host"`
	Protocol     string  `json:"protocol"`
	Required     bool    `json:"required"`
	Rounds       int     `json:"rounds"`
	OK           int     `json:"ok"`
	SuccessRatio float64 `json:"success_ratio"`
	// P50MS and P95MS are of the whole check of the endpoint, over the
	// rounds it succeeded in (nil before the first success).
	P50MS *float64 `json:"p50_ms"`
	P95MS *float64 `json:"p95_ms"`
	// Phases holds the same percentiles per phase, over the rounds the
	// phase happened in.
	Phases map[string]Percentiles `json:"phases"`
	// Failures counts failed rounds by what failed (netpath's kind, or
	// app_status, app_protocol, timeout).
	Failures map[string]int `json:"failures,omitempty"`

	total  []float64
	phases map[string][]float64
}

// Percentiles is the 50th and 95th percentile of a phase, in milliseconds.
type Percentiles struct {
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
}

// Add counts one round.
func (s *Summary) Add(r *Report) {
	s.Rounds++
	for _, res := range r.Endpoints {
		es := s.endpoint(res)
		es.Rounds++
		if res.OK {
			es.OK++
			es.total = append(es.total, float64(res.Duration.Microseconds())/1000)
		} else {
			if es.Failures == nil {
				es.Failures = map[string]int{}
			}
			es.Failures[res.Kind]++
		}
		for _, p := range Phases {
			if v := res.Timing.Get(p); v != nil {
				es.phases[p] = append(es.phases[p], *v)
			}
		}
		es.SuccessRatio = float64(es.OK) / float64(es.Rounds)
		es.P50MS, es.P95MS = nil, nil
		if len(es.total) > 0 {
			p50, p95 := percentile(es.total, 50), percentile(es.total, 95)
			es.P50MS, es.P95MS = &p50, &p95
		}
		for p, vs := range es.phases {
			es.Phases[p] = Percentiles{P50MS: percentile(vs, 50), P95MS: percentile(vs, 95)}
		}
	}
}

func (s *Summary) endpoint(r *Result) *EndpointSummary {
	for _, e := range s.Endpoints {
		if e.Host == r.Host && e.Protocol == r.Protocol {
			return e
		}
	}
	e := &EndpointSummary{Host: r.Host, Protocol: r.Protocol, Required: r.Required,
		Phases: map[string]Percentiles{}, phases: map[string][]float64{}}
	s.Endpoints = append(s.Endpoints, e)
	return e
}

// percentile is the nearest-rank percentile of vs (not modified).
func percentile(vs []float64, p float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
