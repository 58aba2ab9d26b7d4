package misp

import (
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/tarian-soc/tarian/internal/intel"
)

// Manifest reads a feed's manifest.json: the uuids of its events, sorted.
func Manifest(data []byte) ([]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("misp: manifest: %w", err)
	}
	uuids := make([]string, 0, len(m))
	for u := range m {
		if !isUUID(u) {
			return nil, fmt.Errorf("misp: manifest: key %q is not an event uuid", u)
		}
		uuids = append(uuids, u)
	}
	slices.Sort(uuids)
	return uuids, nil
}

// ParseFeed reads a MISP feed directory: the events manifest.json lists,
// each from <uuid>.json. An event listed but missing, an event file the
// manifest does not list (not imported), a file that is not part of a
// feed, and every disagreement between the events and hashes.csv (when
// the feed has one) are reported in Skipped.
func ParseFeed(dir string, opts intel.ImportOptions) (intel.Batch, error) {
	return ParseFeedFS(os.DirFS(dir), opts)
}

// ParseFeedFS is ParseFeed on a file system (a directory, a test's
// fstest.MapFS).
func ParseFeedFS(fsys fs.FS, opts intel.ImportOptions) (intel.Batch, error) {
	data, err := fs.ReadFile(fsys, "manifest.json")
	if err != nil {
		return intel.Batch{}, fmt.Errorf("misp: feed: %w", err)
	}
	uuids, err := Manifest(data)
	if err != nil {
		return intel.Batch{}, err
	}
	var b intel.Batch
	listed := map[string]bool{}
	feedHashes := map[string][]string{} // event uuid → md5s computed
	for _, u := range uuids {
		listed[u+".json"] = true
		ev, err := fs.ReadFile(fsys, u+".json")
		if errors.Is(err, fs.ErrNotExist) {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: "event " + u, Reason: "listed in manifest.json, but " + u + ".json is missing"})
			continue
		}
		if err != nil {
			return intel.Batch{}, fmt.Errorf("misp: feed: %w", err)
		}
		eb, err := ParseEvent(ev, opts)
		if err != nil {
			b.Skipped = append(b.Skipped, intel.Skip{Ref: u + ".json", Reason: err.Error()})
			continue
		}
		evs, _ := decodeEvents(ev)
		for _, e := range evs {
			if e.UUID != u {
				b.Skipped = append(b.Skipped, intel.Skip{Ref: u + ".json", Reason: fmt.Sprintf("holds event %s, not the event its name and manifest.json say (imported anyway)", e.UUID)})
			}
			feedHashes[u] = append(feedHashes[u], valueHashes(&e)...)
		}
		b.Indicators = append(b.Indicators, eb.Indicators...)
		b.Sightings = append(b.Sightings, eb.Sightings...)
		b.Skipped = append(b.Skipped, eb.Skipped...)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return intel.Batch{}, fmt.Errorf("misp: feed: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir() || listed[n] || n == "manifest.json" || n == "hashes.csv" || !strings.HasSuffix(n, ".json"):
		case isUUID(strings.TrimSuffix(n, ".json")):
			b.Skipped = append(b.Skipped, intel.Skip{Ref: n, Reason: "event file not listed in manifest.json (not imported)"})
		default:
			b.Skipped = append(b.Skipped, intel.Skip{Ref: n, Reason: "not part of a MISP feed (neither manifest.json nor <event uuid>.json)"})
		}
	}
	hf, err := fsys.Open("hashes.csv")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return b, nil
	case err != nil:
		return intel.Batch{}, fmt.Errorf("misp: feed: %w", err)
	}
	defer hf.Close()
	listedHashes, err := ReadHashes(hf)
	if err != nil {
		return intel.Batch{}, err
	}
	b.Skipped = append(b.Skipped, CompareHashes(feedHashes, listedHashes)...)
	return b, nil
}

// ReadHashes reads a feed's hashes.csv ("md5,event uuid" lines): the
// hashes listed for each event.
func ReadHashes(r io.Reader) (map[string][]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	out := map[string][]string{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("misp: hashes.csv: %w", err)
		}
		if len(rec) != 2 {
			return nil, fmt.Errorf("misp: hashes.csv: line %d: want md5,event_uuid", line)
		}
		out[rec[1]] = append(out[rec[1]], strings.ToLower(rec[0]))
	}
}

// CompareHashes reports every difference between the value hashes of
// events (computed, by event uuid) and those a hashes.csv lists, as
// multisets.
func CompareHashes(computed, listed map[string][]string) []intel.Skip {
	var out []intel.Skip
	count := func(hs []string) map[string]int {
		m := map[string]int{}
		for _, h := range hs {
			m[h]++
		}
		return m
	}
	for _, u := range sortedKeys(computed, listed) {
		c, l := count(computed[u]), count(listed[u])
		for _, h := range sortedKeys(c, l) {
			if c[h] != l[h] {
				out = append(out, intel.Skip{Ref: "hashes.csv event " + u, Reason: fmt.Sprintf("md5 %s: %d values in the event, %d lines in hashes.csv", h, c[h], l[h])})
			}
		}
	}
	return out
}

func sortedKeys[V any](ms ...map[string]V) []string {
	var ks []string
	for _, m := range ms {
		for k := range m {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	return ks
}

// ValueHashes returns the event's uuid and the md5 of each of its
// attribute values, objects' attributes included, as MISP writes them in a
// feed's hashes.csv: composite values ("filename|md5", malware-sample) are
// split on '|' and each part hashed.
func ValueHashes(data []byte) (string, []string, error) {
	evs, err := decodeEvents(data)
	if err != nil {
		return "", nil, err
	}
	if len(evs) != 1 {
		return "", nil, fmt.Errorf("misp: want one event, have %d", len(evs))
	}
	return evs[0].UUID, valueHashes(&evs[0]), nil
}

func valueHashes(e *event) []string {
	var out []string
	eachAttribute(e, func(a *attribute) {
		parts := []string{string(a.Value)}
		if strings.Contains(a.Type, "|") || a.Type == "malware-sample" {
			parts = strings.Split(string(a.Value), "|")
		}
		for _, p := range parts {
			h := md5.Sum([]byte(p))
			out = append(out, hex.EncodeToString(h[:]))
		}
	})
	return out
}

// TypeCounts counts an event's attributes, objects' attributes included,
// per MISP type.
func TypeCounts(data []byte) (map[string]int, error) {
	evs, err := decodeEvents(data)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for i := range evs {
		eachAttribute(&evs[i], func(a *attribute) { out[a.Type]++ })
	}
	return out, nil
}

func eachAttribute(e *event, f func(*attribute)) {
	for i := range e.Attribute {
		f(&e.Attribute[i])
	}
	for i := range e.Object {
		for j := range e.Object[i].Attribute {
			f(&e.Object[i].Attribute[j])
		}
	}
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
