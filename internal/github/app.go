package github

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ParsePrivateKey reads a GitHub App's private key: the PEM file GitHub
// hands out ("RSA PRIVATE KEY", PKCS #1) or the same key as PKCS #8
// ("PRIVATE KEY"). Anything else is an error that does not quote the key.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a PKCS #1 RSA private key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("not a PKCS #8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("not an RSA key (GitHub Apps sign with RS256)")
		}
		return rk, nil
	}
	return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
}

// AppJWT returns the JSON Web Token a GitHub App authenticates as itself
// with: RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signed by key, issued (iat)
// 60 seconds before now against clock drift and expiring (exp) 9 minutes
// after now, under GitHub's limit of 10; iss is the app's id (or client id).
func AppJWT(appID string, key *rsa.PrivateKey, now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	claims, err := json.Marshal(struct {
		IssuedAt  int64  `json:"iat"`
		ExpiresAt int64  `json:"exp"`
		Issuer    string `json:"iss"`
	}{now.Add(-time.Minute).Unix(), now.Add(9 * time.Minute).Unix(), appID})
	if err != nil {
		return "", err
	}
	signed := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign the app JWT: %w", err)
	}
	return signed + "." + enc.EncodeToString(sig), nil
}

// refreshBefore is how long before its expires_at an installation token
// is replaced, so no call goes out with a token about to lapse.
const refreshBefore = 5 * time.Minute

// AppInstallation is a TokenSource of GitHub App installation access
// tokens: it signs an app JWT, exchanges it at POST
// /app/installations/{installation_id}/access_tokens, and reuses the token
// until refreshBefore its expires_at (GitHub issues them for an hour).
// It is safe for concurrent use; concurrent callers share one exchange.
type AppInstallation struct {
	// AppID is the JWT's iss: the app's numeric id or its client id.
	AppID          string
	InstallationID int64
	Key            *rsa.PrivateKey
	// BaseURL and HTTP are those of the Client used for the exchange.
	BaseURL string
	HTTP    *http.Client
	// Now reads the clock (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Token returns a cached installation token, or a new one when none is
// cached or the cached one expires within refreshBefore. Exchange
// failures are *Error (a 401 means the app id, key or installation is
// wrong; it is not retryable).
func (a *AppInstallation) Token(ctx context.Context) (string, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	t := now()
	if a.token != "" && t.Before(a.expires.Add(-refreshBefore)) {
		return a.token, nil
	}
	jwt, err := AppJWT(a.AppID, a.Key, t)
	if err != nil {
		return "", &Error{Message: err.Error()}
	}
	c := &Client{BaseURL: a.BaseURL, Token: jwt, HTTP: a.HTTP, Now: a.Now}
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	u := c.URL("/app/installations/" + strconv.FormatInt(a.InstallationID, 10) + "/access_tokens")
	if _, err := c.Do(ctx, http.MethodPost, u, nil, &out); err != nil {
		var ge *Error
		if errors.As(err, &ge) {
			ge.Message = "create an installation access token: " + ge.Message
		}
		return "", err
	}
	if out.Token == "" || out.ExpiresAt.IsZero() {
		return "", &Error{Status: http.StatusCreated, Message: "installation access token answer without token or expires_at", Retryable: true}
	}
	a.token, a.expires = out.Token, out.ExpiresAt
	return a.token, nil
}

// FileToken is a TokenSource that reads a token from a file at each call
// (a mounted secret that may be rotated); surrounding white space is
// dropped.
type FileToken string

// Token reads the file. An unreadable or empty file is a non-retryable
// *Error naming the file, never its content.
func (f FileToken) Token(context.Context) (string, error) {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return "", &Error{Message: "read the token file: " + err.Error()}
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", &Error{Message: "token file " + string(f) + " is empty"}
	}
	return t, nil
}

// EnvToken is a TokenSource that reads the environment variable it names at
// each call.
type EnvToken string

// Token reads the variable; an unset or empty one is a non-retryable
// *Error.
func (e EnvToken) Token(context.Context) (string, error) {
	t := strings.TrimSpace(os.Getenv(string(e)))
	if t == "" {
		return "", &Error{Message: "environment variable " + string(e) + " holding the GitHub token is not set"}
	}
	return t, nil
}
