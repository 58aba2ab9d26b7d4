package stixpattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ObservedData is one observed-data object with the cyber-observable
// objects (SCOs) it reports.
type ObservedData struct {
	ID             string
	FirstObserved  time.Time
	LastObserved   time.Time
	NumberObserved int
	// Objects maps an SCO's id (STIX 2.1 object_refs) or its key (the
	// STIX 2.0 "objects" dictionary) to the SCO. References (_ref, _refs)
	// are resolved against these keys. Numbers may be json.Number,
	// float64, int or int64.
	Objects map[string]map[string]any
}

// DecodeObservedData reads observed-data from JSON: a STIX bundle, one
// observed-data object, or an array of bundles, observed-data objects and
// SCOs. STIX 2.1 observed-data find their SCOs through object_refs among
// the objects of the same bundle (or of the same top-level array); STIX 2.0
// observed-data embed them in "objects".
func DecodeObservedData(data []byte) ([]ObservedData, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("decode observed-data: %w", err)
	}
	var out []ObservedData
	var loose []any
	var addContainer func(objs []any) error
	addContainer = func(objs []any) error {
		byID := map[string]map[string]any{}
		for _, o := range objs {
			if m, ok := o.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					byID[id] = m
				}
			}
		}
		for _, o := range objs {
			m, ok := o.(map[string]any)
			if !ok {
				continue
			}
			switch m["type"] {
			case "bundle":
				inner, _ := m["objects"].([]any)
				if err := addContainer(inner); err != nil {
					return err
				}
			case "observed-data":
				od, err := observedData(m, byID)
				if err != nil {
					return err
				}
				out = append(out, od)
			}
		}
		return nil
	}
	switch t := top.(type) {
	case []any:
		loose = t
	case map[string]any:
		loose = []any{t}
	default:
		return nil, fmt.Errorf("decode observed-data: want a JSON object or array")
	}
	if err := addContainer(loose); err != nil {
		return nil, err
	}
	return out, nil
}

func observedData(m map[string]any, byID map[string]map[string]any) (ObservedData, error) {
	id, _ := m["id"].(string)
	od := ObservedData{ID: id, Objects: map[string]map[string]any{}}
	name := "observed-data"
	if id != "" {
		name = id
	}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"first_observed", &od.FirstObserved}, {"last_observed", &od.LastObserved}} {
		s, ok := m[f.key].(string)
		if !ok {
			return od, fmt.Errorf("%s: missing %s", name, f.key)
		}
		t, err := parseStamp(s)
		if err != nil {
			return od, fmt.Errorf("%s: %s: %w", name, f.key, err)
		}
		*f.dst = t
	}
	n, ok := m["number_observed"].(json.Number)
	if !ok {
		return od, fmt.Errorf("%s: missing number_observed", name)
	}
	count, err := strconv.Atoi(n.String())
	if err != nil || count < 1 {
		return od, fmt.Errorf("%s: number_observed must be a positive integer, got %s", name, n)
	}
	od.NumberObserved = count
	if od.LastObserved.Before(od.FirstObserved) {
		return od, fmt.Errorf("%s: last_observed is before first_observed", name)
	}
	if embedded, ok := m["objects"].(map[string]any); ok && len(embedded) > 0 {
		for k, v := range embedded {
			if sco, ok := v.(map[string]any); ok {
				od.Objects[k] = sco
			}
		}
		return od, nil
	}
	refs, _ := m["object_refs"].([]any)
	for _, r := range refs {
		if s, ok := r.(string); ok {
			if sco, ok := byID[s]; ok {
				od.Objects[s] = sco
			}
		}
	}
	return od, nil
}

// parseStamp reads a STIX timestamp from data: YYYY-MM-DDTHH:MM:SS[.s]Z
// with upper-case T and Z.
func parseStamp(s string) (time.Time, error) {
	if !validTimestamp(s) {
		return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
	}
	return stampTime(s), nil
}

// sortedKeys returns the object keys of od in order, for deterministic
// evaluation.
func (od *ObservedData) sortedKeys() []string {
	if len(od.Objects) == 1 {
		for k := range od.Objects {
			return []string{k}
		}
	}
	keys := make([]string, 0, len(od.Objects))
	for k := range od.Objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// number converts a JSON number to int64 or float64.
func number(v any) (i int64, f float64, isInt, ok bool) {
	switch n := v.(type) {
	case json.Number:
		s := n.String()
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i, float64(i), true, true
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		return 0, f, false, err == nil
	case float64:
		return 0, n, false, true
	case float32:
		return 0, float64(n), false, true
	case int:
		return int64(n), float64(n), true, true
	case int64:
		return n, float64(n), true, true
	case int32:
		return int64(n), float64(n), true, true
	}
	return 0, 0, false, false
}
