// Command user runs the user service; see services/README.md for its settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/ecommerce-platform/services/internal/platform"
	"github.com/example/ecommerce-platform/services/internal/user"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := platform.Main(ctx, "user", user.Migrations, user.New); err != nil {
		os.Exit(1)
	}
}
