package server

import (
	"context"
	"fmt"
	"time"

	"github.com/tarian-soc/tarian/internal/audit"
	"github.com/tarian-soc/tarian/internal/poll"
	"github.com/tarian-soc/tarian/internal/store/sqlstore"
	"github.com/tarian-soc/tarian/internal/web"
)

// AuditSigner returns the signer of the audit trail's checkpoints: its
// Ed25519 key is derived from the server's secret key (TARIAN_SECRET_KEY
// when set, else the key file in the data directory), so offline
// verification of a data directory finds the same key there.
func AuditSigner(data, secretKey string) (*audit.Signer, error) {
	key, err := poll.SecretKey(data, secretKey)
	if err != nil {
		return nil, fmt.Errorf("audit signing key: %w", err)
	}
	return audit.NewSigner(key)
}

// LockData takes the data directory's lock as a server does, for a tool
// that reads the directory while no server may start on it (offline audit
// verification). It fails with ErrDataInUse, naming the process, while a
// server runs there.
func LockData(dir string) (release func() error, err error) {
	l, err := lockData(dir)
	if err != nil {
		return nil, err
	}
	return l.release, nil
}

// The state store keeps the audit trail's chains for the API.
var _ web.AuditChains = (*sqlstore.DB)(nil)

// auditCheckpointEvery is how often the server signs the head of every
// audit chain that moved since its last checkpoint, besides every
// audit.CheckpointEvery records and at shutdown: it bounds how long a
// record stays covered by the hash chain alone.
const auditCheckpointEvery = 10 * time.Minute

// checkpointAudit signs moved chain heads until ctx is done.
func (s *Server) checkpointAudit(ctx context.Context) {
	t := time.NewTicker(auditCheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.db.CheckpointAudit(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("audit checkpoint", "err", err)
			}
		}
	}
}
