package exporter

import (
	"html/template"

	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// entry is one recent probe.
type entry struct {
	ID       uint64
	At       time.Time
	Target   string
	Module   string
	Outcome  string
	Success  bool
	Duration time.Duration
	Log      string
	// Metrics is the probe's own registry, rendered only when its log is read.
	Metrics prometheus.Gatherer
}

// history is a ring of the last n probes. Safe for concurrent use.
type history struct {
	mu   sync.Mutex
	next uint64
	ring []entry // ring[i%n] holds probe i
	n    int
}

func newHistory(n int) *history { return &history{n: n, ring: make([]entry, 0, n)} }

// add keeps e, dropping the oldest probe when full, and returns e's id.
func (h *history) add(e entry) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	e.ID = h.next
	h.next++
	if len(h.ring) < h.n {
		h.ring = append(h.ring, e)
	} else {
		h.ring[e.ID%uint64(h.n)] = e
	}
	return e.ID
}

// get returns probe id if it is still kept.
func (h *history) get(id uint64) (entry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id >= h.next || h.next-id > uint64(len(h.ring)) {
		return entry{}, false
	}
	return h.ring[id%uint64(h.n)], true
}

// recent returns the kept probes, newest first, without their logs.
func (h *history) recent() []entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]entry, 0, len(h.ring))
	for id := h.next; id > h.next-uint64(len(h.ring)); id-- {
		e := h.ring[(id-1)%uint64(h.n)]
		e.Log, e.Metrics = "", nil
		out = append(out, e)
	}
	return out
}

func (h *Handler) serveLog(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, "id: want the number of a probe listed on /", http.StatusBadRequest)
		return
	}
	e, ok := h.history.get(id)
	if !ok {
		http.Error(w, "probe "+strconv.FormatUint(id, 10)+" is not kept any more (the exporter keeps the last "+strconv.Itoa(h.history.n)+")", http.StatusNotFound)
		return
	}
	metrics, err := gatherText(e.Metrics)
	if err != nil {
		metrics += "error: " + err.Error() + "\n"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(e.Log))
	_, _ = w.Write([]byte("\nMetrics answered:\n"))
	_, _ = w.Write([]byte(metrics))
}

// indexPage is parsed on first use: the exporter package is linked into
// every convctl command, and most never serve a page.
var indexPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Funcs(template.FuncMap{
		// 393µs, 3.21ms, 1.003s: as precise as a person reading a list wants.
		"dur": func(d time.Duration) string { return d.Round(10 * time.Microsecond).String() },
	}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>convctl exporter</title>
<link rel="icon" href="data:,">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}
td.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#166534}.bad{color:#b91c1c}
code{background:#f3f3f3;padding:0 .2em}
</style></head><body>
<h1>convctl exporter</h1>
<p>Probe with <code>/probe?target=us1&amp;module=connect</code> (add <code>&amp;debug=true</code> for the log);
the exporter's own metrics are at <a href="metrics">/metrics</a>. Modules: {{range $i, $m := .Modules}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}.</p>
<h2>Recent probes</h2>
{{if .Probes}}<table><thead><tr><th>time (UTC)</th><th>target</th><th>module</th><th>outcome</th><th>duration</th><th></th></tr></thead><tbody>
{{range .Probes}}<tr data-probe-id="{{.ID}}"><td>{{.At.UTC.Format "2006-01-02 15:04:05"}}</td><td>{{.Target}}</td><td>{{.Module}}</td>
<td class="{{if .Success}}ok{{else}}bad{{end}}">{{.Outcome}}</td><td class="num">{{dur .Duration}}</td><td><a href="logs/{{.ID}}">log</a></td></tr>
{{end}}</tbody></table>{{else}}<p>No probes yet.</p>{{end}}
</body></html>
`))
})

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := indexPage().Execute(w, struct {
		Modules []string
		Probes  []entry
	}{h.names, h.history.recent()})
	if err != nil {
		h.log.Error("index page", "err", err)
	}
}
