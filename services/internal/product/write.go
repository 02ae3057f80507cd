package product

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/example/ecommerce-platform/services/internal/authn"
	"github.com/example/ecommerce-platform/services/internal/config"
	"github.com/example/ecommerce-platform/services/internal/platform"
)

// Changes is the body of PUT (every field required: the whole
// representation) and PATCH (only the fields to change; stock is not one of
// them, see POST .../stock-adjustments) on /v1/products/{id}.
type Changes struct {
	SKU         *string `json:"sku"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	PriceCents  *int64  `json:"price_cents"`
	Currency    *string `json:"currency"`
	Stock       *int32  `json:"stock"`
}

// validate checks the fields present; full demands all of them.
func (c *Changes) validate(full bool) error {
	if full {
		for _, f := range []struct {
			name    string
			missing bool
		}{{"sku", c.SKU == nil}, {"name", c.Name == nil}, {"description", c.Description == nil},
			{"price_cents", c.PriceCents == nil}, {"currency", c.Currency == nil}, {"stock", c.Stock == nil}} {
			if f.missing {
				return platform.Invalid(f.name, "is required: PUT replaces the whole product (use PATCH to change some fields)")
			}
		}
	} else {
		if c.Stock != nil {
			return platform.Invalid("stock", "cannot be patched; use POST /v1/products/{id}/stock-adjustments")
		}
		if c.SKU == nil && c.Name == nil && c.Description == nil && c.PriceCents == nil && c.Currency == nil {
			return platform.Invalid("body", "must change at least one field")
		}
	}
	if c.SKU != nil {
		*c.SKU = strings.TrimSpace(*c.SKU)
		if *c.SKU == "" || len(*c.SKU) > 64 {
			return platform.Invalid("sku", "is required, at most 64 characters")
		}
		if strings.ContainsFunc(*c.SKU, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return platform.Invalid("sku", "must be printable ASCII without spaces")
		}
	}
	if c.Name != nil {
		*c.Name = strings.TrimSpace(*c.Name)
		if *c.Name == "" || utf8.RuneCountInString(*c.Name) > 200 {
			return platform.Invalid("name", "is required, at most 200 characters")
		}
	}
	if c.Description != nil && utf8.RuneCountInString(*c.Description) > 5000 {
		return platform.Invalid("description", "must be at most 5000 characters")
	}
	if c.PriceCents != nil && (*c.PriceCents < 0 || *c.PriceCents > 1_000_000_000_00) {
		return platform.Invalid("price_cents", "must be from 0 to 100000000000")
	}
	if c.Currency != nil && (len(*c.Currency) != 3 || strings.ToUpper(*c.Currency) != *c.Currency) {
		return platform.Invalid("currency", "must be an ISO 4217 code such as USD")
	}
	if c.Stock != nil && (*c.Stock < 0 || *c.Stock > MaxStock) {
		return platform.Invalid("stock", "must be from 0 to %d", MaxStock)
	}
	return nil
}

type fullChanges struct{ Changes }

func (f *fullChanges) Validate() error { return f.validate(true) }

type partialChanges struct{ Changes }

func (p *partialChanges) Validate() error { return p.validate(false) }

// ifMatch reads the If-Match header as a product version. required: a
// missing header is 428, since the write would overwrite blindly.
func ifMatch(r *http.Request, required bool) (*int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		if required && v == "" {
			return nil, &platform.Error{Status: http.StatusPreconditionRequired, Code: "precondition_required", Field: "If-Match",
				Message: "is required: send the ETag of the product you read, so a change made since is not overwritten"}
		}
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(v, "W/"), `"`), 10, 64)
	if err != nil || n < 1 {
		return nil, platform.Invalid("If-Match", "must be an ETag this service returned, such as \"3\"")
	}
	return &n, nil
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
	w.Header().Set("ETag", etagOf(p.Version))
	w.Header().Set("Location", "/v1/products/"+p.ID.String())
	platform.WriteJSON(w, http.StatusCreated, p)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// replace is PUT: the whole product, If-Match required.
func (s *service) replace(w http.ResponseWriter, r *http.Request) {
	var in fullChanges
	s.change(w, r, &in, &in.Changes, true)
}

// patch is PATCH: the fields present, If-Match optional (sent, it is checked).
func (s *service) patch(w http.ResponseWriter, r *http.Request) {
	var in partialChanges
	s.change(w, r, &in, &in.Changes, false)
}

func (s *service) change(w http.ResponseWriter, r *http.Request, body platform.Validator, c *Changes, full bool) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	version, err := ifMatch(r, full)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	if !platform.DecodeRequest(w, r, body) {
		return
	}
	s.write(w, r, id, version, func(ctx context.Context, tx pgx.Tx) (Product, error) {
		return scanProduct(tx.QueryRow(ctx, `UPDATE products SET sku = COALESCE($3, sku), name = COALESCE($4, name),
			description = COALESCE($5, description), price_cents = COALESCE($6, price_cents), currency = COALESCE($7, currency),
			stock = COALESCE($8, stock), version = version + 1, updated_at = now()
			WHERE id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING `+columns,
			id, version, c.SKU, c.Name, c.Description, c.PriceCents, c.Currency, c.Stock))
	})
}

// setStock is the absolute PUT .../stock; If-Match is required, since an
// absolute level would overwrite reservations made since the admin read it.
func (s *service) setStock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	version, err := ifMatch(r, true)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var in StockInput
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	s.write(w, r, id, version, func(ctx context.Context, tx pgx.Tx) (Product, error) {
		return scanProduct(tx.QueryRow(ctx, `UPDATE products SET stock = $3, version = version + 1, updated_at = now()
			WHERE id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING `+columns, id, version, *in.Stock))
	})
}

var errStockBelowZero = platform.Conflict("delta", "would take the stock below zero")

// adjustStock adds delta to the stock as it is when the write runs.
func (s *service) adjustStock(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		platform.WriteError(w, r, err)
		return
	}
	var in Adjustment
	if !platform.DecodeRequest(w, r, &in) {
		return
	}
	c, _ := authn.FromContext(r.Context())
	if c == nil {
		platform.WriteError(w, r, platform.Unauthorized("Authorization", "no verified token"))
		return
	}
	s.write(w, r, id, nil, func(ctx context.Context, tx pgx.Tx) (Product, error) {
		p, err := scanProduct(tx.QueryRow(ctx, `UPDATE products SET stock = stock + $2, version = version + 1, updated_at = now()
			WHERE id = $1 AND stock + $2 BETWEEN 0 AND $3 RETURNING `+columns, id, *in.Delta, MaxStock))
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM products WHERE id = $1)", id).Scan(&exists); err != nil {
				return p, err
			}
			if exists {
				return p, errStockBelowZero
			}
		}
		if err != nil {
			return p, err
		}
		_, err = tx.Exec(ctx, "INSERT INTO stock_adjustments (product_id, delta, reason, actor) VALUES ($1, $2, $3, $4)",
			id, *in.Delta, in.Reason, c.Subject)
		return p, err
	})
}

// write runs a change and its product.updated event in one transaction,
// then drops the cached copies. With version set, a row already past it is
// a 412 carrying the current ETag.
func (s *service) write(w http.ResponseWriter, r *http.Request, id uuid.UUID, version *int64, change func(context.Context, pgx.Tx) (Product, error)) {
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
	if errors.Is(err, pgx.ErrNoRows) && version != nil {
		var current int64
		if qerr := s.d.Write.QueryRow(ctx, "SELECT version FROM products WHERE id = $1", id).Scan(&current); qerr == nil {
			w.Header().Set("ETag", etagOf(current))
			platform.WriteError(w, r, &platform.Error{Status: http.StatusPreconditionFailed, Code: "precondition_failed", Field: "If-Match",
				Message: "the product changed since that version (now " + etagOf(current) + "); read it again"})
			return
		}
	}
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
	s.cache.invalidate(ctx, id)
	w.Header().Set("ETag", etagOf(p.Version))
	platform.WriteJSON(w, http.StatusOK, p)
}
