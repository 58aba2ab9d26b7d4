package lumberjack

import "github.com/tarian-soc/tarian/internal/ingest"

func errBackpressure() error { return ingest.ErrBackpressure }
