package lumberjack

import "github.com/tarian-soc/tarian/internal/bus"

func errBackpressure() error { return bus.ErrBackpressure }
