package defend

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tarian-soc/tarian/internal/alert"
	"github.com/tarian-soc/tarian/internal/event"
	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/parse"
)

// TestSanitiseCorpus parses every line-per-record sample of
// $TARIAN_CORPUS/logs (every format Tarian reads that way) and checks what
// the policy would share from the entities of each event: never a host or
// user name, never a non-public address, never an internal name.
func TestSanitiseCorpus(t *testing.T) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS is not set: the corpus sanitisation test did not run")
	}
	p, err := parse.New(parse.Config{})
	if err != nil {
		t.Fatal(err)
	}
	pp := p.NewParser()
	pol := newPolicy(DefaultConfig())
	var files, events, shared int
	types := map[string]int{}
	err = filepath.WalkDir(filepath.Join(root, "logs"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".log", ".json", ".jsonl", ".ndjson":
		default:
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		files++
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			evs, err := pp.ParseAs(parse.Auto, event.Raw{Received: time.Now(), Source: "file", Data: []byte(line)}, nil)
			if err != nil {
				continue
			}
			for _, ev := range evs {
				events++
				ents := alert.Entities(ev.Fields)
				out := pol.External(ents)
				shared += len(out)
				for _, o := range out {
					types[string(o.Type)]++
					checkShared(t, path, o, ents)
				}
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if events == 0 || shared == 0 {
		t.Fatalf("%d files, %d events, %d observables shared: the corpus was not read", files, events, shared)
	}
	t.Logf("%d files, %d events: %d external observables would be shared %v", files, events, shared, types)
}

func checkShared(t *testing.T, path string, o intel.Observable, ents []alert.Entity) {
	t.Helper()
	for _, e := range ents {
		if (e.Type == alert.EntityHost || e.Type == alert.EntityUser) && strings.EqualFold(e.Value, o.Value) {
			t.Errorf("%s: shares the %s %q", path, e.Type, o.Value)
		}
	}
	switch o.Type {
	case intel.TypeIPv4, intel.TypeIPv6:
		if a, err := netip.ParseAddr(o.Value); err != nil || a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsMulticast() {
			t.Errorf("%s: shares the non-public address %s", path, o.Value)
		}
	case intel.TypeDomain:
		if !strings.Contains(o.Value, ".") || strings.HasSuffix(o.Value, ".local") || strings.HasSuffix(o.Value, ".corp") || strings.HasSuffix(o.Value, ".internal") {
			t.Errorf("%s: shares the internal name %s", path, o.Value)
		}
	}
}
