package hec

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// curl runs the real curl with args and returns what it printed.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestCurl drives the receiver with curl as Splunk's documentation does:
// every way to give the token, concatenated events, raw with a channel,
// the ack endpoint.
func TestCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed: skipping the curl client tests")
	}
	srv, sink := server(t, DefaultConfig())
	u := srv.URL + "/services/collector"
	ok := `{"text":"Success","code":0}`
	events := `{"event":"hello","sourcetype":"manual"}{"event":{"user":"jsmith"},"time":1795627447.5}` + "\n" + `{"event":"third"}`
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"Authorization Splunk", []string{"-H", "Authorization: Splunk " + tokA, "-d", events, u + "/event"}, ok},
		{"basic auth", []string{"-u", "x:" + tokA, "-d", `{"event":"basic"}`, u}, ok},
		{"query token", []string{"-d", `{"event":"query"}`, u + "/event?token=" + tokA}, ok},
		{"raw with channel", []string{"-H", "Authorization: Splunk " + tokA, "-H", "X-Splunk-Request-Channel: 0AA4A2A6-6C1B-4A3A-9E4B-3B7E1B9E0C11", "--data-binary", "raw one\nraw two\n", u + "/raw?sourcetype=syslog"}, `{"text":"Success","code":0,"ackId":0}`},
		{"ack", []string{"-H", "Authorization: Splunk " + tokA, "-d", `{"acks":[0,1]}`, u + "/ack?channel=0AA4A2A6-6C1B-4A3A-9E4B-3B7E1B9E0C11"}, `{"acks":{"0":true,"1":false}}`},
		{"gzip", []string{"-H", "Authorization: Splunk " + tokB, "-H", "Content-Encoding: gzip", "--data-binary", "@" + gzipFile(t, `{"event":"zipped"}`), u + "/event"}, ok},
		{"no token", []string{"-d", `{"event":"x"}`, u + "/event"}, `{"text":"Token is required","code":2}`},
		{"bad token", []string{"-H", "Authorization: Splunk nope", "-d", `{"event":"x"}`, u + "/event"}, `{"text":"Invalid token","code":4}`},
		{"health", []string{u + "/health"}, `{"text":"HEC is healthy","code":17}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := curl(t, tc.args...); got != tc.want {

				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	want := []string{
		`{"event":"hello","sourcetype":"manual"}`,
		`{"event":{"user":"jsmith"},"time":1795627447.5}`,
		`{"event":"third"}`,
		`{"event":"basic"}`,
		`{"event":"query"}`,
		`{"event":"raw one","channel":"0AA4A2A6-6C1B-4A3A-9E4B-3B7E1B9E0C11","sourcetype":"syslog"}`,
		`{"event":"raw two","channel":"0AA4A2A6-6C1B-4A3A-9E4B-3B7E1B9E0C11","sourcetype":"syslog"}`,
	}
	if diff := cmp.Diff(want, sink.data("alpha")); diff != "" {
		t.Errorf("alpha (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`{"event":"zipped"}`}, sink.data("bravo")); diff != "" {
		t.Errorf("bravo (-want +got):\n%s", diff)
	}
}

func gzipFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gzip", "-n", p).CombinedOutput(); err != nil {
		t.Skipf("gzip: %v %s", err, out)
	}
	return p + ".gz"
}

// splunkLoggingJS sends three events through Splunk's own Node library, one
// request each (maxBatchCount 1), then three in one batched request.
const splunkLoggingJS = `
const SplunkLogger = require('splunk-logging').Logger;
const [url, token] = process.argv.slice(2);
function send(cfg, n) {
  return new Promise((resolve) => {
    const logger = new SplunkLogger(Object.assign({ token, url }, cfg));
    logger.error = (err) => { console.log('ERR ' + (err && err.message)); resolve(); };
    let left = n;
    for (let i = 0; i < n; i++) {
      logger.send({ message: { event: 'login_failed', user: 'u' + i, src_ip: '203.0.113.' + i },
        metadata: { source: 'node-test', sourcetype: '_json', index: 'main', host: 'council-web01' }, severity: 'info' },
        (err, resp, body) => { console.log('RESP ' + (err ? err.message : JSON.stringify(body))); if (--left === 0 || cfg.maxBatchCount > 1) resolve(); });
    }
  });
}
(async () => {
  await send({ maxBatchCount: 1 }, 3);
  await send({ maxBatchCount: 3 }, 3);
})();
`

// TestSplunkLogging runs Splunk's npm splunk-logging library under node
// against a real listener.
func TestSplunkLogging(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the npm splunk-logging test")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: skipping the splunk-logging test")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--silent", "splunk-logging@0.11.1")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install splunk-logging failed (offline?), skipping: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "send.js"), []byte(splunkLoggingJS), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, sink := server(t, DefaultConfig())
	node := exec.CommandContext(ctx, "node", "send.js", srv.URL, tokB)
	node.Dir = dir
	out, err := node.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if got := strings.Count(string(out), `RESP {"text":"Success","code":0}`); got != 4 {
		t.Errorf("want 4 successful responses (3 single, 1 batch), node printed:\n%s", out)
	}
	recs := sink.data("bravo")
	if len(recs) != 6 {
		t.Fatalf("bravo has %d records, want 6:\n%s", len(recs), strings.Join(recs, "\n"))
	}
	for _, r := range recs {
		for _, s := range []string{`"host":"council-web01"`, `"sourcetype":"_json"`, `"event":{"message":{"event":"login_failed"`} {
			if !strings.Contains(r, s) {
				t.Errorf("record lacks %s: %s", s, r)
			}
		}
	}
	if n := len(sink.data("alpha")); n != 0 {
		t.Errorf("alpha got %d records from bravo's token", n)
	}
}
