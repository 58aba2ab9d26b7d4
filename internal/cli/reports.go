package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/tarian-soc/tarian/internal/report"
)

const reportsUsage = "usage: tarian reports create --tenant ID [--month YYYY-MM] [--lang en|cy] [--pdf] -o FILE"

// runReports is `tarian reports create`: one member's monthly report
// (GET /api/v1/reports) written to FILE, HTML or PDF ("-" is standard
// output).
func runReports(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError(reportsUsage)
	}
	fs := newFlagSet("reports create", env)
	ten := fs.String("tenant", "", "the member (a member's token: its own, which it may omit)")
	month := fs.String("month", "", "the calendar month, UTC (default: the month before this one)")
	lang := fs.String("lang", "en", "the language: en or cy")
	pdf := fs.Bool("pdf", false, "PDF instead of HTML")
	out := fs.String("o", "", "the file to write (- for standard output)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q\n%s", pos[0], reportsUsage))
	}
	if *out == "" {
		return usageError("-o FILE is required\n" + reportsUsage)
	}
	if _, err := report.ParseLang(*lang); err != nil {
		return usageError(err.Error())
	}
	if *month != "" {
		if _, err := report.ParseMonth(*month); err != nil {
			return usageError(err.Error())
		}
	}
	c, err := newClient(env)
	if err != nil {
		return err
	}
	q := url.Values{"lang": {*lang}, "format": {"html"}}
	if *pdf {
		q.Set("format", "pdf")
	}
	if *ten != "" {
		q.Set("tenant", *ten)
	}
	if *month != "" {
		q.Set("month", *month)
	}
	if *out == "-" {
		resp, err := c.do(ctx, "GET", "/api/v1/reports?"+q.Encode(), nil, "")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(env.Stdout, resp.Body)
		return err
	}
	partial := *out + ".partial"
	f, err := openPartial(*out)
	if err != nil {
		return err
	}
	resp, err := c.do(ctx, "GET", "/api/v1/reports?"+q.Encode(), nil, "")
	if err != nil {
		f.Close()
		os.Remove(partial)
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(partial, *out)
	}
	if err != nil {
		os.Remove(partial)
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(env.Stderr, "report %s: %s\n", *out, sizeString(n))
	return nil
}
