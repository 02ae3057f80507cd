// Command auth runs the auth service; see services/README.md for its settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/ecommerce-platform/services/internal/auth"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := platform.Main(ctx, "auth", auth.Migrations, auth.New); err != nil {
		os.Exit(1)
	}
}
