// Package order places orders idempotently, checks their items against the
// product API, and records each order with its order.placed event in one
// transaction.
package order

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// Migrations are the service's schema, applied by `order migrate`.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// OpenAPI is the service's API contract (OpenAPI 3.1), served at
// /openapi.json; requests are validated against it.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Limits on one order.
const (
	MaxItems    = 50
	MaxQuantity = 1000
	MaxKeyLen   = 200
)

// Item is one line of a request. ProductID is read as text and parsed in
// Validate, so a malformed id is reported as items[i].product_id rather than
// as an unreadable body.
type Item struct {
	ProductID string `json:"product_id"`
	Quantity  int32  `json:"quantity"`

	id uuid.UUID
}

// PlaceRequest is the body of POST /v1/orders.
type PlaceRequest struct {
	Items []Item `json:"items"`
}

// Validate checks the lines and sorts them, so the same items in another
// order hash the same.
func (p *PlaceRequest) Validate() error {
	if len(p.Items) == 0 {
		return platform.Invalid("items", "must hold at least one item")
	}
	if len(p.Items) > MaxItems {
		return platform.Invalid("items", "must hold at most %d items", MaxItems)
	}
	seen := map[uuid.UUID]bool{}
	for i := range p.Items {
		it := &p.Items[i]
		field := fmt.Sprintf("items[%d].product_id", i)
		if it.ProductID == "" {
			return platform.Invalid(field, "is required")
		}
		id, err := uuid.Parse(it.ProductID)
		if err != nil || len(it.ProductID) != 36 || id == uuid.Nil {
			return platform.Invalid(field, "must be a product id (a UUID such as 7d9f3c5e-2a8b-4c1d-9e6f-0a1b2c3d4e5f)")
		}
		switch {
		case seen[id]:
			return platform.Invalid(field, "appears twice; use quantity")
		case it.Quantity < 1 || it.Quantity > MaxQuantity:
			return platform.Invalid(fmt.Sprintf("items[%d].quantity", i), "must be from 1 to %d", MaxQuantity)
		}
		seen[id] = true
		// The canonical form, so the same products hash the same however
		// the client spelled them.
		it.id, it.ProductID = id, id.String()
	}
	slices.SortFunc(p.Items, func(a, b Item) int { return bytes.Compare(a.id[:], b.id[:]) })
	return nil
}

func (p *PlaceRequest) hash() []byte {
	b, _ := json.Marshal(p.Items)
	sum := sha256.Sum256(b)
	return sum[:]
}

// ValidateKey checks an Idempotency-Key header value.
func ValidateKey(k string) error {
	if k == "" {
		return platform.Invalid("Idempotency-Key", "header is required")
	}
	if len(k) > MaxKeyLen {
		return platform.Invalid("Idempotency-Key", "must be at most %d characters", MaxKeyLen)
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e {
			return platform.Invalid("Idempotency-Key", "must be printable ASCII")
		}
	}
	return nil
}

// Order is the API representation.
type Order struct {
	ID           uuid.UUID   `json:"id"`
	UserID       uuid.UUID   `json:"user_id"`
	Status       string      `json:"status"`
	CancelReason string      `json:"cancel_reason,omitempty"`
	TotalCents   int64       `json:"total_cents"`
	Currency     string      `json:"currency"`
	Items        []OrderItem `json:"items"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

// OrderItem is a priced line.
type OrderItem struct {
	ProductID      uuid.UUID `json:"product_id"`
	Quantity       int32     `json:"quantity"`
	UnitPriceCents int64     `json:"unit_price_cents"`
}

type service struct {
	d         *platform.Deps
	verify    *authn.Verifier
	products  *productClient
	lifecycle *lifecycleMetrics
}

// New builds the order service.
func New(d *platform.Deps) (*platform.Service, error) {
	s := &service{
		d:         d,
		verify:    authn.NewVerifier(d.Ctx, d.Config.AuthJWKSURL, d.Config.JWTIssuer, d.Config.JWKSRefreshInterval),
		products:  newProductClient(d.Config.ProductAPIURL),
		lifecycle: newLifecycleMetrics(d),
	}
	return &platform.Service{
		Migrations: Migrations,
		OpenAPI:    OpenAPI,
		// The document says which operations need a token (and which the
		// admin role); the router checks it before validating.
		Authenticator: s.verify,
		Routes: func(mux *platform.Router) {
			mux.HandleFunc("POST /v1/orders", s.place)
			mux.HandleFunc("GET /v1/orders", s.list)
			mux.HandleFunc("GET /v1/orders/{id}", s.get)
		},
		Handlers: map[string]platform.Handler{platform.OrderCancelled: s.cancelled, platform.StockReserved: s.confirmed},
		// The reconciler re-drives and cancels orders: it writes, so it
		// runs only where the primary is.
		PrimaryBackground: []func(context.Context){s.reconcile},
	}, nil
}

func userID(r *http.Request) (uuid.UUID, error) {
	c, _ := authn.FromContext(r.Context())
	if c == nil {
		return uuid.Nil, platform.Unauthorized("Authorization", "no verified token")
	}
	id, err := uuid.Parse(c.Subject)
	if err != nil {
		return uuid.Nil, platform.Unauthorized("Authorization", "token subject is not a user id")
	}
	return id, nil
}

func (s *service) place(w http.ResponseWriter, r *http.Request) {
	uid, err := userID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if err := ValidateKey(key); err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var in PlaceRequest
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	ctx := r.Context()
	hash := in.hash()

	// New orders are the common case, so the key is not looked up first:
	// the insert below finds a key already used (one query less per
	// order). A retry of a request that succeeded must still get its order
	// when pricing fails now (product unreachable, stock gone since), so a
	// pricing failure looks the key up before answering.
	items, total, currency, err := s.price(ctx, in.Items)
	if err != nil {
		if o, kerr := s.byKey(ctx, uid, key, hash); kerr != nil || o != nil {
			s.replay(w, r, o, kerr)
			return
		}
		platform.WriteError(w, r, err)
		return
	}
	o := Order{ID: uuid.New(), UserID: uid, Status: "placed", TotalCents: total, Currency: currency, Items: items}
	inserted, err := s.insert(ctx, &o, key, hash)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if !inserted {
		o, err := s.byKey(ctx, uid, key, hash)
		s.replay(w, r, o, err)
		return
	}
	s.lifecycle.finished.WithLabelValues("placed", "").Inc()
	w.Header().Set("Location", "/v1/orders/"+o.ID.String())
	platform.WriteJSON(w, http.StatusCreated, o)
}

// insert stores the order, its lines and its order.placed event in one
// statement: data-modifying CTEs run as one atomic statement, so the order
// costs one round trip and one commit, where separate INSERTs in a
// transaction cost five. inserted is false when a concurrent request with
// the same key won; nothing is written then.
func (s *service) insert(ctx context.Context, o *Order, key string, hash []byte) (inserted bool, err error) {
	eventID, payload, err := platform.NewEvent(config.Order, platform.OrderPlaced, placedEvent(o))
	if err != nil {
		return false, err
	}
	products := make([]uuid.UUID, len(o.Items))
	quantities := make([]int32, len(o.Items))
	prices := make([]int64, len(o.Items))
	for i, it := range o.Items {
		products[i], quantities[i], prices[i] = it.ProductID, it.Quantity, it.UnitPriceCents
	}
	err = s.d.Write.QueryRow(ctx, `WITH o AS (
			INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, total_cents, currency)
			VALUES ($1, $2, $3, $4, 'placed', $5, $6)
			ON CONFLICT (user_id, idempotency_key) DO NOTHING
			RETURNING id, created_at, updated_at),
		i AS (
			INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
			SELECT o.id, x.product_id, x.quantity, x.price FROM o, unnest($7::uuid[], $8::int[], $9::bigint[]) AS x (product_id, quantity, price)),
		e AS (
			INSERT INTO outbox (event_id, event_type, payload) SELECT $10, $11, $12 FROM o)
		SELECT created_at, updated_at FROM o`,
		o.ID, o.UserID, key, hash, o.TotalCents, o.Currency, products, quantities, prices, eventID, platform.OrderPlaced, payload).
		Scan(&o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (s *service) replay(w http.ResponseWriter, r *http.Request, o *Order, err error) {
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if o == nil {
		platform.WriteError(w, r, errors.New("order vanished after idempotency conflict"))
		return
	}
	w.Header().Set("Idempotent-Replayed", "true")
	platform.WriteJSON(w, http.StatusOK, o)
}

// byKey finds the order already placed with this key, on the primary so a
// retry never misses an order because of replica lag.
func (s *service) byKey(ctx context.Context, uid uuid.UUID, key string, hash []byte) (*Order, error) {
	var id uuid.UUID
	var stored []byte
	err := s.d.Write.QueryRow(ctx, "SELECT id, request_hash FROM orders WHERE user_id = $1 AND idempotency_key = $2", uid, key).Scan(&id, &stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(stored, hash) {
		return nil, platform.Unprocessable("Idempotency-Key", "was already used for a different request")
	}
	return s.load(ctx, s.d.Write, uid, id)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (s *service) load(ctx context.Context, db querier, uid, id uuid.UUID) (*Order, error) {
	var o Order
	err := db.QueryRow(ctx, `SELECT id, user_id, status, cancel_reason, total_cents, currency, created_at, updated_at
		FROM orders WHERE id = $1 AND user_id = $2`, id, uid).
		Scan(&o.ID, &o.UserID, &o.Status, &o.CancelReason, &o.TotalCents, &o.Currency, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := db.Query(ctx, "SELECT product_id, quantity, unit_price_cents FROM order_items WHERE order_id = $1 ORDER BY product_id", id)
	if err != nil {
		return nil, err
	}
	o.Items, err = pgx.CollectRows(rows, pgx.RowToStructByPos[OrderItem])
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// price looks every item up in the product API. Unknown products and short
// stock are the client's problem (4xx); the stock check here is advisory,
// the product service's reservation is the authority.
func (s *service) price(ctx context.Context, in []Item) ([]OrderItem, int64, string, error) {
	// Look the products up concurrently, a few at a time.
	views := make([]*productView, len(in))
	errs := make([]error, len(in))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, it := range in {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			views[i], errs[i] = s.products.get(ctx, it.id)
		}()
	}
	wg.Wait()
	out := make([]OrderItem, len(in))
	var total int64
	currency := ""
	for i, it := range in {
		p, err := views[i], errs[i]
		if errors.Is(err, errNoProduct) {
			return nil, 0, "", platform.Unprocessable(fmt.Sprintf("items[%d].product_id", i), "no such product")
		}
		if err != nil {
			return nil, 0, "", err
		}
		if p.Stock < it.Quantity {
			return nil, 0, "", platform.Conflict(fmt.Sprintf("items[%d].quantity", i), "exceeds the stock available")
		}
		if currency != "" && p.Currency != currency {
			return nil, 0, "", platform.Unprocessable(fmt.Sprintf("items[%d].product_id", i), "is priced in another currency")
		}
		currency = p.Currency
		out[i] = OrderItem{ProductID: it.id, Quantity: it.Quantity, UnitPriceCents: p.PriceCents}
		total += p.PriceCents * int64(it.Quantity)
	}
	return out, total, currency, nil
}

func (s *service) get(w http.ResponseWriter, r *http.Request) {
	uid, err := userID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		platform.WriteError(w, r, platform.Invalid("id", "must be a UUID"))
		return
	}
	ctx := r.Context()
	o, err := s.load(ctx, s.d.Read, uid, id)
	if err == nil && o == nil && s.d.Read != s.d.Write {
		// Just placed and not yet on the replica: ask the primary.
		o, err = s.load(ctx, s.d.Write, uid, id)
	}
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if o == nil {
		platform.WriteError(w, r, platform.NotFound("order"))
		return
	}
	platform.WriteJSON(w, http.StatusOK, o)
}

func (s *service) list(w http.ResponseWriter, r *http.Request) {
	uid, err := userID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 100 {
			platform.WriteError(w, r, platform.Invalid("limit", "must be an integer from 1 to 100"))
			return
		}
	}
	// The cursor is the (created_at, id) of the last order of the previous
	// page, so orders created in the same instant are neither lost nor repeated.
	before, beforeID := time.Now().Add(time.Hour), uuid.Max
	if v := r.URL.Query().Get("cursor"); v != "" {
		if before, beforeID, err = parseCursor(v); err != nil {
			platform.WriteError(w, r, platform.Invalid("cursor", "is not a cursor this service returned"))
			return
		}
	}
	orders, err := s.page(r.Context(), uid, before, beforeID, limit)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	resp := map[string]any{"items": orders}
	if len(orders) == limit {
		last := orders[len(orders)-1]
		resp["next_cursor"] = last.CreatedAt.UTC().Format(time.RFC3339Nano) + "," + last.ID.String()
	}
	platform.WriteJSON(w, http.StatusOK, resp)
}

// page reads one page of a user's orders in two queries, whatever its
// length: the orders, then the lines of all of them.
func (s *service) page(ctx context.Context, uid uuid.UUID, before time.Time, beforeID uuid.UUID, limit int) ([]*Order, error) {
	rows, err := s.d.Read.Query(ctx, `SELECT id, user_id, status, cancel_reason, total_cents, currency, created_at, updated_at
		FROM orders WHERE user_id = $1 AND (created_at, id) < ($2, $3)
		ORDER BY created_at DESC, id DESC LIMIT $4`, uid, before, beforeID, limit)
	if err != nil {
		return nil, err
	}
	orders, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Order, error) {
		var o Order
		err := row.Scan(&o.ID, &o.UserID, &o.Status, &o.CancelReason, &o.TotalCents, &o.Currency, &o.CreatedAt, &o.UpdatedAt)
		o.Items = []OrderItem{}
		return &o, err
	})
	if err != nil || len(orders) == 0 {
		return orders, err
	}
	byID := make(map[uuid.UUID]*Order, len(orders))
	ids := make([]uuid.UUID, len(orders))
	for i, o := range orders {
		byID[o.ID], ids[i] = o, o.ID
	}
	rows, err = s.d.Read.Query(ctx, `SELECT order_id, product_id, quantity, unit_price_cents FROM order_items
		WHERE order_id = ANY($1) ORDER BY order_id, product_id`, ids)
	if err != nil {
		return nil, err
	}
	var oid uuid.UUID
	var it OrderItem
	_, err = pgx.ForEachRow(rows, []any{&oid, &it.ProductID, &it.Quantity, &it.UnitPriceCents}, func() error {
		o := byID[oid]
		o.Items = append(o.Items, it)
		return nil
	})
	return orders, err
}

func parseCursor(v string) (time.Time, uuid.UUID, error) {
	ts, id, ok := strings.Cut(v, ",")
	if !ok {
		return time.Time{}, uuid.Nil, errors.New("no comma")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return time.Time{}, uuid.Nil, err
	}
	u, err := uuid.Parse(id)
	return t, u, err
}

// cancelled marks an order the product service could not reserve stock for.
func (s *service) cancelled(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
	var e struct {
		OrderID uuid.UUID `json:"order_id"`
		Reason  string    `json:"reason"`
	}
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return nil, fmt.Errorf("decode order.cancelled: %w", err)
	}
	if e.OrderID == uuid.Nil {
		return nil, errors.New("order.cancelled without order_id")
	}
	if ev.Source != config.Product {
		return nil, nil // our own cancellations, seen on a shared topic
	}
	return nil, s.transition(ctx, tx, e.OrderID, "cancelled", e.Reason)
}

// confirmed marks an order whose stock product reserved.
func (s *service) confirmed(ctx context.Context, tx pgx.Tx, ev platform.Event) (func(context.Context), error) {
	var e struct {
		OrderID uuid.UUID `json:"order_id"`
	}
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return nil, fmt.Errorf("decode stock.reserved: %w", err)
	}
	if e.OrderID == uuid.Nil {
		return nil, errors.New("stock.reserved without order_id")
	}
	return nil, s.transition(ctx, tx, e.OrderID, "confirmed", "")
}

// transition moves a placed order to its final state, once: an order
// already final keeps its state (a confirmation arriving after the
// reconciler gave up is ignored; product released the stock when it heard
// of the cancellation).
func (s *service) transition(ctx context.Context, tx pgx.Tx, id uuid.UUID, status, reason string) error {
	tag, err := tx.Exec(ctx, `UPDATE orders SET status = $2, cancel_reason = $3, updated_at = now()
		WHERE id = $1 AND status = 'placed'`, id, status, reason)
	if err == nil && tag.RowsAffected() == 1 {
		s.lifecycle.finished.WithLabelValues(status, reason).Inc()
	}
	return err
}

var errNoProduct = errors.New("no such product")

type productClient struct {
	base string
	http *http.Client
}

func newProductClient(base string) *productClient {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &productClient{base: base, http: &http.Client{Timeout: 3 * time.Second, Transport: t}}
}

type productView struct {
	PriceCents int64  `json:"price_cents"`
	Currency   string `json:"currency"`
	Stock      int32  `json:"stock"`
}

func (c *productClient) get(ctx context.Context, id uuid.UUID) (*productView, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/products/"+url.PathEscape(id.String()), nil)
	if err != nil {
		return nil, err
	}
	if rid := platform.RequestID(ctx); rid != "" {
		req.Header.Set("X-Request-Id", rid)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		platform.Logger(ctx).Warn("product service unreachable", "err", err)
		return nil, &platform.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "product service unreachable, retry later"}
	}
	defer func() { _ = resp.Body.Close() }() // a read-only body: nothing to report
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNoProduct
	case resp.StatusCode != http.StatusOK:
		return nil, &platform.Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
			Message: fmt.Sprintf("product service answered %d, retry later", resp.StatusCode)}
	}
	var p productView
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&p); err != nil {
		return nil, fmt.Errorf("decode product %s: %w", id, err)
	}
	return &p, nil
}
