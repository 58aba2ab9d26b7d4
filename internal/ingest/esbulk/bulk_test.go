package esbulk

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/ingest"
)

// FuzzBulk: no body panics the decoder; every item is either a document
// that is a valid JSON object within the limit, or a failure with a status
// and a reason; a refused body is a *requestError.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		"",
		"{\"create\":{}}\n{}\n",
		"{\"index\":{\"_index\":\"a\",\"_id\":\"b\"}}\n{\"x\":1}\n{\"delete\":{}}\n{\"update\":{}}\n{\"doc\":{}}\n",
		"{\"create\":{}}\n[1]\n{\"create\":{}}\n",
		"{\"create\":{\"_index\":\"\\u00ff\\\"\"}}\r\n  {\"m\":\"\\n\"}  \r\n",
		"{\"bogus\":{}}\n",
		"{\"create\":{}}\n{\"unterminated\n",
	} {
		f.Add([]byte(s), "")
	}
	if dir := os.Getenv("TARIAN_CORPUS"); dir != "" {
		for _, c := range esCaptures {
			paths, _ := filepath.Glob(filepath.Join(dir, c, "*.body"))
			for _, p := range paths {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b, "winlogbeat-8.17.0")
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, index string) {
		d := &decoder{maxLine: 1024}
		items, err := d.decode(nil, body, index)
		if err != nil {
			var re *requestError
			if !errors.As(err, &re) || re.errType == "" || re.reason == "" {
				t.Fatalf("error %v is not a complete requestError", err)
			}
			return
		}
		if len(items) == 0 {
			t.Fatal("no items and no error")
		}
		for _, it := range items {
			switch {
			case it.doc != nil:
				if it.status != 0 || len(it.doc) > 1024 || it.doc[0] != '{' || it.action != actionCreate && it.action != actionIndex {
					t.Fatalf("bad document item %+v", it)
				}
				if !bytes.Contains(body, it.doc) {
					t.Fatal("document is not the bytes sent")
				}
			case it.status < 400 || it.errType == "" || it.reason == "":
				t.Fatalf("failed item without status or reason: %+v", it)
			}
			_ = appendString(nil, it.index)
		}
	})
}

// FuzzHandler sends arbitrary methods, paths, encodings and bodies through
// the whole handler with a valid token: nothing panics, every reply is
// Elasticsearch-shaped, and documents land only in the token's tenant.
func FuzzHandler(f *testing.F) {
	f.Add("POST", "/_bulk", "", []byte("{\"create\":{}}\n{}\n"))
	f.Add("PUT", "/logs/_bulk", "gzip", []byte("\x1f\x8b\x08\x00"))
	f.Add("GET", "/_ilm/policy/x", "", []byte(nil))
	f.Add("DELETE", "/_data_stream/x", "", []byte(nil))
	f.Add("HEAD", "/", "identity", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, enc string, body []byte) {
		// Inputs no HTTP client could send are not interesting.
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#%") {
			return
		}
		if _, err := url.ParseRequestURI("http://es" + path); err != nil || strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return
		}
		sink := newMemSink()
		cfg := DefaultConfig()
		cfg.MaxLineBytes, cfg.MaxBodyBytes = 1024, 1<<16
		r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(method, "http://es"+path, bytes.NewReader(body))
		req.Header.Set("Authorization", apiKey("fuzz", tokenA))
		if enc != "" && !strings.ContainsAny(enc, "\r\n") {
			req.Header.Set("Content-Encoding", enc)
		}
		rec := httptest.NewRecorder()
		r.Handler().ServeHTTP(rec, req)
		if rec.Header().Get("X-Elastic-Product") != "Elasticsearch" {
			t.Fatal("no X-Elastic-Product")
		}
		if method != "HEAD" && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%d reply is not JSON: %q", rec.Code, rec.Body)
		}
		for _, tn := range sink.Tenants() {
			if tn != "cardiff" {
				t.Fatalf("records in tenant %s", tn)
			}
		}
	})
}

func validMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS":
		return true
	}
	return false
}
