package product

import (
	"bytes"
	"errors"
	"net/url"
	"testing"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

func FuzzInput(f *testing.F) {
	for _, s := range []string{`{"sku":"A-1","name":"Mug","price_cents":100,"stock":3}`, `{"sku":"A 1","name":"x","price_cents":1}`,
		`{"sku":"A","name":"","price_cents":1}`, `{"sku":"A","name":"n","price_cents":-5}`, `{"sku":"A","name":"n","price_cents":1,"currency":"eur"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in Input
		err := platform.DecodeJSONBytes(bytes.NewReader(body), &in)
		if err == nil {
			err = in.Validate()
		}
		if err != nil {
			var e *platform.Error
			if !errors.As(err, &e) || e.Status >= 500 || e.Field == "" {
				t.Fatalf("%q: %#v", body, err)
			}
			return
		}
		if in.SKU == "" || in.Name == "" || in.PriceCents == nil || *in.PriceCents < 0 || in.Stock == nil || *in.Stock < 0 || len(in.Currency) != 3 {
			t.Fatalf("accepted %+v", in)
		}
	})
}

func FuzzListParams(f *testing.F) {
	for _, s := range []string{"q=lamp&limit=5&offset=10", "limit=0", "offset=-3", "limit=abc", "q=" + string(bytes.Repeat([]byte("x"), 300))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := ParseListParams(q)
		if err != nil {
			var e *platform.Error
			if !errors.As(err, &e) || e.Status != 400 || e.Field == "" {
				t.Fatalf("%q: %#v", raw, err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > 100 || p.Offset < 0 || p.Offset > 10000 || len(p.Query) > 200 {
			t.Fatalf("%q accepted as %+v", raw, p)
		}
	})
}
