package otlp

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The OpenTelemetry JS packages the node test installs, pinned: the log
// exporters the wire captures were made with, and the SDK they need.
var nodePackages = []string{
	"@opentelemetry/exporter-logs-otlp-http@0.223.1",
	"@opentelemetry/exporter-logs-otlp-proto@0.223.1",
	"@opentelemetry/sdk-logs@0.223.1",
	"@opentelemetry/api-logs@0.223.1",
	"@opentelemetry/resources@2.12.1",
	"@opentelemetry/api@1.9.0",
}

// nodeScript emits five string-body records and one map-body record with
// the OpenTelemetry JS SDK and exports them with the chosen OTLP/HTTP
// exporter (kind "http" is JSON, "proto" protobuf). Export errors are
// printed by the SDK's diagnostic logger.
const nodeScript = `
const api = require('@opentelemetry/api');
api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.INFO);
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const [url, token, kind] = process.argv.slice(2);
const { OTLPLogExporter } = require(kind === 'proto' ? '@opentelemetry/exporter-logs-otlp-proto' : '@opentelemetry/exporter-logs-otlp-http');
const exporter = new OTLPLogExporter({ url, headers: { Authorization: 'Bearer ' + token } });
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'soc-node-' + kind, 'host.name': 'council-web02', 'tenant.id': 'alpha' }),
  processors: [new BatchLogRecordProcessor({ exporter })],
});
const logger = provider.getLogger('soc-node-test', '0.1.0');
for (let i = 0; i < 5; i++) {
  logger.emit({ severityNumber: 17, severityText: 'ERROR', body: 'Failed password for invalid user admin' + i + ' from 203.0.113.' + i,
    attributes: { 'source.ip': '203.0.113.' + i, 'event.code': '4625', attempt: i } });
}
logger.emit({ severityNumber: 9, severityText: 'INFO', body: { user: 'alice', action: 'login', ok: true }, attributes: { kind: 'map' } });
provider.forceFlush().then(() => provider.shutdown()).then(() => console.log('done'));
`

// nodeModules installs the pinned packages once per test binary run, in
// a temporary folder, or skips the test saying why.
func nodeModules(t *testing.T) (node, dir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the OpenTelemetry JS exporter test (it runs npm install)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: skipping the OpenTelemetry JS exporter test")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not installed: skipping the OpenTelemetry JS exporter test")
	}
	dir = t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, append([]string{"install", "--no-audit", "--no-fund", "--silent"}, nodePackages...)...)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install of the OpenTelemetry JS exporters failed, skipping: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "send.js"), []byte(nodeScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return node, dir
}

// TestNodeExporters runs the OpenTelemetry JS OTLP/HTTP log exporters
// (JSON and protobuf) under node against a real listener. The first
// export meets back-pressure (503, Retry-After: 1): the exporter retries
// and every record lands once, in the token's tenant, whatever tenant.id
// the resource claims.
func TestNodeExporters(t *testing.T) {
	node, dir := nodeModules(t)
	for _, kind := range []string{"http", "proto"} {
		t.Run(kind, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.HTTPListen = "127.0.0.1:0"
			r, sink := run(t, cfg)
			sink.RefuseNext(1)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "send.js", "http://"+r.HTTPAddr().String()+"/v1/logs", tokB, kind)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "done") {
				t.Fatalf("node: %v\n%s", err, out)
			}
			if strings.Contains(strings.ToLower(string(out)), "error") || strings.Contains(string(out), "failed") {
				t.Errorf("the exporter reported a problem:\n%s", out)
			}
			if sink.Writes() < 2 {
				t.Errorf("%d sink writes: the refused export was not retried", sink.Writes())
			}
			recs := sink.data("bravo")
			if len(recs) != 6 {
				t.Fatalf("bravo has %d records, want 6:\n%s\nnode said:\n%s", len(recs), strings.Join(recs, "\n"), out)
			}
			if n := len(sink.Records("alpha")); n != 0 {
				t.Errorf("alpha (named by tenant.id) got %d records", n)
			}
			var msgs []string
			stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
			for _, r := range recs {
				var ev map[string]any
				if err := json.Unmarshal([]byte(r), &ev); err != nil {
					t.Fatalf("%v: %s", err, r)
				}
				if ev["service.name"] != "soc-node-"+kind || ev["host.name"] != "council-web02" || ev["scope.name"] != "soc-node-test" || ev["scope.version"] != "0.1.0" {
					t.Errorf("resource/scope fields: %s", r)
				}
				if s, _ := ev["@timestamp"].(string); !stamp.MatchString(s) {
					t.Errorf("@timestamp %q: %s", s, r)
				}
				attrs, _ := ev["attributes"].(map[string]any)
				if m, ok := ev["message"].(string); ok {
					msgs = append(msgs, m)
					if ev["log.level"] != "ERROR" || ev["event.severity"] != 17.0 || attrs["event.code"] != "4625" || attrs["source.ip"] == nil {
						t.Errorf("string-body record: %s", r)
					}
				} else if body, _ := ev["body"].(map[string]any); body["user"] != "alice" || body["ok"] != true || attrs["kind"] != "map" || ev["log.level"] != "INFO" {
					t.Errorf("map-body record: %s", r)
				}
			}
			slices.Sort(msgs)
			want := []string{}
			for i := range 5 {
				want = append(want, "Failed password for invalid user admin"+string(rune('0'+i))+" from 203.0.113."+string(rune('0'+i)))
			}
			if !slices.Equal(msgs, want) {
				t.Errorf("messages %q, want %q", msgs, want)
			}
		})
	}
}

// curl runs the real curl with args and returns what it printed.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCurl posts OTLP/JSON with curl, as the OTLP docs do: plain,
// gzip, chunked; and a bad token.
func TestCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed: skipping the curl client test")
	}
	_, sink, srv := newTest(t, DefaultConfig())
	u := srv.URL + "/v1/logs"
	body := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl"}}]},` +
		`"scopeLogs":[{"logRecords":[{"timeUnixNano":"1795627458821000000","severityText":"WARN","body":{"stringValue":"curl says %s"}}]}]}]}`
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.json")
	zipped := filepath.Join(dir, "zipped.json.gz")
	if err := os.WriteFile(plain, []byte(strings.Replace(body, "%s", "chunked", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(zipped, gzipped([]byte(strings.Replace(body, "%s", "gzip", 1))), 0o644); err != nil {
		t.Fatal(err)
	}
	auth := "Authorization: Bearer " + tokA
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"json", []string{"-H", auth, "-H", "Content-Type: application/json", "--data-binary", strings.Replace(body, "%s", "plain", 1), u}, "{}"},
		{"gzip", []string{"-H", auth, "-H", "Content-Type: application/json", "-H", "Content-Encoding: gzip", "--data-binary", "@" + zipped, u}, "{}"},
		{"chunked", []string{"-H", auth, "-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + plain, u}, "{}"},
		{"bad token", []string{"-w", " %{http_code}", "-H", "Authorization: Bearer nope", "-H", "Content-Type: application/json", "--data-binary", body, u}, `{"code":16,"message":"unknown or revoked token"} 401`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := curl(t, tc.args...); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	var msgs []string
	for _, r := range sink.data("alpha") {
		var ev struct{ Message, Timestamp string }
		if err := json.Unmarshal([]byte(strings.Replace(r, "@timestamp", "timestamp", 1)), &ev); err != nil || ev.Timestamp != "2026-11-25T17:24:18.821Z" {
			t.Errorf("%s: %v", r, err)
		}
		msgs = append(msgs, ev.Message)
	}
	if want := []string{"curl says plain", "curl says gzip", "curl says chunked"}; !slices.Equal(msgs, want) {
		t.Errorf("messages %q, want %q", msgs, want)
	}
}
