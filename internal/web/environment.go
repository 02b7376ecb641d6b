package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/internal/catalog"
)

// parseEnv reads the environment a page shows from env= in the URL:
// production when none is named. SLO status, budgets and charts, and the
// changes drawn on those charts, are of that environment only. Links keep
// it, as they keep the time range.
func parseEnv(q url.Values) (string, error) {
	e := strings.TrimSpace(q.Get("env"))
	if e == "" {
		return catalog.DefaultEnvironment, nil
	}
	if len(e) > 64 || strings.ContainsAny(e, " \t\r\n") {
		return "", tandem.FieldErrorf("env", "env must be an environment name such as production or staging; got %q", e)
	}
	return e, nil
}

// carriedQuery is what the navigation links keep of the request's query:
// the time range (carriedRange) and an environment other than production,
// as a query string; "" when there is nothing valid to keep.
func carriedQuery(q url.Values, now time.Time) string {
	c, err := url.ParseQuery(carriedRange(q, now))
	if err != nil {
		c = url.Values{}
	}
	if e, err := parseEnv(q); err == nil && e != catalog.DefaultEnvironment {
		c.Set("env", e)
	}
	return c.Encode()
}

// envLink is u with env set to e (left out for production, the default).
func envLink(u *url.URL, e string) string {
	q := u.Query()
	q.Del("done")
	q.Del("n")
	if e == catalog.DefaultEnvironment {
		q.Del("env")
	} else {
		q.Set("env", e)
	}
	if len(q) == 0 {
		return u.Path
	}
	return u.Path + "?" + q.Encode()
}

// envChoices is the environments a page offers: production, the ones
// given, and cur (the one shown, even when nothing else names it), sorted
// with production first.
func envChoices(cur string, names ...[]string) []string {
	seen := map[string]bool{catalog.DefaultEnvironment: true, cur: true}
	for _, ns := range names {
		for _, n := range ns {
			if n != "" {
				seen[n] = true
			}
		}
	}
	out := []string{catalog.DefaultEnvironment}
	rest := make([]string, 0, len(seen))
	for n := range seen {
		if n != catalog.DefaultEnvironment {
			rest = append(rest, n)
		}
	}
	sortStrings(rest)
	return append(out, rest...)
}
