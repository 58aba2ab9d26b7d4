package stix

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/intel"
)

func FuzzParseBundle(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","id":"bundle--1b2c3d4e-0000-4000-8000-00000000000a","objects":[` + string(obj(indicatorBase(), nil)) + `]}`))
	f.Add([]byte(obj(indicatorBase(), map[string]any{"pattern": "[domain-name:value IN ('a.example','b.example')] OR [file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140']"})))
	f.Add([]byte(`[{"type":"sighting","spec_version":"2.1","id":"sighting--1b2c3d4e-0000-4000-8000-000000000008","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","sighting_of_ref":"` + indID + `","count":5}]`))
	f.Add([]byte(`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--1b2c3d4e-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"red"}}`))
	f.Add([]byte(`{"type":"bundle","id":"bundle--1b2c3d4e-0000-4000-8000-00000000000a","objects":[null,1,"x",{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBundle(data, intel.ImportOptions{})
		if err != nil {
			return
		}
		for _, i := range b.Indicators {
			if err := i.Validate(); err != nil {
				t.Fatalf("imported an invalid indicator %+v: %v", i, err)
			}
			if _, err := IndicatorObject(i); err != nil {
				t.Fatalf("cannot export imported indicator %+v: %v", i, err)
			}
		}
		if _, err := Bundle(b.Objects); err != nil {
			t.Fatalf("cannot bundle imported objects: %v", err)
		}
	})
}
