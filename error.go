// Package tandem holds the few types every layer of tandem shares: the
// application error with its codes. Capability packages live in internal/.
package tandem

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status at the API edge.
const (
	EInvalid       = "invalid"            // 400: the request is malformed or a field is wrong
	EUnprocessable = "unprocessable"      // 422: well-formed, but refers to something that does not exist
	ENotFound      = "not_found"          // 404
	EMethod        = "method_not_allowed" // 405: the path exists, not with this method
	EConflict      = "conflict"           // 409: a uniqueness or state conflict
	EUnauthorized  = "unauthorized"       // 401: no or bad credentials
	EForbidden     = "forbidden"          // 403: credentials lack the scope
	ETooLarge      = "too_large"          // 413: request body over the limit
	EUnavailable   = "unavailable"        // 503: a dependency is down
	EInternal      = "internal"           // 500: a bug or an unexpected failure; never shown in detail
)

// Error is the application error. Message is safe to show to a client;
// Field, when set, names the request field at fault; Details, when set,
// lists the individual problems behind one error (each config error of a
// rejected reload, for example).
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Field   string   `json:"field,omitempty"`
	Details []string `json:"details,omitempty"`
}

// Error returns "code: message", with the field when there is one.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error with code EInvalid that names the field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err: the message of an
// *Error, or a generic text for anything else.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
