// Package product serves the catalogue: search, a Redis cache-aside read
// path, admin writes that publish product.updated, and stock reservation for
// placed orders.
package product

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Product is the API representation.
type Product struct {
	ID          uuid.UUID `json:"id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	PriceCents  int64     `json:"price_cents"`
	Currency    string    `json:"currency"`
	Stock       int32     `json:"stock"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Input is the create and update request body.
type Input struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PriceCents  *int64 `json:"price_cents"`
	Currency    string `json:"currency"`
	Stock       *int32 `json:"stock"`
}

// Validate checks every field and fills defaults.
func (in *Input) Validate() error {
	in.SKU = strings.TrimSpace(in.SKU)
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.SKU == "" || len(in.SKU) > 64:
		return platform.Invalid("sku", "is required, at most 64 characters")
	case strings.ContainsFunc(in.SKU, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		return platform.Invalid("sku", "must be printable ASCII without spaces")
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 200 || !utf8.ValidString(in.Name):
		return platform.Invalid("name", "is required, at most 200 characters")
	case utf8.RuneCountInString(in.Description) > 5000 || !utf8.ValidString(in.Description):
		return platform.Invalid("description", "must be at most 5000 characters")
	case in.PriceCents == nil:
		return platform.Invalid("price_cents", "is required")
	case *in.PriceCents < 0 || *in.PriceCents > 1_000_000_000_00:
		return platform.Invalid("price_cents", "must be from 0 to 100000000000")
	case in.Stock != nil && *in.Stock < 0:
		return platform.Invalid("stock", "must not be negative")
	}
	if in.Currency == "" {
		in.Currency = "USD"
	}
	if len(in.Currency) != 3 || strings.ToUpper(in.Currency) != in.Currency {
		return platform.Invalid("currency", "must be an ISO 4217 code such as USD")
	}
	if in.Stock == nil {
		in.Stock = new(int32)
	}
	return nil
}

// StockInput sets a stock level.
type StockInput struct {
	Stock *int32 `json:"stock"`
}

// Validate checks the new stock level.
func (in StockInput) Validate() error {
	if in.Stock == nil || *in.Stock < 0 {
		return platform.Invalid("stock", "is required and must not be negative")
	}
	return nil
}

type service struct {
	d      *platform.Deps
	verify *authn.Verifier
	ttl    time.Duration
	// misses shares one database read among concurrent cache misses of a
	// product, so a popular product whose entry was just invalidated costs
	// one read, not one per waiting request.
	misses singleflight.Group
}

// New builds the product service.
func New(d *platform.Deps) (*platform.Service, error) {
	if d.Redis == nil {
		return nil, errors.New("REDIS_URL is required")
	}
	s := &service{d: d, verify: authn.NewVerifier(d.Ctx, d.Config.AuthJWKSURL, d.Config.JWTIssuer, d.Config.JWKSRefreshInterval), ttl: d.Config.CacheTTL}
	return &platform.Service{
		Migrations: migrations,
		Routes: func(mux *http.ServeMux) {
			mux.HandleFunc("GET /v1/products", s.list)
			mux.HandleFunc("GET /v1/products/{id}", s.get)
			mux.HandleFunc("GET /v1/products/{id}/stock", s.getStock)
			mux.HandleFunc("POST /v1/products", s.verify.RequireRole(authn.RoleAdmin, s.create))
			mux.HandleFunc("PUT /v1/products/{id}", s.verify.RequireRole(authn.RoleAdmin, s.update))
			mux.HandleFunc("PUT /v1/products/{id}/stock", s.verify.RequireRole(authn.RoleAdmin, s.setStock))
		},
		Handlers: map[string]platform.Handler{platform.OrderPlaced: s.reserve},
	}, nil
}

const columns = "id, sku, name, description, price_cents, currency, stock, created_at, updated_at"

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.Description, &p.PriceCents, &p.Currency, &p.Stock, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func cacheKey(id uuid.UUID) string { return "product:v1:" + id.String() }

func pathID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, platform.Invalid("id", "must be a UUID")
	}
	return id, nil
}

// get is the hot path: Redis first, the replica on a miss, then fill the
// cache. A Redis failure degrades to database reads instead of failing.
func (s *service) get(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	key := cacheKey(id)
	cached, err := s.d.Redis.Get(ctx, key).Bytes()
	if err == nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Cache", "hit")
		_, _ = w.Write(cached) //nolint:gosec // JSON we serialized ourselves, served as application/json
		return
	}
	if !errors.Is(err, redis.Nil) {
		platform.Logger(ctx).Warn("cache read failed", "err", err)
	}
	v, err, _ := s.misses.Do(key, func() (any, error) {
		// Detached: the waiting requests must not fail because the one
		// that happened to lead the load was cancelled.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		p, err := scanProduct(s.d.Read.QueryRow(lctx, "SELECT "+columns+" FROM products WHERE id = $1", id))
		if err != nil {
			return nil, err
		}
		body, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		body = append(body, '\n')
		if err := s.d.Redis.Set(lctx, key, body, s.ttl).Err(); err != nil {
			platform.Logger(ctx).Warn("cache fill failed", "err", err)
		}
		return body, nil
	})
	body, _ := v.([]byte)
	if errors.Is(err, pgx.ErrNoRows) {
		platform.WriteError(w, r, platform.NotFound("product"))
		return
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Cache", "miss")
	_, _ = w.Write(body) //nolint:gosec // JSON we serialized ourselves, served as application/json
}

// invalidate drops cached copies after a commit. A failure only leaves a
// stale entry until its TTL, so it is logged, not returned.
func (s *service) invalidate(ctx context.Context, ids ...uuid.UUID) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = cacheKey(id)
	}
	if err := s.d.Redis.Del(ctx, keys...).Err(); err != nil {
		platform.Logger(ctx).Warn("cache invalidation failed", "err", err, "keys", keys)
	}
}

// ListParams are the list query parameters.
type ListParams struct {
	Query  string
	Limit  int
	Offset int
}

// ParseListParams reads q, limit (1-100, default 20) and offset (0-10000).
func ParseListParams(q map[string][]string) (ListParams, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	p := ListParams{Query: strings.TrimSpace(get("q")), Limit: 20}
	if len(p.Query) > 200 || !utf8.ValidString(p.Query) {
		return p, platform.Invalid("q", "must be at most 200 characters")
	}
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return p, platform.Invalid("limit", "must be an integer from 1 to 100")
		}
		p.Limit = n
	}
	if v := get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10000 {
			return p, platform.Invalid("offset", "must be an integer from 0 to 10000")
		}
		p.Offset = n
	}
	return p, nil
}

func (s *service) list(w http.ResponseWriter, r *http.Request) {
	p, err := ParseListParams(r.URL.Query())
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	var rows pgx.Rows
	// One extra row tells whether there is a next page.
	if p.Query == "" {
		rows, err = s.d.Read.Query(ctx, "SELECT "+columns+" FROM products ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
			p.Limit+1, p.Offset)
	} else {
		rows, err = s.d.Read.Query(ctx, "SELECT "+columns+` FROM products
			WHERE search @@ websearch_to_tsquery('simple', $1)
			ORDER BY ts_rank(search, websearch_to_tsquery('simple', $1)) DESC, id LIMIT $2 OFFSET $3`,
			p.Query, p.Limit+1, p.Offset)
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Product, error) { return scanProduct(row) })
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	resp := map[string]any{"items": items, "limit": p.Limit, "offset": p.Offset}
	if len(items) > p.Limit {
		resp["items"] = items[:p.Limit]
		resp["next_offset"] = p.Offset + p.Limit
	}
	if items == nil {
		resp["items"] = []Product{}
	}
	platform.WriteJSON(w, http.StatusOK, resp)
}

func (s *service) getStock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var stock int32
	err = s.d.Read.QueryRow(r.Context(), "SELECT stock FROM products WHERE id = $1", id).Scan(&stock)
	if errors.Is(err, pgx.ErrNoRows) {
		platform.WriteError(w, r, platform.NotFound("product"))
		return
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, map[string]any{"product_id": id, "stock": stock})
}

func (s *service) create(w http.ResponseWriter, r *http.Request) {
	var in Input
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	ctx := r.Context()
	var p Product
	err := pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx, `INSERT INTO products (id, sku, name, description, price_cents, currency, stock)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+columns,
			uuid.New(), in.SKU, in.Name, in.Description, *in.PriceCents, in.Currency, *in.Stock))
		if err != nil {
			return err
		}
		_, err = platform.Enqueue(ctx, tx, config.Product, platform.ProductUpdated, p)
		return err
	})
	if isUniqueViolation(err) {
		platform.WriteError(w, r, platform.Conflict("sku", "is already used by another product"))
		return
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	platform.WriteJSON(w, http.StatusCreated, p)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

func (s *service) update(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var in Input
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	s.write(w, r, id, func(ctx context.Context, tx pgx.Tx) (Product, error) {
		return scanProduct(tx.QueryRow(ctx, `UPDATE products SET sku = $2, name = $3, description = $4, price_cents = $5,
			currency = $6, stock = $7, updated_at = now() WHERE id = $1 RETURNING `+columns,
			id, in.SKU, in.Name, in.Description, *in.PriceCents, in.Currency, *in.Stock))
	})
}

func (s *service) setStock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var in StockInput
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	s.write(w, r, id, func(ctx context.Context, tx pgx.Tx) (Product, error) {
		return scanProduct(tx.QueryRow(ctx,
			"UPDATE products SET stock = $2, updated_at = now() WHERE id = $1 RETURNING "+columns, id, *in.Stock))
	})
}

// write runs an update and its product.updated event in one transaction,
// then drops the cached copy.
func (s *service) write(w http.ResponseWriter, r *http.Request, id uuid.UUID, change func(context.Context, pgx.Tx) (Product, error)) {
	ctx := r.Context()
	var p Product
	err := pgx.BeginFunc(ctx, s.d.Write, func(tx pgx.Tx) error {
		var err error
		if p, err = change(ctx, tx); err != nil {
			return err
		}
		_, err = platform.Enqueue(ctx, tx, config.Product, platform.ProductUpdated, p)
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		platform.WriteError(w, r, platform.NotFound("product"))
		return
	case isUniqueViolation(err):
		platform.WriteError(w, r, platform.Conflict("sku", "is already used by another product"))
		return
	case err != nil:
		platform.WriteError(w, r, err)
		return
	}
	s.invalidate(ctx, id)
	platform.WriteJSON(w, http.StatusOK, p)
}

// OrderPlacedEvent is the data of order.placed.
type OrderPlacedEvent struct {
	OrderID uuid.UUID   `json:"order_id"`
	UserID  uuid.UUID   `json:"user_id"`
	Items   []orderLine `json:"items"`
}

type orderLine struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int32     `json:"quantity"`
}

// reserve takes stock for every line of an order, or for none: if one line
// is short, the savepoint is rolled back and order.cancelled is published.
// The conditional UPDATE never lets stock go below zero, even under
// concurrent reservations.
func (s *service) reserve(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
	var e OrderPlacedEvent
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return nil, fmt.Errorf("decode order.placed: %w", err)
	}
	if e.OrderID == uuid.Nil || len(e.Items) == 0 {
		return nil, errors.New("order.placed without order_id or items")
	}
	for _, it := range e.Items {
		if it.Quantity <= 0 {
			return nil, fmt.Errorf("order.placed %s: quantity %d is not positive", e.OrderID, it.Quantity)
		}
	}
	// Lock rows in a fixed order so concurrent reservations cannot deadlock.
	items := e.Items
	slices.SortFunc(items, func(a, b orderLine) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })

	sp, err := tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	var short uuid.UUID
	var changed []Product
	for _, it := range items {
		p, err := scanProduct(sp.QueryRow(ctx, `UPDATE products SET stock = stock - $2, updated_at = now()
			WHERE id = $1 AND stock >= $2 RETURNING `+columns, it.ProductID, it.Quantity))
		if errors.Is(err, pgx.ErrNoRows) {
			short = it.ProductID
			break
		}
		if err != nil {
			_ = sp.Rollback(ctx)
			return nil, err
		}
		changed = append(changed, p)
	}
	if short != uuid.Nil {
		if err := sp.Rollback(ctx); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO stock_reservations (order_id, status, reason) VALUES ($1, 'rejected', $2) ON CONFLICT DO NOTHING",
			e.OrderID, "insufficient stock for product "+short.String()); err != nil {
			return nil, err
		}
		_, err := platform.Enqueue(ctx, tx, config.Product, platform.OrderCancelled, map[string]any{
			"order_id": e.OrderID, "reason": "insufficient_stock", "product_id": short,
		})
		return nil, err
	}
	if err := sp.Commit(ctx); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO stock_reservations (order_id, status) VALUES ($1, 'reserved') ON CONFLICT DO NOTHING", e.OrderID); err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(changed))
	for _, p := range changed {
		if _, err := platform.Enqueue(ctx, tx, config.Product, platform.ProductUpdated, p); err != nil {
			return nil, err
		}
		ids = append(ids, p.ID)
	}
	return func(ctx context.Context) {
		if len(ids) > 0 {
			s.invalidate(ctx, ids...)
		}
	}, nil
}
