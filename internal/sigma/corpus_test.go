package sigma

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorpusParses parses every SigmaHQ rule of the shared corpus: each must
// parse or be unsupported for a stated reason, and at least 99.5% must parse.
func TestCorpusParses(t *testing.T) {
	root := os.Getenv("TARIAN_CORPUS")
	if root == "" {
		t.Skip("TARIAN_CORPUS not set: skipping the SigmaHQ corpus parse test")
	}
	var total, parsed, unsupported, failed int
	for _, tree := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		dir := filepath.Join(root, "sigma", tree)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rules, perr := Parse(rel, data)
			var errs Errors
			errors.As(perr, &errs)
			total += len(rules) + len(errs)
			parsed += len(rules)
			for _, e := range errs {
				if errors.Is(e, ErrUnsupported) {
					unsupported++
					t.Logf("%v", e)
				} else {
					failed++
					t.Errorf("%v", e)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	rate := float64(parsed) / float64(total)
	t.Logf("%d rules: %d parsed, %d failed, %d unsupported (%.2f%% parsed)", total, parsed, failed, unsupported, 100*rate)
	if rate < 0.995 {
		t.Errorf("parsed %.2f%% of the corpus, want >= 99.5%%", 100*rate)
	}
}
