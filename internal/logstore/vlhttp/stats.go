package vlhttp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/tarian-soc/tarian/internal/logstore"
)

var jsonUnmarshal = json.Unmarshal

// nodeStats are the figures of a storage node's /metrics that Flush and
// Stats read.
type nodeStats struct {
	inmemoryParts  uint64
	pendingRows    uint64
	inmemoryMerges uint64
	rows           uint64
	diskBytes      uint64
}

// nodeMetrics reads the storage node at base's /metrics.
func (s *Store) nodeMetrics(ctx context.Context, base string) (nodeStats, error) {
	b, err := s.call(ctx, base+"/metrics")
	if err != nil {
		return nodeStats{}, err
	}
	var m nodeStats
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "vl_") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		v := uint64(f)
		switch name {
		case `vl_storage_parts{type="storage/inmemory"}`:
			m.inmemoryParts = v
		case `vl_pending_rows{type="storage"}`:
			m.pendingRows = v
			m.rows += v
		case `vl_active_merges{type="storage/inmemory"}`, `vl_active_merges{type="indexdb/inmemory"}`:
			m.inmemoryMerges += v
		case `vl_storage_rows{type="storage/inmemory"}`, `vl_storage_rows{type="storage/small"}`, `vl_storage_rows{type="storage/big"}`:
			m.rows += v
		case `vl_compressed_data_size_bytes{type="storage/small"}`, `vl_compressed_data_size_bytes{type="storage/big"}`, `vl_data_size_bytes{type="indexdb"}`:
			m.diskBytes += v
		}
	}
	return m, sc.Err()
}

// statsMaxAge is how old the figures Stats returns may be before it reads
// them again (in the background).
const statsMaxAge = 10 * time.Second

// Stats reports the events stored and their size on disk, summed over the
// storage nodes (none for a cluster front without Config.StorageNodes: zero).
// It never waits on the network: it returns the last figures read and, when
// they are older than 10 seconds, reads them again in the background (a
// 5-second timeout); the first call returns zero.
func (s *Store) Stats() logstore.Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if !s.statsRunning && time.Since(s.statsAt) > statsMaxAge && !s.closed.Load() && len(s.nodes) > 0 {
		s.statsRunning = true
		s.statsWG.Go(s.readStats)
	}
	return s.stats
}

func (s *Store) readStats() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var st logstore.Stats
	var failed error
	for _, n := range s.nodes {
		m, err := s.nodeMetrics(ctx, n)
		if err != nil {
			failed = err
			break
		}
		st.Rows += m.rows
		st.DiskBytes += m.diskBytes
	}
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.statsRunning = false
	s.statsAt = time.Now()
	if failed != nil {
		s.log.Warn("event store stats not read", "err", failed)
		return
	}
	s.stats = st
}
