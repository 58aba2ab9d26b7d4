package server

import (
	"context"
	"fmt"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ingestAuth resolves the ingest tokens that shippers present to the
// protocol receivers (Elasticsearch bulk, Splunk HEC) to their tenant.
type ingestAuth struct {
	tokens auth.Store
}

// IngestTenant returns the tenant of an ingest token; any other role is
// refused, so a reader's token can never write.
func (a ingestAuth) IngestTenant(ctx context.Context, secret string) (tenant.ID, error) {
	p, err := auth.Authenticate(ctx, a.tokens, secret)
	if err != nil {
		return "", err
	}
	if !p.CanIngest() {
		return "", fmt.Errorf("%w: role %s may not ingest; use an ingest token", auth.ErrForbidden, p.Role)
	}
	return p.Tenant, nil
}
