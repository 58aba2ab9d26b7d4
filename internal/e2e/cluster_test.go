package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/bus"
	"github.com/tarian-soc/tarian/internal/bus/natstest"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"
	"github.com/tarian-soc/tarian/internal/store/pgtest"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// clusterRules: a marker rule (one alert per marker event: each has its own
// host) and a correlation that needs ten events of one host, half of them
// sent before a node dies and half after.
const clusterRules = `title: cluster marker
id: 5e1f0000-0000-4000-8000-000000000001
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\clustermark.exe'}
  condition: sel
level: high
---
title: corr step
name: corr_step
id: 5e1f0000-0000-4000-8000-000000000002
author: Tarian tests
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\corrstep.exe'}
  condition: sel
level: low
---
title: ten steps on one host
id: 5e1f0000-0000-4000-8000-000000000003
author: Tarian tests
level: critical
correlation:
  type: event_count
  rules: [corr_step]
  group-by: [Computer]
  timespan: 1h
  condition: {gte: 10}
`

// TestCluster runs the scale-out configuration: a three-node NATS
// JetStream cluster (separate nats-server processes, R3), a VictoriaLogs
// cluster (two storage nodes behind a front), PostgreSQL, and two tarian
// nodes sharing four bus partitions. It ingests through both nodes, kills
// one tarian node and one NATS node with SIGKILL mid-stream, and checks
// that the surviving node takes the dead one's partitions over: every
// acknowledged event searchable exactly once, no alert counted twice, and
// a correlation begun on the dead node completed on the survivor.
func TestCluster(t *testing.T) {
	nats := natstest.StartProcesses(t, 3)
	front, storage := vltest.Cluster(t)
	pg := pgtest.Start(t)
	dir := t.TempDir()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	engines := func(name string) []string {
		return []string{"TARIAN_NODE_NAME=" + name, "TARIAN_BUS_URL=" + nats.URL(), "TARIAN_BUS_REPLICAS=3", "TARIAN_BUS_PARTITIONS=4",
			"TARIAN_EVENTS_URL=" + front, "TARIAN_EVENTS_STORAGE_NODES=" + strings.Join(storage, ","), "TARIAN_STATE_URL=" + pg,
			"TARIAN_SECRET_KEY=" + hex.EncodeToString(key)} // every node the same (docs/scaling.md)
	}
	a := startServer(t, filepath.Join(dir, "a"), engines("a")...)
	b := startServer(t, filepath.Join(dir, "b"), engines("b")...)
	waitPartitions(t, map[*server]int{a: 2, b: 2})

	// A third node started with a running node's name refuses to start.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	same := exec.CommandContext(ctx, tarianBin, "serve", "--data", filepath.Join(dir, "same"), "--listen", "127.0.0.1:0")
	same.Env = slices.Concat(baseEnv(), []string{"TARIAN_BOOTSTRAP_TOKEN=" + adminToken}, engines("a"))
	dupOut, err := same.CombinedOutput()
	cancel()
	if err == nil || !strings.Contains(string(dupOut), "node.name is in use by a running node") {
		t.Fatalf("a node named as a running one: %v\n%s", err, dupOut)
	}

	// One member per partition, so both nodes have members.
	members := map[int]string{}
	for i := 0; len(members) < 4; i++ {
		id := fmt.Sprintf("member%d", i)
		if p := bus.Partition(tenant.ID(id), 4); members[p] == "" {
			members[p] = id
		}
	}
	ingest := map[string]string{}
	for _, id := range members {
		a.addTenant(id)
		ingest[id] = a.createToken(id, "ingest").Token
	}
	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, []byte(clusterRules), 0o600); err != nil {
		t.Fatal(err)
	}
	a.mustCLI(adminToken, "rules", "import", rules)
	analyst := a.createToken("", "provider-analyst").Token

	// The correlation's member is one whose partition b holds: half of
	// its steps now, detected on b.
	corrMember := ""
	for _, id := range members {
		if b.holds(bus.Partition(tenant.ID(id), 4)) {
			corrMember = id
		}
	}
	if corrMember == "" {
		t.Fatal("node b holds no member's partition")
	}
	now := time.Now().UTC()
	var steps []string
	for i := range 10 {
		steps = append(steps, sysmonProc("corr-host", "u", `C:\t\corrstep.exe`, now.Add(time.Duration(i)*time.Second), 900000+i))
	}
	b.ingestLines(ingest[corrMember], steps[:5]...)
	b.waitDetected()

	// Either node answers the member's ATT&CK coverage: a reads the log
	// sources b counted from the partition's saved state.
	var cards struct {
		Scorecards []struct {
			Coverage struct {
				Seen []string `json:"seen"`
			} `json:"coverage"`
		} `json:"scorecards"`
	}
	if err := json.Unmarshal([]byte(a.mustCLI(analyst, "scorecard", "--tenant", corrMember, "--json")), &cards); err != nil ||
		len(cards.Scorecards) != 1 || len(cards.Scorecards[0].Coverage.Seen) == 0 {
		t.Errorf("scorecard of %s through node a: %+v, %v; want the log sources b saw", corrMember, cards, err)
	}

	// An indicator added through a reaches b's matcher within seconds.
	out := a.mustCLI(analyst, "intel", "add", "ipv4", "203.0.113.77", "--tlp", "green")
	liveID := strings.Fields(out)[1]
	time.Sleep(3 * time.Second)
	a.ingestLines(ingest[corrMember], sysmonEvent(3, "intel-host", time.Now().UTC(), 7, map[string]any{"DestinationIp": "203.0.113.77", "Image": `C:\x\beacon.exe`}))
	a.waitAlerts(analyst, corrMember, "an indicator added on a, matched on b", func(as []queueAlert) bool {
		for _, al := range as {
			if al.Producer == "intel" && al.RuleID == "intel:"+liveID && al.Host == "intel-host" {
				return true
			}
		}
		return false
	})

	// A scheduled search saved through b runs once, on whichever node
	// holds its lease, over every member's events: the correlation's
	// member's five steps are one alert.
	b.mustCLI(analyst, "searches", "save", "--every", "1h", "--delay", "0s", "Cluster steps", "corrstep")
	a.waitAlerts(analyst, corrMember, "the scheduled search's alert", func(as []queueAlert) bool {
		for _, al := range as {
			if al.Producer == "search" && al.Count == 5 {
				return true
			}
		}
		return false
	})
	// A run is counted once it is over: after its alert is raised.
	runs := 0.0
	for deadline := time.Now().Add(10 * time.Second); runs == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		runs = a.metrics()["tarian_search_runs_total"] + b.metrics()["tarian_search_runs_total"]
	}
	if runs == 1 { // and no node runs it a second time
		time.Sleep(2 * time.Second)
		runs = a.metrics()["tarian_search_runs_total"] + b.metrics()["tarian_search_runs_total"]
	}
	if runs != 1 {
		t.Errorf("the scheduled search ran %v times over both nodes, want once", runs)
	}

	// Ingest through both nodes; kill b, then a NATS node, mid-stream.
	var (
		mu       sync.Mutex
		acked    = map[string]string{} // eid → member
		markers  = map[string]string{} // marker host → member
		attempts atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	hc := &http.Client{Timeout: 30 * time.Second}
	for w := range 4 {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				target := a
				if w%2 == 1 && b.running() {
					target = b
				}
				member := members[(w+n)%4]
				var body bytes.Buffer
				var ids []string
				var marks []string
				for i := range 200 {
					eid := fmt.Sprintf("w%d-n%d-%d", w, n, i)
					if i == 0 { // a marker: its own host, its own alert
						host := "mark-" + eid
						marks = append(marks, host)
						fmt.Fprintf(&body, "%s\n", sysmonProc(host, "u", `C:\t\clustermark.exe`, now, n*1000+w))
						continue
					}
					fmt.Fprintf(&body, `{"message":"clusterevent %d","eid":%q}`+"\n", i, eid)
					ids = append(ids, eid)
				}
				attempts.Add(200)
				ok, err := postBatch(hc, target.url, ingest[member], body.Bytes(), 200)
				if err != nil || !ok {
					continue
				}
				mu.Lock()
				for _, id := range ids {
					acked[id] = member
				}
				for _, h := range marks {
					markers[h] = member
				}
				mu.Unlock()
			}
		})
	}
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	waitFor(t, "events acknowledged before the kill", 2*time.Minute, func() bool { return ackedCount() >= 4000 })
	b.kill9()
	t.Log("node b killed")
	waitFor(t, "events acknowledged after b died", 2*time.Minute, func() bool { return ackedCount() >= 8000 })
	nats.Kill(1)
	t.Log("NATS node 1 killed")
	waitFor(t, "events acknowledged after a NATS node died", 2*time.Minute, func() bool { return ackedCount() >= 12000 })
	stop.Store(true)
	wg.Wait()

	// a takes every partition over, with b's checkpoints and state.
	waitPartitions(t, map[*server]int{a: 4})
	a.ingestLines(ingest[corrMember], steps[5:]...)
	a.waitIndexed()
	a.waitDetected()

	rows := a.searchRows(analyst, "*", "clusterevent | fields eid", int(attempts.Load())+10)
	seen := map[string]int{}
	for _, r := range rows {
		seen[r["eid"]]++
	}
	missing, dup := 0, 0
	for id := range acked {
		if seen[id] == 0 {
			if missing++; missing <= 5 {
				t.Errorf("acknowledged event %s (member %s) is not searchable", id, acked[id])
			}
		}
	}
	for id, n := range seen {
		if n > 1 {
			if dup++; dup <= 5 {
				t.Errorf("event %s is stored %d times", id, n)
			}
		}
	}
	t.Logf("%d events acknowledged, %d rows, %d attempted; %d missing, %d duplicated", len(acked), len(rows), attempts.Load(), missing, dup)

	// One alert per acknowledged marker, each counting one event.
	alerts := a.alertList(analyst, "--tenant", "*", "--limit", "0")
	byHost := map[string][]queueAlert{}
	corr := 0
	for _, al := range alerts {
		if al.RuleID == "5e1f0000-0000-4000-8000-000000000003" {
			corr++
			continue
		}
		if strings.HasPrefix(al.Host, "mark-") {
			byHost[al.Host] = append(byHost[al.Host], al)
		}
	}
	if len(markers) == 0 {
		t.Fatal("no marker event was acknowledged")
	}
	for host, member := range markers {
		as := byHost[host]
		if len(as) != 1 || as[0].Count != 1 || as[0].Tenant != member {
			t.Errorf("marker %s of %s: alerts %+v, want one of count 1", host, member, as)
		}
	}
	if corr != 1 {
		t.Errorf("the correlation begun on node b raised %d alerts after a took over, want 1", corr)
	}
}

// holds says whether s runs partition p now (its /metrics).
func (s *server) holds(p int) bool {
	return s.metrics()[fmt.Sprintf(`tarian_partition_held{partition="%d"}`, p)] == 1
}

// waitPartitions waits until each server holds want partitions.
func waitPartitions(t *testing.T, want map[*server]int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("partitions shared %v", want), 3*time.Minute, func() bool {
		for s, n := range want {
			if s.metrics()["tarian_partitions_held"] != float64(n) {
				return false
			}
		}
		return true
	})
}

// waitFor polls ok until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
