package server

import (
	"cmp"
	"context"
	"time"

	"github.com/tarian-soc/tarian/internal/advisory"
	"github.com/tarian-soc/tarian/internal/health"
	"github.com/tarian-soc/tarian/internal/report"
	"github.com/tarian-soc/tarian/internal/tenant"
)

// reportDeps are what a member report reads: the state store's alerts,
// cases, advisories and campaigns, and the log sources' health.
func (s *Server) reportDeps() report.Deps {
	return report.Deps{
		Tenants:    s.db,
		Alerts:     s.alerts,
		Cases:      s.db,
		Advisories: advisory.NewService(advisory.Deps{Store: s.db, Intel: s.db, Members: s.tenantIDs}),
		Campaigns:  s.db,
		KAnonymity: s.cfg.Defend.KAnonymity,
		Sources:    reportSources{healthSources{s}},
		Now:        time.Now,
	}
}

// reportSources gives the member reports each source's health now and
// its events in the report's month (report.SourceLister).
type reportSources struct{ h healthSources }

func (r reportSources) ReportSources(ctx context.Context, t tenant.ID, from, _ time.Time) ([]report.SourceHealth, error) {
	ss, err := r.h.Sources(ctx, []tenant.ID{t})
	if err != nil {
		return nil, err
	}
	events, err := r.h.MonthEvents(ctx, t, from)
	if err != nil {
		return nil, err
	}
	var out []report.SourceHealth
	for _, s := range ss {
		if s.Host == "" && s.Type == "" && !s.Declared {
			continue // a receiver's dead letters, not a source
		}
		state := report.SourceOK
		switch s.State {
		case health.StateSilent, health.StateWaiting:
			state = report.SourceSilent
		case health.StateDropped:
			state = report.SourceDropped
		}
		out = append(out, report.SourceHealth{Name: s.Name, Receiver: s.Receiver, Host: s.Host, Type: cmp.Or(s.Type, health.TypeUnknown),
			State: state, LastSeen: s.LastSeen, Events: events[s.Key]})
	}
	return out, nil
}

// reports builds reports for the API (web.Reports).
type reports struct{ d report.Deps }

func (r reports) Report(ctx context.Context, t tenant.ID, month time.Time) (*report.Report, error) {
	return report.Gather(ctx, r.d, t, month)
}

// runReports mails the monthly reports on schedule until ctx is done.
func (s *Server) runReports(ctx context.Context) {
	sc := report.NewScheduler(s.cfg.Reports, report.SchedulerDeps{Report: s.reportDeps(), Sent: s.db, Log: s.log.With("component", "reports")})
	_ = sc.Run(ctx) // it logs its failures and tries again; it ends with ctx
}
