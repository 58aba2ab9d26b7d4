package server

import (
	"context"
	"fmt"

	"github.com/tarian-soc/tarian/internal/auth"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// ingestAuth resolves the ingest tokens that shippers present to the
// protocol receivers (Elasticsearch bulk, Splunk HEC) to their tenant.
// Through a cache: a shipper's token costs no database read per request,
// and a shipper keeps shipping while the state store is down.
type ingestAuth struct {
	tokens auth.Store
	cache  *auth.TokenCache
}

// IngestTenant returns the tenant of an ingest token; any other role is
// refused, so a reader's token can never write.
func (a ingestAuth) IngestTenant(ctx context.Context, secret string) (tenant.ID, error) {
	p, err := a.cache.Authenticate(ctx, a.tokens, secret)
	if err != nil {
		return "", err
	}
	if !p.CanIngest() {
		return "", fmt.Errorf("%w: role %s may not ingest; use an ingest token", auth.ErrForbidden, p.Role)
	}
	return p.Tenant, nil
}
