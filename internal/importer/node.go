package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// obj reads one JSON or YAML object of a source, remembering which keys
// were read. done reports every key that was not read (nor ignored as
// carrying nothing tandem needs) as a warning with its path, so nothing in
// the source is dropped without a word.
type obj struct {
	res  *Result
	file string
	path string
	m    map[string]any
	used map[string]bool
}

func newObj(res *Result, file, path string, v any) *obj {
	m, ok := v.(map[string]any)
	if !ok && v != nil {
		res.warn(loc(file, path), "expected an object, got %s", kindOf(v))
	}
	return &obj{res: res, file: file, path: path, m: m, used: map[string]bool{}}
}

func loc(file, path string) string {
	if path == "" {
		return file
	}
	return file + ": " + path
}

// at is the location of key in o, for warnings.
func (o *obj) at(key string) string { return loc(o.file, joinPath(o.path, key)) }

// where is the location of o itself.
func (o *obj) where() string { return loc(o.file, o.path) }

func (o *obj) warn(key, format string, args ...any) {
	o.res.warn(o.at(key), format, args...)
}

func (o *obj) has(key string) bool {
	v, ok := o.m[key]
	return ok && v != nil
}

func (o *obj) raw(key string) any {
	o.used[key] = true
	return o.m[key]
}

// str returns a string value; numbers are accepted as their text.
func (o *obj) str(key string) string {
	switch v := o.raw(key).(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	default:
		o.warn(key, "expected a string, got %s", kindOf(v))
		return ""
	}
}

// num returns a number; ok is false when the key is absent or null.
func (o *obj) num(key string) (float64, bool) {
	switch v := o.raw(key).(type) {
	case nil:
		return 0, false
	case float64:
		return v, true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			o.warn(key, "expected a number, got %q", v)
			return 0, false
		}
		return f, true
	default:
		o.warn(key, "expected a number, got %s", kindOf(v))
		return 0, false
	}
}

// integer returns a whole number; a fraction is a warning and not ok.
func (o *obj) integer(key string) (int, bool) {
	f, ok := o.num(key)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e15 {
		o.warn(key, "expected a whole number, got %v", f)
		return 0, false
	}
	return int(f), true
}

func (o *obj) boolean(key string) (value, ok bool) {
	switch v := o.raw(key).(type) {
	case nil:
		return false, false
	case bool:
		return v, true
	default:
		o.warn(key, "expected true or false, got %s", kindOf(v))
		return false, false
	}
}

func (o *obj) sub(key string) *obj {
	return newObj(o.res, o.file, joinPath(o.path, key), o.raw(key))
}

func (o *obj) list(key string) []any {
	switch v := o.raw(key).(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		o.warn(key, "expected a list, got %s", kindOf(v))
		return nil
	}
}

func (o *obj) objs(key string) []*obj {
	var out []*obj
	for i, v := range o.list(key) {
		out = append(out, newObj(o.res, o.file, joinPath(o.path, key, idx(i)), v))
	}
	return out
}

func (o *obj) strs(key string) []string {
	var out []string
	for i, v := range o.list(key) {
		s, ok := v.(string)
		if !ok {
			o.res.warn(loc(o.file, joinPath(o.path, key, idx(i))), "expected a string, got %s", kindOf(v))
			continue
		}
		out = append(out, s)
	}
	return out
}

// ignore marks keys as read: they carry nothing tandem keeps (ids, URLs
// of the source's own UI, computed summaries).
func (o *obj) ignore(keys ...string) {
	for _, k := range keys {
		o.used[k] = true
	}
}

// ignoreRest marks every key as read: the object is left out as a whole
// (and a warning already says so), so its keys are not listed one by one.
func (o *obj) ignoreRest() {
	for k := range o.m {
		o.used[k] = true
	}
}

// done warns about every key with a value that nothing read.
func (o *obj) done() {
	var left []string
	for k, v := range o.m {
		if o.used[k] || empty(v) {
			continue
		}
		left = append(left, k)
	}
	sort.Strings(left)
	for _, k := range left {
		o.warn(k, "not imported: tandem has no equivalent")
	}
}

// empty reports whether v carries no information (null, "", [], false,
// or an object of nothing else).
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		for _, e := range x {
			if !empty(e) {
				return false
			}
		}
		return true
	}
	return false
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// decodeJSON reads a JSON document into generic values (objects as
// map[string]any, numbers as float64).
func decodeJSON(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// decodeYAMLDocs reads every document of a YAML stream into generic values
// with string keys; empty documents are skipped.
func decodeYAMLDocs(b []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []any
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		nv, err := normalizeYAML(v, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, nv)
	}
}

// normalizeYAML turns map[string]any with non-string keys and nested
// values into the JSON-like shape obj reads.
func normalizeYAML(v any, depth int) (any, error) {
	if depth > 100 {
		return nil, fmt.Errorf("document nested too deeply")
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalizeYAML(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalizeYAML(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeYAML(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case int:
		return float64(x), nil
	}
	return v, nil
}
