package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Migration is what `<service> migrate` reads: the schema owner's
// connection and the login role it creates or updates for the service.
type Migration struct {
	ServiceName string
	// DatabaseURL connects as the schema owner (on RDS, the master user).
	DatabaseURL string
	// AppUser and AppPassword are the service's login role; ReaderUser
	// and ReaderPassword its read-only one, which the regions other than
	// the master serve with from their replicas.
	AppUser        string
	AppPassword    string
	ReaderUser     string
	ReaderPassword string
	// AWSRegion is where the migration runs (the primary's region); it is
	// logged with the result.
	AWSRegion string
}

// String masks the credentials so the settings can be logged.
func (m Migration) String() string {
	return fmt.Sprintf("service=%s database=%s app_user=%s reader_user=%s region=%s", m.ServiceName, maskURL(m.DatabaseURL), m.AppUser, m.ReaderUser, m.AWSRegion)
}

var (
	// roleName is a lower-case PostgreSQL identifier that needs no quoting.
	roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	region   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Password bounds: long enough to resist guessing; printable ASCII so the
// SCRAM verifier computed here is the one clients derive (SASLprep leaves
// printable ASCII unchanged).
const (
	MinAppPasswordLength = 16
	MaxAppPasswordLength = 256
)

// LoadMigrate reads migrate mode's settings through getenv and returns
// every problem found, each naming its variable.
func LoadMigrate(getenv func(string) string) (Migration, error) {
	r := reader{getenv: getenv}
	m := Migration{
		ServiceName: r.required("SERVICE_NAME"),
		DatabaseURL: r.url("DATABASE_URL", true, "postgres", "postgresql"),
		AppUser:     r.required("APP_DB_USER"),
		AppPassword: getenv("APP_DB_PASSWORD"),
		AWSRegion:   r.required("AWS_REGION"),

		ReaderUser:     r.required("READER_DB_USER"),
		ReaderPassword: getenv("READER_DB_PASSWORD"),
	}
	switch m.ServiceName {
	case Auth, User, Product, Order, "":
	default:
		r.fail("SERVICE_NAME", fmt.Sprintf("must be one of auth, user, product, order, got %q", m.ServiceName))
	}
	r.role("APP_DB_USER", "APP_DB_PASSWORD", m.AppUser, m.AppPassword, m.DatabaseURL)
	r.role("READER_DB_USER", "READER_DB_PASSWORD", m.ReaderUser, m.ReaderPassword, m.DatabaseURL)
	if m.AppUser != "" && m.AppUser == m.ReaderUser {
		r.fail("READER_DB_USER", fmt.Sprintf("must differ from APP_DB_USER %q: the read-only role must not be the one that writes", m.AppUser))
	}
	if m.AWSRegion != "" && !region.MatchString(m.AWSRegion) {
		r.fail("AWS_REGION", fmt.Sprintf("must be an AWS region such as us-east-1, got %q", m.AWSRegion))
	}
	return m, errors.Join(r.errs...)
}

// ownerOf is the user a PostgreSQL URL logs in as ("" if none is named).
func ownerOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	return u.User.Username()
}

// role checks a login role's name and password variables.
func (r *reader) role(userVar, passwordVar, user, password, ownerURL string) {
	if user != "" {
		switch {
		case !roleName.MatchString(user):
			r.fail(userVar, fmt.Sprintf("must be a lower-case PostgreSQL role name (a-z, 0-9, _; at most 63 characters, not starting with a digit), got %q", user))
		case strings.HasPrefix(user, "pg_") || strings.HasPrefix(user, "rds"):
			r.fail(userVar, fmt.Sprintf("%q is reserved (pg_ and rds prefixes)", user))
		case ownerURL != "" && ownerOf(ownerURL) == user:
			r.fail(userVar, fmt.Sprintf("must differ from DATABASE_URL's user %q: the service must not serve as the schema owner", user))
		}
	}
	switch {
	case password == "":
		r.fail(passwordVar, "is required")
	case len(password) < MinAppPasswordLength || len(password) > MaxAppPasswordLength:
		r.fail(passwordVar, fmt.Sprintf("must be %d to %d characters, got %d", MinAppPasswordLength, MaxAppPasswordLength, len(password)))
	case strings.IndexFunc(password, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0:
		r.fail(passwordVar, "must be printable ASCII")
	}
}
