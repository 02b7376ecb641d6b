package importer

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tandemhq/tandem/internal/catalog"
)

// BackstagePath reads a catalog-info.yaml file, or every *.yaml / *.yml
// file below a directory.
func BackstagePath(path string, nm *Namer) (*Result, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	if !st.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		files[filepath.Base(path)] = b
	} else {
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != path && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(path, p)
			files[filepath.ToSlash(rel)] = b
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no YAML files", path)
		}
	}
	return Backstage(files, nm)
}

// bsEntity is one Backstage entity as read.
type bsEntity struct {
	kind, ns, name string
	o, md, spec    *obj
}

func (e *bsEntity) ref() string { return strings.ToLower(e.kind + ":" + e.ns + "/" + e.name) }

// parseRef reads an entity reference "[kind:][namespace/]name" with the
// default kind and namespace.
func parseRef(ref, defKind, defNS string) string {
	kind, rest := defKind, ref
	if k, r, ok := strings.Cut(ref, ":"); ok {
		kind, rest = k, r
	}
	ns, name := defNS, rest
	if n, r, ok := strings.Cut(rest, "/"); ok {
		ns, name = n, r
	}
	return strings.ToLower(kind + ":" + ns + "/" + name)
}

// Backstage reads Backstage catalog descriptor files (name → content):
// Group entities become teams (members from spec.members and the users'
// memberOf), User entities people (matched by spec.profile.email),
// Component and Resource entities services (owner, dependsOn), and System
// entities tools owned by their owner. Annotations pagerduty.com/… name
// the PagerDuty service or escalation policy an earlier tandem import
// pagerduty mapped; the service then gets that policy.
func Backstage(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "backstage"}
	var ents []*bsEntity
	for _, name := range slices.Sorted(maps.Keys(files)) {
		docs, err := decodeYAMLDocs(files[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for i, d := range docs {
			path := ""
			if len(docs) > 1 {
				path = fmt.Sprintf("documents[%d]", i)
			}
			o := newObj(res, name, path, d)
			av := o.str("apiVersion")
			if !strings.HasPrefix(av, "backstage.io/") {
				res.warn(o.where(), "apiVersion %q is not a Backstage entity; skipped", av)
				continue
			}
			e := &bsEntity{kind: o.str("kind"), o: o, md: o.sub("metadata"), spec: o.sub("spec")}
			e.name = e.md.str("name")
			e.ns = e.md.str("namespace")
			if e.ns == "" {
				e.ns = "default"
			}
			if e.name == "" {
				res.warn(e.md.where(), "required: metadata.name; entity skipped")
				continue
			}
			ents = append(ents, e)
		}
	}
	byRef := map[string]*bsEntity{}
	for _, e := range ents {
		byRef[e.ref()] = e
	}
	names := map[string]string{} // entity ref → tandem name
	people := map[string]int{}
	teams := map[string]int{}

	// People first, so groups can list them.
	for _, e := range ents {
		if !strings.EqualFold(e.kind, "User") {
			continue
		}
		prof := e.spec.sub("profile")
		email, display := prof.str("email"), prof.str("displayName")
		prof.ignore("picture")
		prof.done()
		name, i := res.addPerson(nm, catalog.Person{FullName: display, Email: email}, e.name, e.spec.at("profile.email"), e.spec.at("profile"))
		names[e.ref()] = name
		if i >= 0 {
			people[e.ref()] = i
		}
	}
	for _, e := range ents {
		if !strings.EqualFold(e.kind, "Group") {
			continue
		}
		prof := e.spec.sub("profile")
		display := prof.str("displayName")
		prof.ignore("picture", "email")
		prof.done()
		name, existing := nm.TeamFor(e.name, "team")
		names[e.ref()] = name
		if existing {
			res.warn(e.md.where(), "team %q is already defined in the output directory; its members from this import are not added", name)
			continue
		}
		teams[e.ref()] = len(res.Teams)
		res.Teams = append(res.Teams, catalog.Team{Name: name, DisplayName: display, Description: e.md.str("description")})
	}
	addMember := func(teamRef, userRef, pos string) {
		ti, ok := teams[teamRef]
		if !ok {
			if _, known := names[teamRef]; !known {
				res.warn(pos, "group %s is not in the import; membership left out", teamRef)
			}
			return
		}
		p, ok := names[userRef]
		if !ok {
			res.warn(pos, "user %s is not in the import; membership left out", userRef)
			return
		}
		for _, m := range res.Teams[ti].Members {
			if m == p {
				return
			}
		}
		res.Teams[ti].Members = append(res.Teams[ti].Members, p)
		if pi, ok := people[userRef]; ok && res.People[pi].Team == "" {
			res.People[pi].Team = res.Teams[ti].Name
		}
	}
	for _, e := range ents {
		switch strings.ToLower(e.kind) {
		case "user":
			for _, g := range e.spec.strs("memberOf") {
				addMember(parseRef(g, "group", e.ns), e.ref(), e.spec.at("memberOf"))
			}
		case "group":
			for _, u := range e.spec.strs("members") {
				addMember(e.ref(), parseRef(u, "user", e.ns), e.spec.at("members"))
			}
			e.spec.ignore("type", "children", "parent")
		}
	}
	owner := func(e *bsEntity) string {
		o := e.spec.str("owner")
		if o == "" {
			return ""
		}
		ref := parseRef(o, "group", e.ns)
		if n, ok := names[ref]; ok {
			return n
		}
		res.warn(e.spec.at("owner"), "owner %s is not a group or user of the import", o)
		return ""
	}

	// Services: Components and Resources.
	var svcEnts []*bsEntity
	for _, e := range ents {
		k := strings.ToLower(e.kind)
		if k == "component" || k == "resource" {
			name, existing := nm.ServiceFor(e.name, "service")
			names[e.ref()] = name
			if existing {
				res.warn(e.md.where(), "service %q is already defined in the output directory; not defined again", name)
				continue
			}
			svcEnts = append(svcEnts, e)
		}
	}
	unowned := false
	for _, e := range svcEnts {
		svc := catalog.Service{Name: names[e.ref()], Description: e.md.str("description")}
		o := owner(e)
		if o != "" && !isTeam(res, nm, o) {
			// A person owns it: the service belongs to their team.
			for _, p := range res.People {
				if p.Name == o && p.Team != "" {
					o = p.Team
				}
			}
			if !isTeam(res, nm, o) {
				res.warn(e.spec.at("owner"), "owner %s is a person without a team; tandem services are owned by teams", o)
				o = ""
			}
		}
		if o == "" {
			o = unownedTeam
			unowned = true
			res.warn(e.o.where(), "no team owns %s; it is given to team %q", e.ref(), unownedTeam)
		}
		svc.Team = o
		for _, l := range e.md.objs("links") {
			u := l.str("url")
			l.ignore("title", "icon", "type")
			l.done()
			if svc.Repository == "" && (strings.Contains(u, "github.com/") || strings.Contains(u, "gitlab.com/")) {
				svc.Repository = u
			}
		}
		for _, d := range append(e.spec.strs("dependsOn"), "") {
			if d == "" {
				break
			}
			ref := parseRef(d, "component", e.ns)
			if ref == e.ref() {
				res.warn(e.spec.at("dependsOn"), "%s depends on itself; left out", d)
				continue
			}
			dep, ok := byRef[ref]
			if !ok || (strings.ToLower(dep.kind) != "component" && strings.ToLower(dep.kind) != "resource") {
				res.warn(e.spec.at("dependsOn"), "%s is not a component or resource of the import; dependency left out", d)
				continue
			}
			svc.DependsOn = append(svc.DependsOn, names[ref])
		}
		ann := e.md.sub("annotations")
		for _, k := range slices.Sorted(maps.Keys(ann.m)) {
			v := ann.str(k)
			switch {
			case k == "pagerduty.com/service-id":
				if p := lookupID(nm, "pagerduty_service_policy", v); p != "" {
					svc.EscalationPolicy = p
				} else {
					ann.warn(k, "PagerDuty service %s is not in an earlier tandem import pagerduty into this directory; no escalation policy set", v)
				}
			case k == "pagerduty.com/escalation-policy-id":
				if p := lookupID(nm, "pagerduty_escalation_policy", v); p != "" {
					svc.EscalationPolicy = p
				} else {
					ann.warn(k, "PagerDuty escalation policy %s is not in an earlier tandem import pagerduty into this directory; no escalation policy set", v)
				}
			case k == "backstage.io/source-location" || k == "github.com/project-slug":
				if svc.Repository == "" {
					if k == "github.com/project-slug" {
						svc.Repository = "https://github.com/" + v
					} else {
						svc.Repository = strings.TrimPrefix(v, "url:")
					}
				}
			case strings.HasPrefix(k, "pagerduty.com/") || strings.HasPrefix(k, "opsgenie.com/"):
				ann.warn(k, "not imported: tandem routes alerts by service label and escalation policy")
			case strings.HasPrefix(k, "backstage.io/"):
				// Backstage's own bookkeeping (managed-by-location, …).
			default:
				ann.warn(k, "annotation not imported")
			}
		}
		e.spec.ignore("type", "system")
		for _, k := range []string{"subcomponentOf", "providesApis", "consumesApis", "dependencyOf"} {
			if e.spec.has(k) && !empty(e.spec.m[k]) {
				e.spec.warn(k, "not imported: tandem records a service's dependencies (dependsOn) only")
			}
			e.spec.ignore(k)
		}
		if e.spec.has("system") {
			e.spec.warn("system", "systems become tools in tandem; the service does not record its system")
		}
		res.Services = append(res.Services, svc)
	}
	// Tools: Systems, owned by their owner.
	for _, e := range ents {
		if !strings.EqualFold(e.kind, "System") {
			continue
		}
		t := catalog.Tool{Name: nm.Tool(e.name, firstNonEmpty(e.md.str("title"), e.name)), Description: e.md.str("description")}
		t.PrimaryOwner = owner(e)
		for _, l := range e.md.objs("links") {
			if t.URL == "" {
				t.URL = l.str("url")
			}
			l.ignore("url", "title", "icon", "type")
			l.done()
		}
		e.spec.ignore("domain")
		if t.PrimaryOwner == "" {
			res.warn(e.o.where(), "system %s has no owner of the import; tool left out (tandem tools need an owner)", e.name)
			continue
		}
		res.Tools = append(res.Tools, t)
	}
	for _, e := range ents {
		switch strings.ToLower(e.kind) {
		case "user", "group", "component", "resource", "system":
			e.md.ignore("name", "namespace", "title", "description", "uid", "etag", "annotations", "links")
			e.md.done()
			e.spec.done()
			e.o.done()
		default:
			res.warn(e.o.where(), "kind %s not imported: tandem's catalog has teams, people, services and tools", e.kind)
		}
	}
	if unowned {
		addUnownedTeam(nm, res)
	}
	sortWarnings(res.Warnings)
	return res, nil
}

func isTeam(res *Result, nm *Namer, name string) bool {
	if nm.Existing().Teams[name] {
		return true
	}
	for _, t := range res.Teams {
		if t.Name == name {
			return true
		}
	}
	return false
}

func lookupID(nm *Namer, kind, id string) string { return nm.Existing().IDs[kind][id] }

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
