// Command order runs the order service; see services/README.md for its settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/example/ecommerce-platform/services/internal/order"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := platform.Main(ctx, "order", order.Migrations, order.New); err != nil {
		os.Exit(1)
	}
}
