package platform

import (
	"context"
	"io"
	"log/slog"
)

// NewLogger returns a JSON logger that stamps every record with the service.
func NewLogger(w io.Writer, service string, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", service)
}

type loggerKey struct{}

// WithLogger stores a request-scoped logger (it carries the request id).
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the request-scoped logger, or the default one. Within a
// request the request id is attached here, on first use, so requests that
// log nothing pay nothing for it.
func Logger(ctx context.Context) *slog.Logger {
	l, ok := ctx.Value(loggerKey{}).(*slog.Logger)
	if !ok {
		l = slog.Default()
	}
	if id := RequestID(ctx); id != "" {
		return l.With("request_id", id)
	}
	return l
}
