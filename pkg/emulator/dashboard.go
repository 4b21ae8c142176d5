package emulator

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The dashboard: one page and its assets, embedded, so the binary serves it
// offline with no build step, and it asks nothing of any other origin.

//go:embed web
var webFiles embed.FS

// dashboardCSP keeps every request the page makes on the server's own origin.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *Server) routeDashboard(mux *http.ServeMux) {
	assets, _ := fs.Sub(webFiles, "web") // a constant path into the embedded tree: cannot fail
	static := http.StripPrefix("/ui/", http.FileServerFS(assets))
	mux.Handle("GET /ui/", headers(static))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		// Declared by the page; answered here too for clients that ask anyway.
		w.Header().Set("Content-Type", "image/svg+xml")
		http.ServeFileFS(w, r, assets, "icon.svg")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write([]byte("convctl serve: a Twilsock server.\n" +
				"  WebSocket:    " + PathWS + "\n" +
				"  control API:  " + PathControl + " (JSON; GET /control/connections, GET /control/events)\n" +
				"  dashboard:    open / in a browser\n"))
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", dashboardCSP)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		http.ServeFileFS(w, r, assets, "index.html")
	})
}

// headers sets what every asset answer carries.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}
