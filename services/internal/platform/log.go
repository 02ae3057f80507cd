package platform

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// NewLogger returns a JSON logger that stamps every record with the service.
func NewLogger(w io.Writer, service string, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})).With("service", service)
}

// RouteLibraryLogs sends what libraries log on their own through l, so every
// line a process writes is the same JSON with the service field: the
// standard library's log package and slog's default (both through
// slog.SetDefault) and go-redis, which otherwise prints plain text to stderr
// on every failed dial. Process-wide, so only Main calls it.
func RouteLibraryLogs(l *slog.Logger) {
	slog.SetDefault(l)
	log.SetFlags(0)
	redis.SetLogger(redisLogger{l: l.With("component", "go-redis")})
}

type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.WarnContext(ctx, fmt.Sprintf(format, v...))
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
