package otlp_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/tarian-soc/tarian/internal/server/servertest"
)

// logs is one record from service svc with message msg and a source.ip
// attribute; its resource claims tenant swansea in tenant.id.
func logs(svc, msg string) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", svc)
	rl.Resource().Attributes().PutStr("host.name", "council-web01")
	rl.Resource().Attributes().PutStr("tenant.id", "swansea")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.Timestamp(1795627458821000000))
	lr.SetSeverityText("WARN")
	lr.Body().SetStr(msg)
	lr.Attributes().PutStr("source.ip", "203.0.113.45")
	return ld
}

// Through a whole server: records sent over OTLP/HTTP and OTLP/gRPC land,
// parsed, in the token's tenant and nowhere else.
func TestOTLPThroughServer(t *testing.T) {
	cfg := servertest.Config(t.TempDir())
	cfg.OTLP.HTTPListen = "127.0.0.1:0"
	cfg.OTLP.GRPCListen = "127.0.0.1:0"
	s := servertest.Start(t, cfg)
	s.AddTenant(t, "cardiff")
	s.AddTenant(t, "swansea")
	tok := s.Token(t, "cardiff", "ingest")

	body, err := plogotlp.NewExportRequestFromLogs(logs("auth-http", "otlp-marker over http")).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", "http://"+s.OTLPHTTPAddr().String()+"/v1/logs", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("OTLP/HTTP answer: %d", resp.StatusCode)
	}

	cc, err := grpc.NewClient(s.OTLPGRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	if _, err := plogotlp.NewGRPCClient(cc).Export(ctx, plogotlp.NewExportRequestFromLogs(logs("auth-grpc", "otlp-marker over grpc")), grpc.UseCompressor(grpcgzip.Name)); err != nil {
		t.Fatalf("OTLP/gRPC export: %v", err)
	}

	cardiff, swansea := s.Token(t, "cardiff", "tenant-analyst"), s.Token(t, "swansea", "tenant-analyst")
	q := "/api/v1/search?limit=10&q=" + url.QueryEscape("otlp-marker")
	var out string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, b := s.Do(t, "GET", q, cardiff, nil)
		if out = string(b); strings.Count(out, "\n") == 2 {
			break
		}
	}
	for _, want := range []string{`"service.name":"auth-http"`, `"service.name":"auth-grpc"`, `"host.name":"council-web01"`,
		`"source.ip":"203.0.113.45"`, `"log.level":"WARN"`, `"@timestamp":"2026-11-25T17:24:18.821Z"`} {
		if !strings.Contains(out, want) {
			t.Errorf("search results lack %s:\n%s", want, out)
		}
	}
	if _, b := s.Do(t, "GET", q, swansea, nil); len(strings.TrimSpace(string(b))) != 0 {
		t.Errorf("swansea (named in tenant.id) sees cardiff's OTLP records: %s", b)
	}
}
