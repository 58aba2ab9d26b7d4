package cli

import (
	"context"
	"log/slog"
	"os"

	"github.com/tarian-soc/tarian/internal/config"
	"github.com/tarian-soc/tarian/internal/server"
)

// reloadOnHangup reads the configuration again on every signal of hup and
// hands it to srv, until ctx is done. A configuration that does not load
// (a bad value, naming file, line and key) is logged and the running one
// kept.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, load func() (config.Config, error), srv *server.Server, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		log.Info("SIGHUP: reloading the configuration")
		cfg, err := load()
		if err != nil {
			log.Error("configuration reload refused; the running configuration stays", "err", err)
			continue
		}
		if err := srv.Reload(ctx, cfg); err != nil {
			log.Error("configuration reload refused or incomplete; what was not applied keeps running as before", "err", err)
		}
	}
}
