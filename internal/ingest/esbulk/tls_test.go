package esbulk

import (
	"context"
	"os"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/tlsfile/tlsfiletest"
)

// TestRunTLS serves HTTPS from Run and takes a bulk request from the Go
// client that trusts the certificate.
func TestRunTLS(t *testing.T) {
	pair := tlsfiletest.Write(t, t.TempDir(), "es")
	certFile, keyFile := pair.CertFile, pair.KeyFile
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	sink := newMemSink()
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
	es := goClient(t, "https://"+r.Addr().String(), elasticsearch.Config{APIKey: apiKeyValue("tls", tokenA), CACert: certPEM})
	got, st := runIndexer(t, es, "logs-tls-default", []string{`{"message":"over TLS"}`})
	if st.NumCreated != 1 || got[`{"message":"over TLS"}`] != 201 {
		t.Fatalf("stats %+v, statuses %v", st, got)
	}
	if docs := sink.docs("cardiff"); len(docs) != 1 {
		t.Errorf("stored %v", docs)
	}
}
