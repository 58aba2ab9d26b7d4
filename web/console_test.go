package console

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// catalogue is one language's messages: every src/i18n/LANG/*.json file
// merged (a console area keeps its messages in its own file). A key in two
// files is an error, as a later file would silently replace it.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("src", "i18n", lang, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogue files for %s: %v", lang, err)
	}
	all := map[string]string{}
	from := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range m {
			if other, dup := from[k]; dup {
				t.Errorf("%q is in both %s and %s", k, other, f)
			}
			all[k], from[k] = v, f
		}
	}
	return all
}

// TestCatalogues fails on a message key missing from English or Welsh, on
// an empty message, on placeholders that differ between the two, and on a
// key the sources use ('queue.title', or `level.${l}`) that neither has.
func TestCatalogues(t *testing.T) {
	en, cy := catalogue(t, "en"), catalogue(t, "cy")
	placeholders := regexp.MustCompile(`\{\w+\}`)
	for k, v := range en {
		w, ok := cy[k]
		switch {
		case !ok:
			t.Errorf("the Welsh catalogue (src/i18n/cy) lacks %q", k)
		case v == "" || w == "":
			t.Errorf("%q is empty in a catalogue", k)
		default:
			a, b := placeholders.FindAllString(v, -1), placeholders.FindAllString(w, -1)
			sort.Strings(a)
			sort.Strings(b)
			if strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("%q: placeholders %v in English, %v in Welsh", k, a, b)
			}
		}
	}
	for k := range cy {
		if _, ok := en[k]; !ok {
			t.Errorf("the English catalogue (src/i18n/en) lacks %q", k)
		}
	}

	// A key is a quoted string in one of the catalogues' namespaces
	// ('queue.title'), or a template building one (`level.${l}`).
	spaces := map[string]bool{}
	for k := range en {
		ns, _, _ := strings.Cut(k, ".")
		spaces[ns] = true
	}
	var names []string
	for ns := range spaces {
		names = append(names, ns)
	}
	alt := strings.Join(names, "|")
	literal := regexp.MustCompile(`'((?:` + alt + `)\.[A-Za-z.-]+)'`)
	prefix := regexp.MustCompile("`((?:" + alt + `)\.(?:[a-z]+\.)*)\$\{`)
	used := 0
	err := fs.WalkDir(os.DirFS("src"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".svelte") || strings.HasSuffix(p, ".ts")) {
			return err
		}
		b, err := os.ReadFile(filepath.Join("src", p))
		if err != nil {
			return err
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			used++
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s uses the message %q, in no catalogue", p, m[1])
			}
		}
		for _, m := range prefix.FindAllStringSubmatch(string(b), -1) {
			found := false
			for k := range en {
				found = found || strings.HasPrefix(k, m[1])
			}
			if !found {
				t.Errorf("%s builds messages %q..., none in the catalogues", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if used < 50 {
		t.Errorf("found only %d message keys in src: is the pattern stale?", used)
	}
}

// TestDistEmbedded checks the committed build is in the binary.
func TestDistEmbedded(t *testing.T) {
	b, err := fs.ReadFile(Dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `<script type="module"`) {
		t.Errorf("dist/index.html loads no module script:\n%s", b)
	}
}

// firstLoadBudget is issue 13's budget for the JavaScript of the console's
// first load, gzipped.
const firstLoadBudget = 300 << 10

// TestFirstLoadBudget fails when the scripts index.html loads (and any
// module they preload) exceed the budget gzipped, as the server sends them.
func TestFirstLoadBudget(t *testing.T) {
	index, err := fs.ReadFile(Dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="/([^"]+\.js)"`).FindAllStringSubmatch(string(index), -1)
	if len(refs) == 0 {
		t.Fatalf("index.html loads no script:\n%s", index)
	}
	total := 0
	for _, m := range refs {
		b, err := fs.ReadFile(Dist, "dist/"+m[1])
		if err != nil {
			t.Fatal(err)
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		t.Logf("%s: %d bytes, %d gzipped", m[1], len(b), z.Len())
		total += z.Len()
	}
	if total > firstLoadBudget {
		t.Errorf("the first load's JavaScript is %d bytes gzipped, over the %d budget", total, firstLoadBudget)
	}
}
