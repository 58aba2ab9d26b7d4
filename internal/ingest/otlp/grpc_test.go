package otlp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/ingest"
	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
)

// run starts a receiver's listeners until the test ends.
func run(t testing.TB, cfg Config) (*Receiver, *memSink) {
	t.Helper()
	sink := newMemSink()
	r, err := New(cfg, ingest.Deps{Sink: sink, DeadLetters: sink, Auth: testTokens, Metrics: sink})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if cfg.GRPCListen != "" && r.GRPCAddr() == nil || cfg.HTTPListen != "" && r.HTTPAddr() == nil {
		t.Fatal("Run did not bind")
	}
	return r, sink
}

// grpcClient dials addr with the real gRPC client and returns pdata's
// OTLP logs client.
func grpcClient(t testing.TB, addr string, creds credentials.TransportCredentials) plogotlp.GRPCClient {
	t.Helper()
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return plogotlp.NewGRPCClient(cc)
}

func withToken(t testing.TB, tok string) context.Context {
	return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
}

// TestGRPC exports over a real gRPC connection, plain and gzip, and checks
// the records, auth refusals and partial success.
func TestGRPC(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GRPCListen = "127.0.0.1:0"
	r, sink := run(t, cfg)
	c := grpcClient(t, r.GRPCAddr().String(), nil)
	req := plogotlp.NewExportRequestFromLogs(sampleLogs())
	if _, err := c.Export(withToken(t, tokA), req); err != nil {
		t.Fatalf("export: %v", err)
	}
	if _, err := c.Export(withToken(t, tokB), req, grpc.UseCompressor(grpcgzip.Name)); err != nil {
		t.Fatalf("gzip export: %v", err)
	}
	if diff := cmp.Diff(sampleEvents, sink.data("alpha")); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sampleEvents, sink.data("bravo")); diff != "" {
		t.Errorf("bravo (gzip) (-want +got):\n%s", diff)
	}
	basic := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic "+basicAuth("otel", tokA))
	if _, err := c.Export(basic, req); err != nil {
		t.Errorf("basic auth: %v", err)
	}

	for _, tc := range []struct {
		name string
		ctx  context.Context
		code codes.Code
	}{
		{"no token", context.Background(), codes.Unauthenticated},
		{"unknown token", withToken(t, "trn_nope"), codes.Unauthenticated},
		{"reader token", withToken(t, ingesttest.ReaderToken), codes.PermissionDenied},
		{"token store down", withToken(t, ingesttest.UnavailableToken), codes.Unavailable},
		{"raw token", metadata.AppendToOutgoingContext(context.Background(), "authorization", tokB), codes.Unauthenticated},
	} {
		_, err := c.Export(tc.ctx, req)
		if status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if n := len(sink.Records("alpha")); n != 6 {
		t.Errorf("alpha has %d records, want 6", n)
	}
	if n := len(sink.Records("bravo")); n != 3 {
		t.Errorf("bravo has %d records, want its own 3", n)
	}

	// Partial success.
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	sl.LogRecords().AppendEmpty().Body().SetStr("kept")
	sl.LogRecords().AppendEmpty()
	resp, err := c.Export(withToken(t, tokB), plogotlp.NewExportRequestFromLogs(ld))
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 1 || !strings.Contains(ps.ErrorMessage(), "empty log record") {
		t.Errorf("partial success %d %q", ps.RejectedLogRecords(), ps.ErrorMessage())
	}
	if d := sink.DeadLetters("bravo"); len(d) != 1 {
		t.Errorf("bravo dead letters: %+v", d)
	}
}

// TestGRPCBackpressure: a refused write is UNAVAILABLE with RetryInfo, as
// OTLP clients retry; nothing of it is kept and the retry lands once.
func TestGRPCBackpressure(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GRPCListen = "127.0.0.1:0"
	r, sink := run(t, cfg)
	c := grpcClient(t, r.GRPCAddr().String(), nil)
	req := plogotlp.NewExportRequestFromLogs(sampleLogs())
	sink.RefuseNext(1)
	_, err := c.Export(withToken(t, tokA), req)
	st := status.Convert(err)
	if st.Code() != codes.Unavailable {
		t.Fatalf("refused: %v, want UNAVAILABLE", err)
	}
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.RetryDelay.AsDuration()
		}
	}
	if delay != time.Second {
		t.Errorf("RetryInfo delay %v, want 1s (details %v)", delay, st.Details())
	}
	if sink.Total() != 0 {
		t.Fatalf("%d records kept of a refused export", sink.Total())
	}
	if _, err := c.Export(withToken(t, tokA), req); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleEvents, sink.data("alpha")); diff != "" {
		t.Errorf("after retry (-want +got):\n%s", diff)
	}
	sink.FailWith(os.ErrPermission)
	if _, err := c.Export(withToken(t, tokA), req); status.Code(err) != codes.Internal {
		t.Errorf("sink error: %v, want INTERNAL", err)
	}
}

// TestGRPCTooLarge: a message over max_body_bytes, even gzip-compressed
// below it, is refused and writes nothing.
func TestGRPCTooLarge(t *testing.T) {
	cfg := DefaultConfig()
	cfg.GRPCListen = "127.0.0.1:0"
	cfg.MaxBodyBytes, cfg.MaxRecordBytes = 8192, 1024
	r, sink := run(t, cfg)
	c := grpcClient(t, r.GRPCAddr().String(), nil)
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	for range 40 {
		sl.LogRecords().AppendEmpty().Body().SetStr(strings.Repeat("z", 500))
	}
	req := plogotlp.NewExportRequestFromLogs(ld)
	for _, opts := range [][]grpc.CallOption{nil, {grpc.UseCompressor(grpcgzip.Name)}} {
		if _, err := c.Export(withToken(t, tokA), req, opts...); status.Code(err) != codes.ResourceExhausted {
			t.Errorf("oversized (%d options): %v, want RESOURCE_EXHAUSTED", len(opts), err)
		}
	}
	if sink.Total() != 0 {
		t.Errorf("%d records written", sink.Total())
	}
}

// TestTLS serves both listeners over TLS with a test certificate; a
// client trusting it exports over each.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pool := selfSigned(t, dir)
	cfg := DefaultConfig()
	cfg.HTTPListen, cfg.GRPCListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	r, sink := run(t, cfg)
	tc := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	c := grpcClient(t, r.GRPCAddr().String(), credentials.NewTLS(tc))
	req := plogotlp.NewExportRequestFromLogs(sampleLogs())
	if _, err := c.Export(withToken(t, tokA), req); err != nil {
		t.Fatalf("grpc over TLS: %v", err)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	pb, _ := req.MarshalProto()
	hr, _ := http.NewRequest("POST", "https://"+r.HTTPAddr().String()+"/v1/logs", strings.NewReader(string(pb)))
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("Authorization", "Bearer "+tokA)
	resp, err := hc.Do(hr)
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("https: %d", resp.StatusCode)
	}
	if n := len(sink.Records("alpha")); n != 6 {
		t.Errorf("%d records over TLS, want 6", n)
	}
	// Plain HTTP on the TLS listener is refused.
	if resp, err := http.Post("http://"+r.HTTPAddr().String()+"/v1/logs", "application/x-protobuf", strings.NewReader(string(pb))); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP accepted on the TLS listener")
		}
		resp.Body.Close()
	}
}

// selfSigned writes a certificate for localhost/127.0.0.1 and its key to
// dir and returns a pool trusting it.
func selfSigned(t testing.TB, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}
