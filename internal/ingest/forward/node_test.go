package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/ingest/ingesttest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// nodePackage is the npm client the tests run, at an exact version.
const nodePackage = "fluent-logger@3.4.1"

// nodeScript sends N records with fluent-logger (npm), each acknowledged
// (requireAckResponse), and prints how many callbacks succeeded and failed.
// Arguments: port, event mode, tenant marker, N, JSON of extra sender
// options (tlsOptions paths are read as files), wait in ms.
const nodeScript = `
const fs = require('fs');
const FluentLogger = require('fluent-logger');
const [port, mode, to, n, extra, wait] = process.argv.slice(2);
const opts = Object.assign({ host: '127.0.0.1', port: +port, eventMode: mode, requireAckResponse: true,
  timeout: 3.0, reconnectInterval: 600000, ackResponseTimeout: 10000,
  internalLogger: { info() {}, error(...a) { console.error(...a.map(String)); } } }, JSON.parse(extra));
if (opts.tlsOptions) for (const k of ['ca', 'cert', 'key']) opts.tlsOptions[k] = fs.readFileSync(opts.tlsOptions[k]);
const s = FluentLogger.createFluentSender('node', opts);
s.on('error', e => console.error('ERR', e.name, e.message));
let ok = 0, fail = 0;
const finish = (extra) => { console.log(JSON.stringify(Object.assign({ ok, fail }, extra))); s.end(); process.exit(0); };
for (let i = 0; i < +n; i++) {
  const time = i % 2 ? new FluentLogger.EventTime(1714558953 + i, 1000 * i) : 1714558953 + i;
  s.emit(mode, { i, to, mode, message: 'record ' + i + ' für ' + to }, time, err => {
    if (err) { fail++; console.error('ERR', err.message); } else ok++;
    if (ok + fail === +n) finish({});
  });
}
setTimeout(() => finish({ timeout: true }), +wait);
`

// nodeClient installs fluent-logger with npm in a temporary folder once
// for the test and returns a function that runs the script; the test is
// skipped, saying so, without node or npm.
func nodeClient(t *testing.T) func(port int, mode, to string, n int, extra map[string]any, wait time.Duration) (ok, fail int, timedOut bool) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: skipping the npm " + nodePackage + " client tests (they run npm install)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: skipping the npm " + nodePackage + " client tests")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not installed: skipping the npm " + nodePackage + " client tests")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--silent", nodePackage)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install %s failed, skipping: %v\n%s", nodePackage, err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "send.js"), []byte(nodeScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(port int, mode, to string, n int, extra map[string]any, wait time.Duration) (int, int, bool) {
		t.Helper()
		if extra == nil {
			extra = map[string]any{}
		}
		x, _ := json.Marshal(extra)
		ctx, cancel := context.WithTimeout(t.Context(), wait+30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "send.js", fmt.Sprint(port), mode, to, fmt.Sprint(n), string(x), fmt.Sprint(wait.Milliseconds()))
		cmd.Dir = dir
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node %s %s: %v\n%s", mode, to, err, stderr.String())
		}
		var res struct {
			OK, Fail int
			Timeout  bool
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("node output %q: %v\n%s", out, err, stderr.String())
		}
		if testing.Verbose() && stderr.Len() > 0 {
			t.Logf("node %s %s stderr:\n%s", mode, to, stderr.String())
		}
		return res.OK, res.Fail, res.Timeout
	}
}

// checkNode checks tenant tn holds exactly the n records the script sent
// in mode, each once, with its time.
func checkNode(t *testing.T, sink *memSink, tn tenant.ID, mode string, n int) {
	t.Helper()
	seen := map[int]int{}
	for _, d := range sink.data(tn) {
		var rec struct {
			I       int
			To      string
			Mode    string
			Message string
			Time    string `json:"@timestamp"`
			Tag     string `json:"fluent.tag"`
		}
		if err := json.Unmarshal([]byte(d), &rec); err != nil {
			t.Fatalf("%s: %v: %s", tn, err, d)
		}
		if rec.To != string(tn) {
			t.Fatalf("%s holds a record sent for %s: %s", tn, rec.To, d)
		}
		if rec.Mode != mode {
			continue
		}
		want := time.Unix(1714558953+int64(rec.I), 0).UTC()
		if rec.I%2 == 1 {
			want = want.Add(time.Duration(1000*rec.I) * time.Nanosecond)
		}
		if rec.Time != want.Format(time.RFC3339Nano) || rec.Tag != "node."+mode || rec.Message != fmt.Sprintf("record %d für %s", rec.I, tn) {
			t.Errorf("%s: record %s", tn, d)
		}
		seen[rec.I]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("%s %s: record %d seen %d times", tn, mode, i, seen[i])
		}
	}
	if len(seen) != n {
		t.Errorf("%s %s: %d distinct records, want %d", tn, mode, len(seen), n)
	}
}

// TestNodeClient runs npm fluent-logger against the receiver in every
// event mode it has, with acknowledgements, into two tenants; then the
// handshake with the listener's shared key (and a wrong key), and TLS with
// client certificates.
func TestNodeClient(t *testing.T) {
	run := nodeClient(t)
	const n = 50
	t.Run("modes", func(t *testing.T) {
		r, sink := start(t, tcpConfig("alpha", "bravo"))
		modes := []string{"Message", "PackedForward", "CompressedPackedForward"}
		for i, tn := range []tenant.ID{"alpha", "bravo"} {
			for _, mode := range modes {
				ok, fail, timedOut := run(port(t, r.Addrs()[i]), mode, string(tn), n, nil, 20*time.Second)
				if ok != n || fail != 0 || timedOut {
					t.Fatalf("%s %s: %d acknowledged, %d failed, timed out %v", tn, mode, ok, fail, timedOut)
				}
			}
		}
		for _, tn := range []tenant.ID{"alpha", "bravo"} {
			for _, mode := range modes {
				checkNode(t, sink, tn, mode, n)
			}
			if got := len(sink.data(tn)); got != len(modes)*n {
				t.Errorf("%s: %d records, want %d", tn, got, len(modes)*n)
			}
		}
	})
	t.Run("handshake", func(t *testing.T) {
		cfg := tcpConfig("alpha")
		cfg.Listeners[0].SharedKey = "s3cret-shared"
		r, sink := start(t, cfg)
		p := port(t, r.Addrs()[0])
		sec := map[string]any{"security": map[string]any{"clientHostname": "fb01.alpha.example", "sharedKey": "s3cret-shared"}}
		if ok, fail, timedOut := run(p, "Message", "alpha", n, sec, 20*time.Second); ok != n || fail != 0 || timedOut {
			t.Fatalf("right key: %d acknowledged, %d failed, timed out %v", ok, fail, timedOut)
		}
		checkNode(t, sink, "alpha", "Message", n)
		wrong := map[string]any{"security": map[string]any{"clientHostname": "fb01.alpha.example", "sharedKey": "guess"}}
		if ok, _, _ := run(p, "PackedForward", "alpha", 5, wrong, 2*time.Second); ok != 0 {
			t.Fatalf("wrong key: %d acknowledged", ok)
		}
		// Without the handshake the listener refuses too.
		if ok, _, _ := run(p, "Message", "alpha", 5, nil, 2*time.Second); ok != 0 {
			t.Fatalf("no handshake: %d acknowledged", ok)
		}
		ingesttest.WaitFor(t, 5*time.Second, "refusals", func() bool { return sink.Counted(MetricRefused, "") >= 2 })
		if got := len(sink.data("alpha")); got != n {
			t.Errorf("%d records, want %d (nothing from the refused senders)", got, n)
		}
	})
	t.Run("tls", func(t *testing.T) {
		s := newTLSSetup(t)
		r, sink := start(t, s.cfg)
		p := port(t, r.Addrs()[0])
		tlsOpts := func(pair [2]string) map[string]any {
			return map[string]any{"tls": true, "tlsOptions": map[string]any{"ca": s.ca.CAFile, "cert": pair[0], "key": pair[1]}}
		}
		for tn, pair := range map[tenant.ID][2]string{"alpha": s.alpha, "bravo": s.bravo} {
			if ok, fail, timedOut := run(p, "PackedForward", string(tn), n, tlsOpts(pair), 20*time.Second); ok != n || fail != 0 || timedOut {
				t.Fatalf("%s: %d acknowledged, %d failed, timed out %v", tn, ok, fail, timedOut)
			}
			checkNode(t, sink, tn, "PackedForward", n)
		}
		// An unmapped identity and a certificate from another CA, both
		// claiming alpha in their records, are refused.
		for _, pair := range [][2]string{s.stray, s.other} {
			if ok, _, _ := run(p, "Message", "alpha", 3, tlsOpts(pair), 2*time.Second); ok != 0 {
				t.Fatalf("%s: %d acknowledged", pair[0], ok)
			}
		}
		ingesttest.WaitFor(t, 5*time.Second, "refusals", func() bool { return sink.Counted(MetricRefused, "") >= 2 })
		if sink.Total() != 2*n {
			t.Errorf("%d records, want %d", sink.Total(), 2*n)
		}
	})
}
