package esbulk

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// nodeScript drives the official npm client: info (the product check),
// client.bulk with a document that is not an object, client.bulk under
// back-pressure (HTTP 429, every item 429) and its retry, then the bulk
// helper.
const nodeScript = `
const { Client } = require('@elastic/elasticsearch');
const [url, token] = process.argv.slice(2);
const c = new Client({ node: url, auth: { apiKey: { id: 'node-host', api_key: token } },
  maxRetries: 5, requestTimeout: 10000 });
(async () => {
  const out = {};
  const info = await c.info();
  out.version = info.version.number;
  const operations = [];
  for (let i = 0; i < 20; i++) operations.push({ create: { _index: 'logs-node-default' } }, { message: 'bulk ' + i, n: i });
  operations.push({ index: { _index: 'logs-node-default', _id: 'mine' } }, 'not an object');
  const r = await c.bulk({ operations });
  out.errors = r.errors;
  out.statuses = r.items.map(it => Object.keys(it)[0] + ' ' + Object.values(it)[0].status);
  out.ids = r.items.map(it => Object.values(it)[0]._id).filter(id => id === 'mine');
  process.stdout.write('ready\n');
  await new Promise(r => setTimeout(r, 100));
  const ops2 = [];
  for (let i = 0; i < 30; i++) ops2.push({ create: { _index: 'logs-retry-default' } }, { message: 'retry ' + i });
  try {
    await c.bulk({ operations: ops2 });
    out.backpressure = 'not refused';
  } catch (e) {
    out.backpressure = e.meta.statusCode + ' ' + [...new Set(e.meta.body.items.map(it => it.create.status + ' ' + it.create.error.type))].join(',');
  }
  const again = await c.bulk({ operations: ops2 });
  out.retryErrors = again.errors;
  const docs = [];
  for (let i = 0; i < 30; i++) docs.push({ message: 'helper ' + i });
  const h = await c.helpers.bulk({ datasource: docs,
    onDocument: () => ({ create: { _index: 'logs-helper-default' } }),
    onDrop: d => { out.dropped = (out.dropped || 0) + 1; } });
  out.helper = { total: h.total, successful: h.successful, failed: h.failed };
  console.log(JSON.stringify(out));
})().catch(e => { console.error('ERR', e.name, e.message); process.exit(1); });
`

// TestNodeClient runs the npm @elastic/elasticsearch@8 client with node
// against the receiver. It installs the client with npm in a temporary
// folder and is skipped, saying so, when node or npm cannot.
func TestNodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the npm @elastic/elasticsearch client test (it runs npm install)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: skipping the npm @elastic/elasticsearch client test")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm not installed: skipping the npm @elastic/elasticsearch client test")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", "--silent", "@elastic/elasticsearch@8")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Skipf("npm install @elastic/elasticsearch@8 failed, skipping: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.js"), []byte(nodeScript), 0o644); err != nil {
		t.Fatal(err)
	}
	_, sink, srv := newTest(t, DefaultConfig())
	cmd := exec.CommandContext(ctx, node, "run.js", srv.URL, tokenB)
	cmd.Dir = dir
	// The next request meets back-pressure: set it once the first bulk is
	// done (the script says "ready").
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 4096)
	for {
		n, err := stdout.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if strings.Contains(string(buf), "ready\n") {
			sink.RefuseNext(1)
			break
		}
		if err != nil {
			t.Fatalf("node: %v: %s", err, stderr.String())
		}
	}
	for {
		n, err := stdout.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, buf, stderr.String())
	}
	_, line, _ := strings.Cut(string(buf), "ready\n")
	var got struct {
		Version      string
		Errors       bool
		Statuses     []string
		IDs          []string
		Helper       struct{ Total, Successful, Failed int }
		Dropped      int
		Backpressure string
		RetryErrors  bool
	}
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("node output %q: %v", buf, err)
	}
	if got.Version != DefaultConfig().Version || !got.Errors || len(got.IDs) != 1 {
		t.Errorf("node saw %+v", got)
	}
	want := make([]string, 0, 21)
	for range 20 {
		want = append(want, "create 201")
	}
	want = append(want, "index 400")
	if diff := cmp.Diff(want, got.Statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if want := "429 429 es_rejected_execution_exception"; got.Backpressure != want || got.RetryErrors {
		t.Errorf("under back-pressure the client saw %q, retry errors %v; want %q, false", got.Backpressure, got.RetryErrors, want)
	}
	if got.Helper.Successful != 30 || got.Helper.Failed != 0 || got.Dropped != 0 {
		t.Errorf("helper: %+v, dropped %d; want all 30", got.Helper, got.Dropped)
	}
	var helper, bulk, retry int
	for _, d := range sink.docs("swansea") {
		switch {
		case strings.Contains(d, `"helper `):
			helper++
		case strings.Contains(d, `"bulk `):
			bulk++
		case strings.Contains(d, `"retry `):
			retry++
		}
	}
	if bulk != 20 || retry != 30 || helper != 30 {
		t.Errorf("stored %d bulk, %d retried and %d helper documents in the token's tenant, want 20, 30 (each once) and 30", bulk, retry, helper)
	}
	if n := len(sink.docs("cardiff")); n != 0 {
		t.Errorf("%d documents in another tenant", n)
	}
}
