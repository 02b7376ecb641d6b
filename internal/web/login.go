package web

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/tandemhq/tandem"
)

// loginPageData is the data of login.html.
type loginPageData struct {
	base
	Next      string
	LoginCSRF string
	Error     string
}

// loginPage shows the sign-in form, or who is signed in.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, b base) error {
	b.Title, b.Refresh = "Sign in", 0
	d := loginPageData{base: b, Next: safeNext(r.URL.Query().Get("next"))}
	if !b.Viewer.SignedIn {
		secret, err := randomSecret()
		if err != nil {
			return err
		}
		setCookie(w, r, loginCookie, secret, 3600)
		d.LoginCSRF = secret
	}
	h.render(w, http.StatusOK, "login.html", d)
	return nil
}

// login checks the token from the form and opens a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	b := base{Title: "Sign in", Now: h.deps.Clock.Now(), PublicRead: h.deps.PublicRead}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, b, tandem.Errorf(tandem.EInvalid, "the form could not be read"))
		return
	}
	next := safeNext(r.PostFormValue("next"))
	c, err := r.Cookie(loginCookie)
	got := r.PostFormValue(csrfField)
	if err != nil || !sameOrigin(r) || got == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) != 1 {
		h.fail(w, r, b, tandem.Errorf(tandem.EForbidden, "the sign-in form was not sent from this dashboard or has expired; open /login again"))
		return
	}
	retry := func(msg string) {
		secret, err := randomSecret()
		if err != nil {
			h.fail(w, r, b, err)
			return
		}
		setCookie(w, r, loginCookie, secret, 3600)
		h.render(w, http.StatusUnauthorized, "login.html", loginPageData{base: b, Next: next, LoginCSRF: secret, Error: msg})
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	if secret == "" {
		retry("Enter a token.")
		return
	}
	tok, err := h.deps.Tokens.Verify(r.Context(), secret)
	if err != nil {
		if tandem.ErrorCode(err) == tandem.EUnauthorized {
			retry("That token is not valid, or it was revoked.")
			return
		}
		h.fail(w, r, b, err)
		return
	}
	sess, err := h.sessions.create(r.Context(), tok, h.deps.Clock.Now())
	if err != nil {
		h.fail(w, r, b, err)
		return
	}
	setCookie(w, r, loginCookie, "", -1)
	setCookie(w, r, sessionCookie, sess, int(SessionTTL.Seconds()))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the browser's session.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	v, err := h.viewer(r)
	b := base{Title: "Sign out", Now: h.deps.Clock.Now(), PublicRead: h.deps.PublicRead}
	if err != nil {
		h.fail(w, r, b, err)
		return
	}
	if v.SignedIn && !v.ViaHeader {
		if !checkCSRF(r, v) {
			h.fail(w, r, b, tandem.Errorf(tandem.EForbidden, "the sign-out form was not sent from this dashboard; reload the page and try again"))
			return
		}
		c, _ := r.Cookie(sessionCookie)
		if err := h.sessions.remove(r.Context(), c.Value); err != nil {
			h.fail(w, r, b, err)
			return
		}
	}
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login?done=signed-out", http.StatusSeeOther)
}
