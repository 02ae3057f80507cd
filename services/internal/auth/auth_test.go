package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

func FuzzCredentials(f *testing.F) {
	for _, s := range []string{`{"email":"a@example.com","password":"0123456789"}`, `{"email":"A@Example.COM ","password":"0123456789"}`,
		`{"email":"a@b","password":""}`, `{"email":"<a@b.c>","password":"0123456789"}`, `{"password":"x"}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var c Credentials
		err := platform.DecodeJSONBytes(bytes.NewReader(body), &c)
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			var e *platform.Error
			if !errors.As(err, &e) || e.Status >= 500 || e.Field == "" {
				t.Fatalf("%q: %#v", body, err)
			}
			return
		}
		if c.Email != strings.ToLower(c.Email) || !strings.Contains(c.Email, "@") {
			t.Fatalf("email %q accepted unnormalised", c.Email)
		}
	})
}
