package notify

import "strings"

// Secrets splits the value of a secret's environment variable into the
// secrets it holds: several may be given separated by commas, so that a
// secret can be rotated without refusing a delivery (accept "new,old"
// while the sender switches, then "new"). Spaces around each are dropped,
// and so are empty ones. A signature is accepted when any of them made it.
func Secrets(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// SigningSecret is the secret tandem signs with from such a value: the
// first, the new one during a rotation.
func SigningSecret(v string) string {
	if s := Secrets(v); len(s) > 0 {
		return s[0]
	}
	return ""
}
