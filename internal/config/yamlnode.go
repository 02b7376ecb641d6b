package config

import (
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// at returns the value node of key in the mapping node m, or nil.
func at(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyAt returns the key node of key in the mapping node m, or nil.
func keyAt(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

// item returns the i-th element of the sequence node s, or nil.
func item(s *yaml.Node, i int) *yaml.Node {
	if s == nil || s.Kind != yaml.SequenceNode || i >= len(s.Content) {
		return nil
	}
	return s.Content[i]
}

// fieldNames lists the yaml names of a struct type's fields, inline ones
// included.
func fieldNames(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldNames(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkKnown walks node against type t and reports every mapping key that t
// has no field for, with its position and the names t accepts. Types that
// decode themselves (yaml.Unmarshaler) check their own input.
func checkKnown(file string, node *yaml.Node, t reflect.Type, path string, errs *Errors) {
	if node == nil {
		return
	}
	if node.Kind == yaml.DocumentNode {
		for _, c := range node.Content {
			checkKnown(file, c, t, path, errs)
		}
		return
	}
	if node.Kind == yaml.AliasNode {
		checkKnown(file, node.Alias, t, path, errs)
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkKnown(file, node, t.Elem(), path, errs)
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return // a type error, reported by decoding
		}
		for i, c := range node.Content {
			checkKnown(file, c, t.Elem(), path+"["+itoa(i)+"]", errs)
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			checkKnown(file, node.Content[i+1], t.Elem(), join(path, node.Content[i].Value), errs)
		}
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return
		}
		fields := fieldNames(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				sort.Strings(names)
				*errs = append(*errs, Error{File: file, Line: k.Line, Column: k.Column, Field: join(path, k.Value),
					Message: "unknown field; expected one of: " + strings.Join(names, ", ")})
				continue
			}
			checkKnown(file, node.Content[i+1], ft, join(path, k.Value), errs)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
