package incident

import (
	"fmt"

	"github.com/tarian-soc/tarian/internal/auth"
)

// VisibleTo reports whether p may read c: the provider's roles every case;
// the member's own users (tenant-admin, -analyst and -viewer of c's
// tenant) once c is escalated; nobody else (ingest tokens, other members).
// The stream and every route ask it, so a case is shown only to those who
// may read it.
func (c Case) VisibleTo(p auth.Principal) bool {
	switch p.Role {
	case auth.RoleProviderAdmin, auth.RoleProviderAnalyst:
		return true
	case auth.RoleTenantAdmin, auth.RoleTenantAnalyst, auth.RoleTenantViewer:
		return p.Tenant != "" && p.Tenant == c.Tenant && !c.Escalated.IsZero()
	}
	return false
}

// Allows reports whether p may do verb to c: nil; an error wrapping
// ErrNotFound when p may not see c at all (the same error as for a case
// that does not exist); or one wrapping auth.ErrForbidden when p sees c
// but its role may not do verb. The provider's roles do everything but
// acknowledge (the member's act); a member's tenant-admin and
// tenant-analyst read, comment and acknowledge its escalated cases; its
// tenant-viewer reads them.
func (c Case) Allows(p auth.Principal, verb string) error {
	if !c.VisibleTo(p) {
		return notFound(c.ID)
	}
	switch p.Role {
	case auth.RoleProviderAdmin, auth.RoleProviderAnalyst:
		if verb == VerbAcknowledge {
			return fmt.Errorf("%w: acknowledging an escalation is for the member's tenant-admin or tenant-analyst", auth.ErrForbidden)
		}
		return nil
	case auth.RoleTenantAdmin, auth.RoleTenantAnalyst:
		switch verb {
		case VerbRead, VerbComment, VerbAcknowledge:
			return nil
		}
		return fmt.Errorf("%w: a member's users read, comment on and acknowledge escalated cases; %s is the provider's", auth.ErrForbidden, verb)
	case auth.RoleTenantViewer:
		if verb == VerbRead {
			return nil
		}
		return fmt.Errorf("%w: role %s only reads cases", auth.ErrForbidden, p.Role)
	}
	return notFound(c.ID)
}

// CanCreate reports whether p may open cases: the provider's analysts and
// admins.
func CanCreate(p auth.Principal) bool { return p.Role.Provider() }

// CanList reports whether p may list cases at all (ingest tokens may not).
func CanList(p auth.Principal) bool {
	switch p.Role {
	case auth.RoleProviderAdmin, auth.RoleProviderAnalyst, auth.RoleTenantAdmin, auth.RoleTenantAnalyst, auth.RoleTenantViewer:
		return true
	}
	return false
}
