package tandem

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCodeAndMessage(t *testing.T) {
	e := FieldErrorf("scope", "unknown scope %q", "root")
	wrapped := fmt.Errorf("create token: %w", e)
	if ErrorCode(wrapped) != EInvalid || ErrorMessage(wrapped) != `unknown scope "root"` {
		t.Errorf("wrapped *Error: %q %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	if e.Error() != `invalid: unknown scope "root" (field scope)` {
		t.Errorf("Error() = %q", e.Error())
	}
	plain := errors.New("dial tcp: connection refused to secret-host")
	if ErrorCode(plain) != EInternal || ErrorMessage(plain) != "internal error" {
		t.Errorf("a plain error must be internal and hide its text: %q %q", ErrorCode(plain), ErrorMessage(plain))
	}
	if ErrorCode(nil) != "" {
		t.Error("ErrorCode(nil) must be empty")
	}
	if got := Errorf(ENotFound, "no %s", "x").Error(); got != "not_found: no x" {
		t.Errorf("Errorf: %q", got)
	}
}
