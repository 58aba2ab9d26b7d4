package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/web"
)

// TestConsole checks how the embedded console is served: index.html at
// "/" and at every console path, never cached without revalidation; its
// hashed assets cached for good with the right types; a missing file is
// not found rather than index.html; the API's own 404s are untouched; and
// the page obeys the Content-Security-Policy (no inline script or style).
func TestConsole(t *testing.T) {
	s := httptest.NewServer(web.New(web.DefaultConfig(), web.Deps{Users: nopUsers{}}))
	defer s.Close()
	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	resp, index := get("GET", "/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("GET /: CSP %q", resp.Header.Get("Content-Security-Policy"))
	}
	for _, p := range []string{"/alerts", "/alerts/42", "/login", "/index.html"} {
		if resp, body := get("GET", p); resp.StatusCode != 200 || body != index || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: %d, index.html %v, Cache-Control %q", p, resp.StatusCode, body == index, resp.Header.Get("Cache-Control"))
		}
	}

	// Only external module scripts and stylesheets: the CSP has no
	// 'unsafe-inline'.
	for _, tag := range regexp.MustCompile(`(?is)<script[^>]*>.*?</script>`).FindAllString(index, -1) {
		if !regexp.MustCompile(`^<script type="module" crossorigin src="/assets/[^"]+\.js"></script>$`).MatchString(tag) {
			t.Errorf("index.html: script %q is not an external module", tag)
		}
	}
	if regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`).MatchString(index) {
		t.Errorf("index.html has an inline style or event handler:\n%s", index)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(index, -1)
	if len(assets) != 2 {
		t.Fatalf("index.html names %d assets, want a script and a stylesheet:\n%s", len(assets), index)
	}
	for _, m := range assets {
		resp, body := get("GET", m[1])
		want := "text/javascript"
		if strings.HasSuffix(m[1], ".css") {
			want = "text/css"
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), want) ||
			resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(body) == 0 {
			t.Errorf("GET %s: %d %q %q, %d bytes", m[1], resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), len(body))
		}
	}

	// Assets go gzipped to a client that asks (the first-load budget is
	// gzipped), as they are to one that does not.
	for _, m := range assets {
		_, plain := get("GET", m[1])
		for _, ae := range []string{"gzip", "br, gzip;q=0.8", "identity", "gzip;q=0"} {
			req, _ := http.NewRequest("GET", s.URL+m[1], nil)
			req.Header.Set("Accept-Encoding", ae) // set: the transport then leaves the body alone
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantGzip := ae == "gzip" || ae == "br, gzip;q=0.8"
			if wantGzip {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatalf("GET %s (Accept-Encoding %s): not gzip: %v", m[1], ae, err)
				}
				body, _ = io.ReadAll(zr)
			}
			if got := resp.Header.Get("Content-Encoding") == "gzip"; got != wantGzip || string(body) != plain || resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("GET %s (Accept-Encoding %s): gzip %v, Vary %q, body same %v", m[1], ae, got, resp.Header.Get("Vary"), string(body) == plain)
			}
		}
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/assets/missing-0000.js", 404},
		{"GET", "/favicon.ico", 404},
		{"GET", "/assets/", 404},
		{"POST", "/", 405},
		{"DELETE", "/alerts/1", 405},
		{"GET", "/api/v1/nothing", 404},
		{"HEAD", "/", 200},
	} {
		resp, body := get(c.method, c.path)
		if resp.StatusCode != c.status || c.status != 200 && body == index {
			t.Errorf("%s %s: %d, want %d (index.html: %v)", c.method, c.path, resp.StatusCode, c.status, body == index)
		}
	}
}
