// Package product serves the catalogue: search, a Redis cache-aside read
// path, admin writes that publish product.updated, and stock reservation for
// placed orders.
package product

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/singleflight"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// Migrations are the service's schema, applied by `product migrate`.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// OpenAPI is the service's API contract (OpenAPI 3.1), served at
// /openapi.json; requests are validated against it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Product is the API representation.
type Product struct {
	ID          uuid.UUID `json:"id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	PriceCents  int64     `json:"price_cents"`
	Currency    string    `json:"currency"`
	Stock       int32     `json:"stock"`
	Version     int64     `json:"version"`
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

// StockInput sets a stock level (PUT .../stock, with If-Match).
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

// Adjustment is a relative stock change by an admin (goods received,
// breakage): it composes with reservations made meanwhile instead of
// overwriting them, so it needs no If-Match.
type Adjustment struct {
	Delta  *int32 `json:"delta"`
	Reason string `json:"reason"`
}

// Validate checks the adjustment.
func (a *Adjustment) Validate() error {
	switch {
	case a.Delta == nil || *a.Delta == 0:
		return platform.Invalid("delta", "is required and must not be 0")
	case *a.Delta < -MaxStock || *a.Delta > MaxStock:
		return platform.Invalid("delta", "must be from %d to %d", -MaxStock, MaxStock)
	case utf8.RuneCountInString(a.Reason) > 500:
		return platform.Invalid("reason", "must be at most 500 characters")
	}
	return nil
}

// MaxStock bounds a stock level and an adjustment.
const MaxStock = 1_000_000_000

type service struct {
	d      *platform.Deps
	verify *authn.Verifier
	cache  *cache
	// misses shares one database read among concurrent cache misses of a
	// product, so a popular product whose entry was just invalidated costs
	// one read, not one per waiting request.
	misses singleflight.Group
	// loads counts database reads of the get path (tests check coalescing).
	loads atomic.Int64
}

// New builds the product service.
func New(d *platform.Deps) (*platform.Service, error) {
	if d.Redis == nil {
		return nil, errors.New("REDIS_URL is required")
	}
	cfg := d.Config
	s := &service{d: d, verify: authn.NewVerifier(d.Ctx, cfg.AuthJWKSURL, cfg.JWTIssuer, cfg.JWKSRefreshInterval),
		cache: newCache(d.Redis, cfg.CacheTTL, cfg.LocalCacheTTL, cfg.LocalCacheEntries, d.Log, d.Registry)}
	return &platform.Service{
		Migrations: Migrations,
		OpenAPI:    OpenAPI,
		// The document says which operations need a token (and which the
		// admin role); the router checks it before validating.
		Authenticator: s.verify,
		Routes: func(mux *platform.Router) {
			mux.HandleFunc("GET /v1/products", s.list)
			mux.HandleFunc("GET /v1/products/{id}", s.get)
			mux.HandleFunc("GET /v1/products/{id}/stock", s.getStock)
			mux.HandleFunc("POST /v1/products", s.create)
			mux.HandleFunc("PUT /v1/products/{id}", s.replace)
			mux.HandleFunc("PATCH /v1/products/{id}", s.patch)
			mux.HandleFunc("PUT /v1/products/{id}/stock", s.setStock)
			mux.HandleFunc("POST /v1/products/{id}/stock-adjustments", s.adjustStock)
		},
		Handlers: map[string]platform.Handler{
			platform.OrderPlaced:    s.reserve,
			platform.OrderCancelled: s.release,
		},
		RegionalHandlers: map[string]platform.RegionalHandler{platform.ProductUpdated: s.productUpdated},
		Background:       []func(context.Context){s.cache.listen},
	}, nil
}

const columns = "id, sku, name, description, price_cents, currency, stock, version, created_at, updated_at"

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	err := row.Scan(&p.ID, &p.SKU, &p.Name, &p.Description, &p.PriceCents, &p.Currency, &p.Stock, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func pathID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, platform.Invalid("id", "must be a UUID")
	}
	return id, nil
}

var (
	jsonType  = []string{"application/json"}
	cacheHit  = []string{"hit"}
	cacheMiss = []string{"miss"}
)

// serve writes a product's cached JSON. Headers are set by direct map
// assignment: the canonicalising Set costs measurably on this path.
func serve(w http.ResponseWriter, e entry, xcache []string) {
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Etag"] = []string{e.etag}
	h["X-Cache"] = xcache
	_, _ = w.Write(e.body) //nolint:gosec // JSON we serialized ourselves, served as application/json
}

// get is the hot path: the in-process cache, then Redis, then the replica
// on a miss (one read shared by concurrent misses), filling both caches. A
// Redis failure degrades to database reads instead of failing.
func (s *service) get(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	ctx := r.Context()
	if e, _, ok := s.cache.get(ctx, id); ok {
		serve(w, e, cacheHit)
		return
	}
	v, err, _ := s.misses.Do(id.String(), func() (any, error) {
		// Detached: the waiting requests must not fail because the one
		// that happened to lead the load was cancelled.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		s.loads.Add(1)
		p, err := scanProduct(s.d.Read.QueryRow(lctx, "SELECT "+columns+" FROM products WHERE id = $1", id))
		if err != nil {
			return entry{}, err
		}
		e, err := entryOf(p)
		if err != nil {
			return entry{}, err
		}
		s.cache.fill(lctx, id, e)
		return e, nil
	})
	if errors.Is(err, pgx.ErrNoRows) {
		platform.WriteError(w, r, platform.NotFound("product"))
		return
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	serve(w, v.(entry), cacheMiss)
}

func entryOf(p Product) (entry, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return entry{}, err
	}
	return entry{body: append(body, '\n'), etag: etagOf(p.Version)}, nil
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
	if err := platform.ValidText("q", p.Query); err != nil {
		return p, err
	}
	if len(p.Query) > 200 {
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
