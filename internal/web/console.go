package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	console "github.com/tarian-soc/tarian/web"
)

// The cache rules of the console's files: index.html is revalidated on
// every load, so a new build shows at once; the files under assets/ have
// their content hash in their names and never change.
const (
	cacheIndex  = "no-cache"
	cacheAssets = "public, max-age=31536000, immutable"
)

// registerConsole serves the web console (the single-page application
// embedded from web/dist) at every path no other route claims: its files,
// and index.html for any other path without a file extension, so the
// app's own paths (/alerts/42) load it on a reload or a shared link.
//
// The pattern is "/" for every method: "GET /" would conflict with the
// method-less "/api/" and "/taxii2/" catch-alls in the router. A method
// other than GET or HEAD answers 405.
func (a *API) registerConsole() {
	dist, err := fs.Sub(console.Dist, "dist")
	if err != nil {
		panic("BUG: web/dist missing from the embedded console: " + err.Error())
	}
	a.public("/", func(w http.ResponseWriter, r *http.Request) { serveConsole(w, r, dist) })
	// The names behind the tokens that authors and actors name (actors.go).
	a.route("GET /api/v1/actors", readers, a.getActors)
}

func serveConsole(w http.ResponseWriter, r *http.Request, dist fs.FS) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, &apiError{http.StatusMethodNotAllowed, "method_not_allowed", r.Method + " " + r.URL.Path + ": the console answers GET and HEAD"})
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case name == "" || name == "index.html":
		name = "index.html"
	case strings.HasPrefix(name, "assets/") || strings.Contains(path.Base(name), "."):
		// A file: served if the build has it, else not found (never
		// index.html, which a browser would take for a script or image).
	default:
		name = "index.html"
	}
	if !fs.ValidPath(name) {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "no console file " + r.URL.Path})
		return
	}
	f, err := dist.Open(name)
	if err != nil {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "no console file " + r.URL.Path})
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		writeError(w, &apiError{http.StatusNotFound, "not_found", "no console file " + r.URL.Path})
		return
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		panic("BUG: embedded console file " + name + " is not seekable")
	}
	if !strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", cacheIndex)
		http.ServeContent(w, r, name, st.ModTime(), rs)
		return
	}
	w.Header().Set("Cache-Control", cacheAssets)
	w.Header().Add("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		if gz, err := gzipped(name, rs); err == nil {
			w.Header().Set("Content-Encoding", "gzip")
			http.ServeContent(w, r, name, st.ModTime(), bytes.NewReader(gz))
			return
		}
		rs.Seek(0, io.SeekStart)
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
}

// gzippedAssets holds each asset compressed, made on its first request:
// the embedded files never change, and the console's script is about a
// third of its size gzipped (issue 13's first-load budget is gzipped).
var gzippedAssets sync.Map

func gzipped(name string, r io.Reader) ([]byte, error) {
	if gz, ok := gzippedAssets.Load(name); ok {
		return gz.([]byte), nil
	}
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(zw, r); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	gzippedAssets.Store(name, b.Bytes())
	return b.Bytes(), nil
}

// acceptsGzip reports whether the request's Accept-Encoding admits gzip
// (named, without q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			v, err := strconv.ParseFloat(q, 64)
			return err == nil && v > 0
		}
		return true
	}
	return false
}
