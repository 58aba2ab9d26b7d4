package hec

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// TestRunTLS serves HTTPS from Run: a client trusting the certificate is
// answered over TLS 1.2 or later, a plain-HTTP request is not taken.
func TestRunTLS(t *testing.T) {
	pair := tlsfiletest.Write(t, t.TempDir(), "hec")
	sink := newMemSink()
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = pair.CertFile, pair.KeyFile
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	<-r.ready
	pool := pair.Pool
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12}}}
	req, _ := http.NewRequest("POST", "https://"+r.Addr().String()+"/services/collector/event", strings.NewReader(`{"event":"over TLS"}`))
	req.Header.Set("Authorization", "Splunk "+tokA)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("HTTPS: %d %s (TLS %+v)", resp.StatusCode, body, resp.TLS)
	}
	if got := sink.data("alpha"); len(got) != 1 {
		t.Errorf("stored %v, want the one event", got)
	}
	// Plain HTTP to the TLS port is refused; nothing more is stored.
	if resp, err := http.Post("http://"+r.Addr().String()+"/services/collector/event", "application/json", strings.NewReader(`{"event":"plain"}`)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP accepted on the TLS listener")
		}
	}
	if got := sink.data("alpha"); len(got) != 1 {
		t.Errorf("after plain HTTP: stored %v", got)
	}
	// An old client is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Post("https://"+r.Addr().String()+"/services/collector/health", "", nil); err == nil {
		resp.Body.Close()
		t.Error("a TLS 1.1 client was served")
	}
}
