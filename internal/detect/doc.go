// Package detect compiles parsed Sigma rules (package sigma) into an engine
// that evaluates JSON events quickly, and evaluates Sigma correlation rules
// over event time with state that can be saved and restored.
//
// Events are one JSON object each, in any of the shapes the mapping knows
// (evtx-style Event.System/Event.EventData, Winlogbeat/Elastic Agent
// winlog.*, or flat). The mapping (mapping.yaml, embedded; extend it with
// Mapping.Merge) turns JSON paths into the field names Sigma rules use and
// says which events each Sigma logsource covers.
//
// Speed comes from: decoding with fastjson into a reused field table (no
// map[string]any per event); routing each event by its channel to the log
// sources it can belong to; indexing the rules of each log source by a
// literal they require, found with one Aho-Corasick automaton per field, so
// that most rules are never evaluated for a given event; and lower-casing a
// field value at most once per event.
package detect
