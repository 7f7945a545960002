package service

import (
	"io"
	"log/slog"
)

// NewLogger returns the service's logger: JSON lines when format is "json", logfmt-style text
// otherwise, at level and above.
func NewLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
