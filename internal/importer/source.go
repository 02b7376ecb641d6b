package importer

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// readDir reads the files of dir (not its subdirectories) whose names
// match one of patterns, keyed by name. It fails when the first pattern
// matches nothing: that is the source's own kind of file (*.tf, *.json);
// the others (terraform.tfvars) are optional.
func readDir(dir string, patterns ...string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for i, pat := range patterns {
		names, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		if i == 0 && len(names) == 0 {
			return nil, fmt.Errorf("%s: no %s files", dir, pat)
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				return nil, err
			}
			files[filepath.Base(n)] = b
		}
	}
	return files, nil
}

// readExport decodes the JSON files of an API export whose kind is told
// by the file name's prefix (users.json, users-2.json, schedules.json…)
// and returns their objects by kind, in file name order. Each file holds
// one list response (the objects under listKey: Opsgenie's "data",
// Grafana OnCall's "results"; pagination fields are ignored) or one
// object. A file of no known kind is a warning.
func readExport(res *Result, files map[string][]byte, listKey string, kinds ...string) (map[string][]*obj, error) {
	byKind := map[string][]*obj{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		kind := ""
		for _, k := range kinds {
			if strings.HasPrefix(strings.ToLower(name), k) {
				kind = k
				break
			}
		}
		if kind == "" {
			res.warn(name, "not a %s file; skipped", strings.Join(kinds, ", "))
			continue
		}
		v, err := decodeJSON(files[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		top := newObj(res, name, "", v)
		if !top.has(listKey) {
			byKind[kind] = append(byKind[kind], top)
			continue
		}
		top.ignore("took", "requestId", "expandable", "totalCount", "count", "next", "previous", "current_page_number", "page_size", "total_pages")
		if _, isList := top.m[listKey].([]any); isList {
			byKind[kind] = append(byKind[kind], top.objs(listKey)...)
		} else {
			byKind[kind] = append(byKind[kind], top.sub(listKey))
		}
		top.done()
	}
	return byKind, nil
}
