package user

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/example/ecommerce-platform/services/internal/platform"
)

func FuzzUpdateRequest(f *testing.F) {
	for _, s := range []string{`{"display_name":"Ada"}`, `{"display_name":"  padded  "}`, `{"display_name":""}`,
		`{"display_name":null}`, `{"display_name":"a\u0007b"}`, `{"display_name":5}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var u UpdateRequest
		err := platform.DecodeJSONBytes(bytes.NewReader(body), &u)
		if err == nil {
			err = u.Validate()
		}
		if err != nil {
			var e *platform.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Field == "" {
				t.Fatalf("%q: %#v", body, err)
			}
			return
		}
		if u.DisplayName == nil || !utf8.ValidString(*u.DisplayName) || utf8.RuneCountInString(*u.DisplayName) > 100 {
			t.Fatalf("%q accepted as %v", body, u.DisplayName)
		}
	})
}
