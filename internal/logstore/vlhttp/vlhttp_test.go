package vlhttp_test

import (
	"testing"

	"github.com/tarian-soc/tarian/internal/logstore/logstoretest"
	"github.com/tarian-soc/tarian/internal/logstore/vlhttp"
	"github.com/tarian-soc/tarian/internal/logstore/vltest"

	"github.com/tarian-soc/tarian/internal/logstore"
)

func open(t *testing.T, cfg vlhttp.Config, r logstore.Resolver) *vlhttp.Store {
	t.Helper()
	s, err := vlhttp.Open(cfg, r, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSingle runs the conformance suite against one victoria-logs.
func TestSingle(t *testing.T) {
	url := vltest.Single(t)
	logstoretest.Run(t, func(t *testing.T, r logstoretest.Resolver) logstoretest.Store {
		return open(t, vlhttp.Config{URL: url}, r)
	})
}

// TestCluster runs the conformance suite against a front and two storage
// nodes.
func TestCluster(t *testing.T) {
	front, nodes := vltest.Cluster(t)
	logstoretest.Run(t, func(t *testing.T, r logstoretest.Resolver) logstoretest.Store {
		return open(t, vlhttp.Config{URL: front, StorageNodes: nodes}, r)
	})
}
