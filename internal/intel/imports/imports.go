// Package imports is the one entry point for intelligence files: it tells
// the format of a file (STIX bundle or object list, MISP event, MISP feed
// manifest, CSV) and hands it to the importer of that format.
package imports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/tarian-soc/tarian/internal/intel"
	"github.com/tarian-soc/tarian/internal/intel/csvfeed"
	"github.com/tarian-soc/tarian/internal/intel/misp"
	"github.com/tarian-soc/tarian/internal/intel/stix"
)

// Format is a kind of intelligence file.
type Format string

// The formats Detect tells apart.
const (
	STIXBundle   Format = "stix-bundle"
	STIXObjects  Format = "stix-objects" // one STIX object or a JSON array of them
	MISPEvent    Format = "misp-event"
	MISPManifest Format = "misp-manifest"
	CSV          Format = "csv"
)

// ErrUnknownFormat is returned by Detect for data of no known format.
var ErrUnknownFormat = errors.New("not a STIX bundle or object list, MISP event or feed manifest, or CSV")

// ErrFeedDir is returned by Parse for a MISP feed manifest: a feed is
// imported as its directory (ParseDir).
var ErrFeedDir = errors.New("a MISP feed manifest: import the feed's directory, which holds its events")

// Detect tells the format of a file from its content; text that is not
// JSON is CSV when the name ends .csv, .tsv, .txt, .ioc, .iocs or .list or
// has no extension (standard input).
func Detect(name string, data []byte) (Format, error) {
	d := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(d) == 0 {
		return "", fmt.Errorf("%s: empty file", name)
	}
	switch d[0] {
	case '{':
		var top map[string]json.RawMessage
		if err := json.Unmarshal(d, &top); err != nil {
			return "", fmt.Errorf("%s: JSON object that does not parse: %v", name, err)
		}
		var typ, id string
		_ = json.Unmarshal(top["type"], &typ)
		_ = json.Unmarshal(top["id"], &id)
		switch {
		case typ == "bundle":
			return STIXBundle, nil
		case typ != "" && strings.Contains(id, "--"):
			return STIXObjects, nil
		case top["Event"] != nil || top["response"] != nil:
			return MISPEvent, nil
		case isManifest(top):
			return MISPManifest, nil
		case top["Attribute"] != nil || top["Object"] != nil || top["info"] != nil:
			return MISPEvent, nil
		}
		return "", fmt.Errorf("%s: JSON object: %w", name, ErrUnknownFormat)
	case '[':
		var objs []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := json.Unmarshal(d, &objs); err != nil {
			return "", fmt.Errorf("%s: JSON array that is not a list of STIX objects: %v", name, err)
		}
		if len(objs) > 0 && objs[0].Type != "" && strings.Contains(objs[0].ID, "--") {
			return STIXObjects, nil
		}
		return "", fmt.Errorf("%s: JSON array: %w", name, ErrUnknownFormat)
	}
	if !utf8.Valid(d) || bytes.IndexByte(d, 0) >= 0 {
		return "", fmt.Errorf("%s: binary data: %w", name, ErrUnknownFormat)
	}
	// Text is read as CSV (or a list of values) when its name says so or
	// says nothing: a README is not a feed.
	switch strings.ToLower(filepath.Ext(name)) {
	case "", ".csv", ".tsv", ".txt", ".ioc", ".iocs", ".list":
		return CSV, nil
	}
	return "", fmt.Errorf("%s: text that is not JSON, in a file not named .csv or .txt: %w", name, ErrUnknownFormat)
}

// isManifest reports whether a JSON object is a MISP feed manifest: every
// key an event uuid whose value describes the event.
func isManifest(top map[string]json.RawMessage) bool {
	if len(top) == 0 {
		return false
	}
	for k, v := range top {
		if len(k) != 36 || strings.Count(k, "-") != 4 {
			return false
		}
		var e map[string]json.RawMessage
		if json.Unmarshal(v, &e) != nil || (e["info"] == nil && e["Orgc"] == nil && e["timestamp"] == nil) {
			return false
		}
	}
	return true
}

// Parse imports data of format f.
func Parse(f Format, data []byte, opts intel.ImportOptions) (intel.Batch, error) {
	switch f {
	case STIXBundle, STIXObjects:
		return stix.ParseBundle(data, opts)
	case MISPEvent:
		return misp.ParseEvent(data, opts)
	case MISPManifest:
		return intel.Batch{}, ErrFeedDir
	case CSV:
		return csvfeed.Parse(bytes.NewReader(data), opts)
	}
	return intel.Batch{}, fmt.Errorf("format %q: %w", f, ErrUnknownFormat)
}

// ParseFile detects the format of one file and imports it.
func ParseFile(path string, opts intel.ImportOptions) (intel.Batch, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return intel.Batch{}, err
	}
	f, err := Detect(filepath.Base(path), data)
	if err != nil {
		return intel.Batch{}, err
	}
	b, err := Parse(f, data, opts)
	if err != nil {
		return intel.Batch{}, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// ParseDir imports a directory: a MISP feed when it has a manifest.json,
// else every file in it (not recursing), in name order. Files of no known
// format are reported in Skipped.
func ParseDir(dir string, opts intel.ImportOptions) (intel.Batch, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return misp.ParseFeed(dir, opts)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return intel.Batch{}, err
	}
	var all intel.Batch
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := ParseFile(filepath.Join(dir, e.Name()), opts)
		if err != nil {
			all.Skipped = append(all.Skipped, intel.Skip{Ref: e.Name(), Reason: err.Error()})
			continue
		}
		all.Indicators = append(all.Indicators, b.Indicators...)
		all.Objects = append(all.Objects, b.Objects...)
		all.Sightings = append(all.Sightings, b.Sightings...)
		for _, s := range b.Skipped {
			s.Ref = e.Name() + ": " + s.Ref
			all.Skipped = append(all.Skipped, s)
		}
	}
	return all, nil
}
