package server

import (
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
		Sources:    reportSources{healthSources{s}, time.Now},
		Now:        time.Now,
	}
}

// reportSources gives the member reports each source's health and its
// events in the report's month (report.SourceLister).
type reportSources struct {
	h   healthSources
	now func() time.Time
}

// ReportSources lists the sources that existed by the month's end. For
// the current month a source's state is its health now; for a month that
// has ended it is what the month shows (events sent or none; a declared
// source never heard from by then is waiting), and a last-seen time after
// the month is left out.
func (r reportSources) ReportSources(ctx context.Context, t tenant.ID, from, to time.Time) ([]report.SourceHealth, error) {
	ss, err := r.h.Sources(ctx, []tenant.ID{t})
	if err != nil {
		return nil, err
	}
	events, err := r.h.MonthEvents(ctx, t, from)
	if err != nil {
		return nil, err
	}
	ended := !r.now().Before(to)
	var out []report.SourceHealth
	// A declared source is one entry per host it matched; one none of
	// whose hosts was heard by the month's end shows once, waiting.
	heardNames := map[string]bool{}
	var waiting []report.SourceHealth
	for _, s := range ss {
		if s.Host == "" && s.Type == "" && !s.Declared {
			continue // a receiver's dead letters, not a source
		}
		if s.FirstSeen.IsZero() || !s.FirstSeen.Before(to) {
			if s.Declared {
				waiting = append(waiting, report.SourceHealth{Name: s.Name, Receiver: s.Receiver, Type: s.Type, State: report.SourceWaiting})
			}
			continue // not heard by the month's end
		}
		heardNames[s.Name] = heardNames[s.Name] || s.Declared
		sh := report.SourceHealth{Name: s.Name, Receiver: s.Receiver, Host: s.Host, Type: s.Type, LastSeen: s.LastSeen, Events: events[s.Key]}
		switch {
		case ended && sh.Events > 0:
			sh.State = report.SourceOK
		case ended:
			sh.State = report.SourceSilent
		case s.State == health.StateSilent:
			sh.State = report.SourceSilent
		case s.State == health.StateDropped:
			sh.State = report.SourceDropped
		default:
			sh.State = report.SourceOK
		}
		if !sh.LastSeen.Before(to) {
			sh.LastSeen = time.Time{}
		}
		out = append(out, sh)
	}
	for _, w := range waiting {
		if !heardNames[w.Name] {
			heardNames[w.Name] = true // once
			out = append(out, w)
		}
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
