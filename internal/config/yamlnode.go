package config

import (
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tandemhq/tandem/internal/catalog"
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

// maxCheckNodes bounds the nodes checkKnown visits in one document, so a
// document that multiplies itself through aliases ("billion laughs") costs
// bounded time; decoding reports such a document as an error anyway.
const maxCheckNodes = 1 << 20

// checkKnown walks node against type t and reports every mapping key that t
// has no field for, with its position, the closest accepted name and the
// names t accepts. Types that decode themselves (yaml.Unmarshaler) check
// their own input. Aliases are followed, but never into themselves.
func checkKnown(file string, node *yaml.Node, t reflect.Type, path string, errs *Errors) {
	w := &knownWalker{file: file, errs: errs, active: map[*yaml.Node]bool{}}
	w.walk(node, t, path)
}

type knownWalker struct {
	file   string
	errs   *Errors
	budget int
	active map[*yaml.Node]bool // alias targets being walked
}

func (w *knownWalker) walk(node *yaml.Node, t reflect.Type, path string) {
	if node == nil || w.budget > maxCheckNodes {
		return
	}
	w.budget++
	if node.Kind == yaml.DocumentNode {
		for _, c := range node.Content {
			w.walk(c, t, path)
		}
		return
	}
	if node.Kind == yaml.AliasNode {
		if node.Alias == nil || w.active[node.Alias] {
			return // a recursive alias: decoding reports it
		}
		w.active[node.Alias] = true
		w.walk(node.Alias, t, path)
		delete(w.active, node.Alias)
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(node, t.Elem(), path)
	case reflect.Slice, reflect.Array:
		if node.Kind != yaml.SequenceNode {
			return // a type error, reported by decoding
		}
		for i, c := range node.Content {
			w.walk(c, t.Elem(), path+"["+itoa(i)+"]")
		}
	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(node.Content); i += 2 {
			w.walk(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value))
		}
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return
		}
		fields := fieldNames(t)
		for i := 0; i+1 < len(node.Content); i += 2 {
			k := node.Content[i]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" {
				// A merge key: its value's keys are checked as this mapping's.
				w.walk(node.Content[i+1], t, path)
				continue
			}
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				sort.Strings(names)
				msg := "unknown field " + strconv.Quote(k.Value)
				if c := closestName(k.Value, names); c != "" {
					msg += " (did you mean " + strconv.Quote(c) + "?)"
				}
				*w.errs = append(*w.errs, Error{File: w.file, Line: k.Line, Column: k.Column, Field: join(path, k.Value),
					Message: msg + "; expected one of: " + strings.Join(names, ", ")})
				continue
			}
			w.walk(node.Content[i+1], ft, join(path, k.Value))
		}
	}
}

// closestName returns the accepted name nearest to a misspelt one, or "".
func closestName(name string, names []string) string {
	if c := catalog.Closest(name, names, 1); len(c) > 0 {
		return c[0]
	}
	return ""
}

// locate finds the node that a yaml.v3 type error points at — the scalar on
// line whose value starts with value, else the first node on line — and
// returns its column and its path from root ("services[2].tier").
func locate(root *yaml.Node, line int, value string) (col int, path string) {
	var best, first *yaml.Node
	var bestPath, firstPath string
	seen := 0
	var walk func(n *yaml.Node, p string)
	walk = func(n *yaml.Node, p string) {
		if n == nil || seen > maxCheckNodes || best != nil {
			return
		}
		seen++
		if n.Line == line && n.Kind != yaml.DocumentNode {
			if first == nil {
				first, firstPath = n, p
			}
			if n.Kind == yaml.ScalarNode && value != "" && strings.HasPrefix(n.Value, value) {
				best, bestPath = n, p
				return
			}
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, p+"["+itoa(i)+"]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], join(p, n.Content[i].Value))
			}
		}
	}
	walk(root, "")
	if best == nil {
		best, bestPath = first, firstPath
	}
	if best == nil {
		return 0, ""
	}
	return best.Column, bestPath
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func itoa(i int) string { return strconv.Itoa(i) }

// scalarPos returns the line and column in src of the byte at offset off
// of the scalar node n's value: exact for a literal block (|), whose lines
// are the value's lines, and for a plain or quoted scalar written on one
// line without escapes; otherwise the scalar's own position (the first
// content line of a folded block, column 0: unknown), since folding and
// escapes leave no offsets to map.
func scalarPos(src []byte, n *yaml.Node, off int) (line, col int) {
	if n == nil {
		return 0, 0
	}
	if off < 0 || off > len(n.Value) {
		off = 0
	}
	lines := strings.Split(string(src), "\n")
	text := func(line int) string {
		if line-1 >= 0 && line-1 < len(lines) {
			return strings.TrimSuffix(lines[line-1], "\r")
		}
		return ""
	}
	before := n.Value[:off]
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		// The block's indentation is its first content line's.
		first := text(n.Line + 1)
		indent := len(first) - len(strings.TrimLeft(first, " "))
		line = n.Line + 1 + strings.Count(before, "\n")
		return line, indent + (off - (strings.LastIndex(before, "\n") + 1)) + 1
	case n.Style&yaml.FoldedStyle != 0:
		return n.Line + 1, 0
	}
	start := n.Column - 1 // the value's first byte in its line
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start++
	}
	if t := text(n.Line); start >= 0 && start+len(n.Value) <= len(t) && t[start:start+len(n.Value)] == n.Value {
		return n.Line, start + off + 1
	}
	return n.Line, n.Column
}
