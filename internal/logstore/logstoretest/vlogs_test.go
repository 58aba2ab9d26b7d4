package logstoretest_test

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/logstore/logstoretest"
	"github.com/tarian-soc/tarian/internal/logstore/vlogs"
)

// TestVlogs runs the suite against the embedded store.
func TestVlogs(t *testing.T) {
	if err := vlogs.SetProcessLimits(256 << 20); err != nil {
		t.Fatal(err)
	}
	logstoretest.Run(t, func(t *testing.T, r logstoretest.Resolver) logstoretest.Store {
		s, err := vlogs.Open(vlogs.Config{Path: t.TempDir(), MinFreeDiskBytes: -1}, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
