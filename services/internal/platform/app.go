package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/sqsq"
)

// Deps are the connections a service is built from.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Write    *pgxpool.Pool // the primary
	Read     *pgxpool.Pool // the regional replica, or Write when there is none
	Redis    *redis.Client // nil when REDIS_URL is unset
	Registry prometheus.Registerer
	// Ctx lives as long as the service: background work a service starts
	// while being built (a key refresher, say) ends with it.
	Ctx context.Context
}

// Service is what a bundled service adds to the common skeleton.
type Service struct {
	Migrations fs.FS // holds migrations/*.sql
	// OpenAPI is the service's OpenAPI 3.1 document (YAML), embedded: it
	// must describe every route Routes registers and nothing else.
	OpenAPI []byte
	Routes  func(r *Router)
	// Authenticator verifies callers of the operations whose document
	// entry requires the bearer scheme, before their requests are
	// validated; nil if none does.
	Authenticator Authenticator
	// Handlers change the service's database, by event type: they run
	// where the primary is, each event once (processed_messages).
	Handlers map[string]Handler
	// RegionalHandlers write no database (they drop cached copies): they
	// run in every region, replicas included, by event type.
	RegionalHandlers map[string]RegionalHandler
	// Background runs for the service's lifetime (cache invalidation
	// listeners); each must return when its context ends.
	Background []func(ctx context.Context)
	// PrimaryBackground is background work that writes the database
	// (reconcilers): it runs only where the primary is.
	PrimaryBackground []func(ctx context.Context)
	// Prune lists the service's own tables to prune on PRUNE_INTERVAL, in
	// addition to processed_messages and the outbox.
	Prune []PruneTask
}

// Builder makes a Service from its dependencies without touching them yet.
type Builder func(d *Deps) (*Service, error)

// App is a running service.
type App struct {
	deps     *Deps
	log      *slog.Logger
	srv      *http.Server
	ln       net.Listener
	draining atomic.Bool
	cancelBg context.CancelFunc
	bg       sync.WaitGroup
	served   chan error
	up       *prometheus.GaugeVec
	api      *API
	routes   []string
	// schemaBehind says what the database lacks of this binary's
	// migrations; empty once it has them all (see waitForSchema).
	schemaBehind atomic.Pointer[string]
}

// Main is what each cmd/<service> runs. With no argument it serves: the
// runtime secret (RUNTIME_SECRET_ARN), then the configuration, JSON logs on
// stdout, serve until ctx ends (SIGTERM), then shut down cleanly. With the
// argument "migrate" it applies the migrations as the schema owner, sets up
// the service's login role and exits (see RunMigrate).
func Main(ctx context.Context, name string, migrations fs.FS, build Builder) error {
	return Run(ctx, name, os.Args[1:], os.Getenv, os.Stdout, migrations, build)
}

// Run is Main with its inputs passed in.
func Run(ctx context.Context, name string, args []string, getenv func(string) string, stdout io.Writer, migrations fs.FS, build Builder) error {
	boot := NewLogger(stdout, name, slog.LevelInfo)
	migrateMode := len(args) == 1 && args[0] == "migrate"
	if len(args) > 0 && !migrateMode {
		err := fmt.Errorf("unknown arguments %q: run with none to serve, or with \"migrate\"", args)
		boot.Error("invalid arguments", "err", err)
		return err
	}
	// Read once, before the secret: the runtime applied it at exec.
	memLimit := getenv(MemoryLimitVariable)
	getenv, err := LoadRuntimeSecret(ctx, getenv)
	if err != nil {
		boot.Error("cannot load the runtime secret", "err", err)
		return err
	}
	withName := func(k string) string {
		if k == "SERVICE_NAME" && getenv(k) == "" {
			return name
		}
		return getenv(k)
	}
	if migrateMode {
		return RunMigrate(ctx, name, withName, boot, migrations)
	}
	cfg, err := config.Load(withName)
	log := NewLogger(stdout, name, cfg.LogLevel)
	if err == nil && cfg.ServiceName != name {
		err = fmt.Errorf("SERVICE_NAME is %q but this binary is the %s service", cfg.ServiceName, name)
	}
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return err
	}
	RouteLibraryLogs(log)
	log.Info("starting", "config", cfg.String(), "gomemlimit", memLimit, "memory_limit_bytes", debug.SetMemoryLimit(-1))
	app, err := Start(ctx, cfg, log, build)
	if err != nil {
		log.Error("start failed", "err", err)
		return err
	}
	return app.Wait(ctx)
}

// RunMigrate is migrate mode: it reads the schema owner's DATABASE_URL,
// APP_DB_USER and APP_DB_PASSWORD, applies the platform's and the service's
// migrations and creates or updates the login role, granted read and write
// on the service's tables and nothing else. Running it again changes
// nothing but the role's password verifier (same password, fresh salt); two
// runs at once take turns on a lock.
func RunMigrate(ctx context.Context, name string, getenv func(string) string, log *slog.Logger, migrations fs.FS) error {
	m, err := config.LoadMigrate(getenv)
	if err == nil && m.ServiceName != name {
		err = fmt.Errorf("SERVICE_NAME is %q but this binary is the %s service", m.ServiceName, name)
	}
	if err != nil {
		log.Error("invalid configuration", "mode", "migrate", "err", err)
		return err
	}
	RouteLibraryLogs(log)
	log.Info("migrating", "config", m.String())
	// The migration job may start while its database is still being
	// created: wait for it a while rather than fail at once.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	openCtx, openCancel := context.WithTimeout(ctx, 3*time.Minute)
	pool, err := OpenPool(openCtx, log, m.DatabaseURL, 2)
	openCancel()
	if err != nil {
		log.Error("migrate failed", "err", fmt.Errorf("DATABASE_URL: %w", err))
		return err
	}
	defer pool.Close()
	started := time.Now()
	if err := MigrateAndGrant(ctx, pool, migrations, AppRole{Name: m.AppUser, Password: m.AppPassword},
		AppRole{Name: m.ReaderUser, Password: m.ReaderPassword, ReadOnly: true}); err != nil {
		log.Error("migrate failed", "err", err)
		return err
	}
	log.Info("migrated", "app_user", m.AppUser, "reader_user", m.ReaderUser, "region", m.AWSRegion, "duration_ms", time.Since(started).Milliseconds())
	return nil
}

// Start connects everything, applies migrations and starts serving. It
// returns once the listener is open.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger, build Builder) (app *App, err error) {
	d := &Deps{Config: cfg, Log: log}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d.Registry = reg
	a := &App{deps: d, log: log, served: make(chan error, 1)}
	bgCtx, cancelBg := context.WithCancel(WithLogger(context.WithoutCancel(ctx), log))
	d.Ctx, a.cancelBg = bgCtx, cancelBg
	defer func() {
		if err != nil {
			cancelBg()
			a.bg.Wait()
			a.closeConns()
		}
	}()

	startCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if d.Write, err = OpenPool(startCtx, log, cfg.DatabaseURL, cfg.DBMaxConns); err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	d.Read = d.Write
	if cfg.DatabaseReadURL != "" {
		if d.Read, err = OpenPool(startCtx, log, cfg.DatabaseReadURL, cfg.DBMaxConns); err != nil {
			d.Read = nil
			return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
		}
	}
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if cfg.RedisAuthToken != "" {
			opts.Password = cfg.RedisAuthToken
		}
		// Short timeouts: the cache must fail fast so reads fall back to
		// the database instead of queueing behind a sick Redis.
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = time.Second, 500*time.Millisecond, 500*time.Millisecond
		opts.MaxRetries, opts.DialerRetries = 1, 1
		d.Redis = redis.NewClient(opts)
	}
	svc, err := build(d)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", cfg.ServiceName, err)
	}
	if a.api, err = LoadAPI(svc.OpenAPI); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.ServiceName, err)
	}
	if cfg.MigrateOnStart {
		if err := Migrate(startCtx, d.Write, svc.Migrations); err != nil {
			return nil, fmt.Errorf("MIGRATE_ON_START (DATABASE_URL must be the schema owner): %w", err)
		}
	}
	behind, err := SchemaBehind(startCtx, d.Write, svc.Migrations)
	if err != nil {
		return nil, err
	}
	a.schemaBehind.Store(&behind)
	pools := map[string]*pgxpool.Pool{"write": d.Write}
	if d.Read != d.Write {
		pools["read"] = d.Read
	}
	reg.MustRegister(newPoolCollector(pools), newOutboxCollector(d.Write))
	a.up = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dependency_up", Help: "1 if the dependency answered the last readiness check, 0 if not.",
	}, []string{"dependency"})
	reg.MustRegister(a.up)

	handlers, regional, err := selectHandlers(cfg, svc)
	if err != nil {
		return nil, err
	}
	// Background work starts once the schema is this binary's: at once, or
	// when waitForSchema sees the migration job's work. A replica runs
	// none that writes.
	primary := cfg.DatabaseRole == config.RolePrimary
	var work []func()
	if primary {
		pruner := NewPruner(d.Write, append(platformPruneTasks(cfg.ProcessedMessagesRetention), svc.Prune...), cfg.PruneInterval, log, reg)
		work = append(work, func() { pruner.Run(bgCtx) })
		for _, f := range svc.PrimaryBackground {
			work = append(work, func() { f(bgCtx) })
		}
	}
	for _, f := range svc.Background {
		work = append(work, func() { f(bgCtx) })
	}
	if cfg.TopicARN != "" || cfg.QueueURL != "" {
		awsCfg, err := awsconfig.LoadDefaultConfig(startCtx, awsconfig.WithRegion(cfg.AWSRegion))
		if err != nil {
			return nil, fmt.Errorf("AWS_REGION: load AWS config: %w", err)
		}
		if cfg.TopicARN != "" {
			client := sns.NewFromConfig(awsCfg, func(o *sns.Options) {
				// The topics live in the master region; a service in another
				// region must sign for the topic's region, not its own.
				o.Region = RegionOfARN(cfg.TopicARN, o.Region)
				if cfg.AWSEndpointURL != "" {
					o.BaseEndpoint = aws.String(cfg.AWSEndpointURL)
				}
			})
			relay := NewRelay(d.Write, &SNSPublisher{Client: client, TopicARN: cfg.TopicARN}, log, cfg.OutboxPollInterval, reg)
			work = append(work, func() { relay.Run(bgCtx) })
		}
		if cfg.QueueURL != "" && len(handlers)+len(regional) > 0 {
			c := NewConsumer(sqsq.New(awsCfg, cfg.AWSEndpointURL), cfg.QueueURL, d.Write, handlers, log, cfg.QueueWaitSeconds, cfg.QueueVisibilitySecs, reg)
			c.Regional = regional
			work = append(work, func() { c.Run(bgCtx) })
		}
	}

	mux := NewRouter(a.api, svc.Authenticator)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", a.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /openapi.json", a.api.serveDocument)
	svc.Routes(mux)
	if err := mux.Check(); err != nil {
		return nil, fmt.Errorf("%s routes and OpenAPI document disagree: %w", cfg.ServiceName, err)
	}
	a.routes = mux.Routes()
	metrics := newHTTPMetrics(reg, log)
	metrics.sampleRate = cfg.AccessLogSampleRate
	a.srv = &http.Server{
		Handler:           withRequestID(log, metrics.instrument(recoverPanics(readOnly(!primary, jsonRouteErrors(mux))))),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if a.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("HTTP_ADDR: %w", err)
	}
	go func() { a.served <- a.srv.Serve(a.ln) }()
	log.Info("serving", "addr", a.ln.Addr().String())
	startWork := func() {
		for _, f := range work {
			a.goBackground(f)
		}
	}
	if behind == "" {
		startWork()
	} else {
		log.Warn("not ready: the database schema is behind this binary; waiting for the migration job (`"+cfg.ServiceName+" migrate`)", "schema", behind)
		a.goBackground(func() { a.waitForSchema(bgCtx, svc.Migrations, startWork) })
	}
	return a, nil
}

// SchemaPollInterval is how often a service whose schema is behind looks
// again.
var SchemaPollInterval = time.Second

// waitForSchema polls until the database has every migration this binary
// carries, then starts the background work and lets readiness pass.
func (a *App) waitForSchema(ctx context.Context, migrations fs.FS, startWork func()) {
	t := time.NewTicker(SchemaPollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		behind, err := SchemaBehind(qctx, a.deps.Write, migrations)
		cancel()
		if err != nil {
			a.log.Warn("schema check failed", "err", err)
			continue
		}
		a.schemaBehind.Store(&behind)
		if behind == "" {
			a.log.Info("the database schema is current; starting")
			startWork()
			return
		}
	}
}

func (a *App) goBackground(f func()) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		f()
	}()
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.ln.Addr().String() }

// Handler is the service's whole HTTP stack, middleware included
// (benchmarks call it without a network in between).
func (a *App) Handler() http.Handler { return a.srv.Handler }

// API is the service's OpenAPI document.
func (a *App) API() *API { return a.api }

// Routes are the patterns the service registered, sorted.
func (a *App) Routes() []string { return a.routes }

// Deps exposes the service's connections (tests inspect the database).
func (a *App) Deps() *Deps { return a.deps }

// Wait serves until ctx ends, then shuts down.
func (a *App) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		a.log.Info("shutdown requested")
	case err := <-a.served:
		a.log.Error("server stopped", "err", err)
		_ = a.Shutdown(context.Background()) // the serve error is the one to report
		return err
	}
	return a.Shutdown(context.Background())
}

// Shutdown fails readiness, waits ShutdownDelay so load balancers stop
// sending, stops accepting and drains in-flight requests, stops the relay and
// consumer, and only then closes the pools those requests were using.
func (a *App) Shutdown(ctx context.Context) error {
	cfg := a.deps.Config
	a.draining.Store(true)
	if cfg.ShutdownDelay > 0 {
		time.Sleep(cfg.ShutdownDelay)
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.ShutdownTimeout)
	defer cancel()
	err := a.srv.Shutdown(sctx)
	if err != nil {
		a.log.Error("drain incomplete", "err", err)
	}
	a.cancelBg()
	a.bg.Wait()
	a.closeConns()
	a.log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (a *App) closeConns() {
	d := a.deps
	if d.Redis != nil {
		_ = d.Redis.Close()
	}
	if d.Read != nil && d.Read != d.Write {
		d.Read.Close()
	}
	if d.Write != nil {
		d.Write.Close()
	}
}

// ready reports whether this instance should get traffic: not while
// draining, and only when the database answers quickly. Redis is only a
// cache (and the login throttle's store, which fails open): while it is down
// every service still answers, more slowly, so an outage shows as
// "degraded" in the body and as dependency_up{dependency="redis"} 0, not as
// a 503 that would take every pod out of the load balancer at once.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	if a.draining.Load() {
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	checks := map[string]string{}
	status := "ok"
	check := func(name string, required bool, err error) {
		if err == nil {
			checks[name] = "ok"
			a.up.WithLabelValues(name).Set(1)
			return
		}
		checks[name] = err.Error()
		a.up.WithLabelValues(name).Set(0)
		switch {
		case required:
			status = "unavailable"
		case status == "ok":
			status = "degraded"
		}
	}
	d := a.deps
	check("database", true, d.Write.Ping(ctx))
	var schema error
	if behind := *a.schemaBehind.Load(); behind != "" {
		schema = errors.New(behind)
	}
	check("schema", true, schema)
	if d.Read != d.Write {
		check("database_read", true, d.Read.Ping(ctx))
	}
	if d.Redis != nil {
		check("redis", false, d.Redis.Ping(ctx).Err())
	}
	code := http.StatusOK
	if status == "unavailable" {
		code = http.StatusServiceUnavailable
	}
	WriteJSON(w, code, map[string]any{"status": status, "checks": checks})
}

// selectHandlers picks the event handlers this instance runs: those
// EVENT_HANDLERS lists, or by default every handler where the primary is
// and the regional ones on a replica. A replica refuses a handler that
// writes the database: the event's effect happens where the primary is.
func selectHandlers(cfg config.Config, svc *Service) (map[string]Handler, map[string]RegionalHandler, error) {
	primary := cfg.DatabaseRole == config.RolePrimary
	handlers, regional := map[string]Handler{}, map[string]RegionalHandler{}
	if cfg.EventHandlers == nil {
		if primary {
			maps.Copy(handlers, svc.Handlers)
		}
		maps.Copy(regional, svc.RegionalHandlers)
		return handlers, regional, nil
	}
	known := slices.Sorted(maps.Keys(svc.Handlers))
	known = append(known, slices.Sorted(maps.Keys(svc.RegionalHandlers))...)
	var errs []error
	for _, ev := range cfg.EventHandlers {
		switch h, r := svc.Handlers[ev], svc.RegionalHandlers[ev]; {
		case r != nil:
			regional[ev] = r
		case h != nil && primary:
			handlers[ev] = h
		case h != nil:
			errs = append(errs, fmt.Errorf("EVENT_HANDLERS: %s changes the %s database, so it runs where the primary is, not with DATABASE_ROLE=replica", ev, cfg.ServiceName))
		default:
			errs = append(errs, fmt.Errorf("EVENT_HANDLERS: the %s service has no handler for %q; it handles %v", cfg.ServiceName, ev, known))
		}
	}
	return handlers, regional, errors.Join(errs...)
}

// readOnly refuses writes on a replica: the edge sends them to the master
// region, so one arriving here was misrouted (or sent straight to a
// regional origin). 421 tells the client this origin cannot answer it and
// that it is not a fault of the request.
func readOnly(on bool, next http.Handler) http.Handler {
	if !on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
		default:
			WriteError(w, r, Misdirected("this region serves reads only; writes go to the master region"))
		}
	})
}
