package importer

import (
	"fmt"
	"maps"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// PagerDutyTerraform reads the PagerDuty resources of the Terraform files
// (*.tf) in dir with HashiCorp's HCL parser. Variables (defaults and
// terraform.tfvars / *.auto.tfvars) and locals with literal values are
// evaluated, and references between the resources
// (pagerduty_user.dev1.id) resolve to the resources of the files. An
// expression that cannot be evaluated from the files alone (a data
// source, a function of the environment) is a warning naming file:line,
// and what depends on it is left out.
func PagerDutyTerraform(dir string, nm *Namer) (*Result, error) {
	files, err := readDir(dir, "*.tf", "terraform.tfvars", "*.auto.tfvars")
	if err != nil {
		return nil, err
	}
	return PagerDutyHCL(files, nm)
}

// PagerDutyHCL is PagerDutyTerraform on in-memory files (name → content);
// names ending in .tfvars are variable files.
func PagerDutyHCL(files map[string][]byte, nm *Namer) (*Result, error) {
	res := &Result{Source: "pagerduty"}
	d, err := readPagerDutyHCL(files, res)
	if err != nil {
		return nil, err
	}
	convertPagerDuty(d, nm, res)
	sortWarnings(res.Warnings)
	return res, nil
}

// readPagerDutyHCL reads the PagerDuty objects of the files.
func readPagerDutyHCL(files map[string][]byte, res *Result) (*PDData, error) {
	t := &tfReader{res: res, vars: map[string]cty.Value{}, locals: map[string]hcl.Expression{}, src: files}
	var bodies []*hclsyntax.Body
	var tfvars []*hclsyntax.Body
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, diags := hclsyntax.ParseConfig(files[name], name, hcl.Pos{Line: 1, Column: 1})
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s", diags.Error())
		}
		body := f.Body.(*hclsyntax.Body)
		if strings.HasSuffix(name, ".tfvars") {
			tfvars = append(tfvars, body)
		} else {
			bodies = append(bodies, body)
		}
	}
	for _, b := range bodies {
		t.collect(b)
	}
	for _, b := range tfvars {
		for _, a := range sortedAttrs(b) {
			if v, ok := t.eval(a.Expr, &hcl.EvalContext{}); ok {
				t.vars[a.Name] = v
			}
		}
	}
	return t.read(), nil
}

type tfResource struct {
	typ, name string
	block     *hclsyntax.Block
}

type tfReader struct {
	res       *Result
	vars      map[string]cty.Value
	locals    map[string]hcl.Expression
	resources []tfResource
	ctx       *hcl.EvalContext
	src       map[string][]byte
}

// pdTypes are the resource types read; their order is the reading order.
var pdTypes = []string{"pagerduty_user", "pagerduty_team", "pagerduty_team_membership", "pagerduty_schedule", "pagerduty_escalation_policy", "pagerduty_service"}

func (t *tfReader) collect(b *hclsyntax.Body) {
	for _, blk := range b.Blocks {
		switch blk.Type {
		case "variable":
			if len(blk.Labels) != 1 {
				continue
			}
			if a, ok := blk.Body.Attributes["default"]; ok {
				if v, ok := t.eval(a.Expr, &hcl.EvalContext{}); ok {
					t.vars[blk.Labels[0]] = v
				}
			}
		case "locals":
			for _, a := range sortedAttrs(blk.Body) {
				t.locals[a.Name] = a.Expr
			}
		case "resource":
			if len(blk.Labels) != 2 {
				continue
			}
			known := false
			for _, pt := range pdTypes {
				known = known || pt == blk.Labels[0]
			}
			if known {
				t.resources = append(t.resources, tfResource{blk.Labels[0], blk.Labels[1], blk})
			} else if strings.HasPrefix(blk.Labels[0], "pagerduty_") {
				t.res.warn(rangePos(blk.DefRange(), blk.Labels[0]+"."+blk.Labels[1]), "resource type %s not imported: tandem has no equivalent", blk.Labels[0])
			}
		}
	}
}

func rangePos(r hcl.Range, addr string) string {
	return fmt.Sprintf("%s:%d (%s)", r.Filename, r.Start.Line, addr)
}

func sortedAttrs(b *hclsyntax.Body) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(b.Attributes))
	for _, a := range b.Attributes {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].SrcRange.Start.Byte < out[j].SrcRange.Start.Byte
	})
	return out
}

// eval evaluates an expression; on failure it records a warning at the
// expression's position and returns false.
func (t *tfReader) eval(e hcl.Expression, ctx *hcl.EvalContext) (cty.Value, bool) {
	v, diags := e.Value(ctx)
	if diags.HasErrors() {
		r := e.Range()
		msg := diags.Errs()[0].Error()
		if d, ok := diags.Errs()[0].(*hcl.Diagnostic); ok {
			msg = d.Summary
			if d.Detail != "" {
				msg += ": " + d.Detail
			}
		}
		t.res.warn(fmt.Sprintf("%s:%d", r.Filename, r.Start.Line), "cannot evaluate %q from the files alone (%s); left out", string(r.SliceBytes(t.src[r.Filename])), msg)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		r := e.Range()
		t.res.warn(fmt.Sprintf("%s:%d", r.Filename, r.Start.Line), "value is not known before terraform apply; left out")
		return cty.NilVal, false
	}
	return v, true
}

// context builds the evaluation context: var.*, local.* and every read
// resource as an object whose id is its address.
func (t *tfReader) context() *hcl.EvalContext {
	res := map[string]map[string]cty.Value{}
	for _, r := range t.resources {
		if res[r.typ] == nil {
			res[r.typ] = map[string]cty.Value{}
		}
		attrs := map[string]cty.Value{"id": cty.StringVal(r.typ + "." + r.name)}
		for _, k := range []string{"name", "email"} {
			if a, ok := r.block.Body.Attributes[k]; ok {
				if v, diags := a.Expr.Value(&hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(t.vars)}}); !diags.HasErrors() && v.IsWhollyKnown() && v.Type() == cty.String {
					attrs[k] = v
				}
			}
		}
		res[r.typ][r.name] = cty.ObjectVal(attrs)
	}
	vars := map[string]cty.Value{"var": cty.ObjectVal(t.vars)}
	for typ, m := range res {
		vars[typ] = cty.ObjectVal(m)
	}
	ctx := &hcl.EvalContext{Variables: vars}
	// Locals may refer to each other: evaluate them until nothing changes,
	// warning only about those that never resolve.
	locals := map[string]cty.Value{}
	pending := slices.Sorted(maps.Keys(t.locals))
	for len(pending) > 0 {
		vars["local"] = cty.ObjectVal(locals)
		var next []string
		for _, name := range pending {
			v, diags := t.locals[name].Value(ctx)
			if diags.HasErrors() || !v.IsWhollyKnown() {
				next = append(next, name)
				continue
			}
			locals[name] = v
		}
		if len(next) == len(pending) {
			for _, name := range next {
				t.eval(t.locals[name], ctx) // records the warning
			}
			break
		}
		pending = next
	}
	vars["local"] = cty.ObjectVal(locals)
	return ctx
}

// block reads one resource or nested block's attributes.
type tfBlock struct {
	t    *tfReader
	body *hclsyntax.Body
	addr string
	used map[string]bool
}

func (t *tfReader) block(body *hclsyntax.Body, addr string) *tfBlock {
	return &tfBlock{t: t, body: body, addr: addr, used: map[string]bool{}}
}

func (b *tfBlock) pos() string { return rangePos(b.body.SrcRange, b.addr) }

func (b *tfBlock) attrPos(name string) string {
	if a, ok := b.body.Attributes[name]; ok {
		return rangePos(a.SrcRange, b.addr+"."+name)
	}
	return b.pos()
}

func (b *tfBlock) value(name string, ty cty.Type) (cty.Value, bool) {
	b.used[name] = true
	a, ok := b.body.Attributes[name]
	if !ok {
		return cty.NilVal, false
	}
	v, ok := b.t.eval(a.Expr, b.t.ctx)
	if !ok {
		return cty.NilVal, false
	}
	if v.IsNull() {
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		b.t.res.warn(b.attrPos(name), "expected %s: %v; left out", ty.FriendlyName(), err)
		return cty.NilVal, false
	}
	return cv, true
}

func (b *tfBlock) str(name string) (string, bool) {
	v, ok := b.value(name, cty.String)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func (b *tfBlock) integer(name string) (int, bool) {
	v, ok := b.value(name, cty.Number)
	if !ok {
		return 0, false
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact {
		b.t.res.warn(b.attrPos(name), "expected a whole number; left out")
		return 0, false
	}
	return int(i), true
}

func (b *tfBlock) strs(name string) ([]string, bool) {
	v, ok := b.value(name, cty.List(cty.String))
	if !ok {
		return nil, false
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			continue
		}
		out = append(out, e.AsString())
	}
	return out, true
}

func (b *tfBlock) blocks(typ string) []*tfBlock {
	b.used[typ] = true
	var out []*tfBlock
	for _, blk := range b.body.Blocks {
		if blk.Type == typ {
			out = append(out, b.t.block(blk.Body, fmt.Sprintf("%s.%s[%d]", b.addr, typ, len(out))))
		}
	}
	return out
}

// description reads the description attribute, which the provider sets
// to "Managed by Terraform" when none is given: that is no description.
func (b *tfBlock) description() string {
	d, _ := b.str("description")
	if d == "Managed by Terraform" {
		return ""
	}
	return d
}

func (b *tfBlock) ignore(names ...string) {
	for _, n := range names {
		b.used[n] = true
	}
}

// done warns about every attribute and block nothing read.
func (b *tfBlock) done() {
	for _, a := range sortedAttrs(b.body) {
		if !b.used[a.Name] {
			b.t.res.warn(rangePos(a.SrcRange, b.addr+"."+a.Name), "not imported: tandem has no equivalent")
		}
	}
	for _, blk := range b.body.Blocks {
		if !b.used[blk.Type] {
			b.t.res.warn(rangePos(blk.DefRange(), b.addr+"."+blk.Type), "block not imported: tandem has no equivalent")
		}
	}
}

// meta reports Terraform meta-arguments the import cannot follow.
func (b *tfBlock) meta() bool {
	for _, m := range []string{"count", "for_each"} {
		if _, ok := b.body.Attributes[m]; ok {
			b.t.res.warn(b.attrPos(m), "%s is not evaluated: the import reads each resource once; resource left out", m)
			return false
		}
	}
	b.ignore("depends_on", "provider")
	for _, blk := range b.body.Blocks {
		if blk.Type == "lifecycle" {
			b.used["lifecycle"] = true
		}
		if blk.Type == "dynamic" {
			b.used["dynamic"] = true
			b.t.res.warn(rangePos(blk.DefRange(), b.addr+".dynamic"), "dynamic blocks are not evaluated; resource left out")
			return false
		}
	}
	return true
}

func (t *tfReader) read() *PDData {
	t.ctx = t.context()
	d := &PDData{}
	teamIdx := map[string]int{}
	for _, typ := range pdTypes {
		for _, r := range t.resources {
			if r.typ != typ {
				continue
			}
			addr := r.typ + "." + r.name
			b := t.block(r.block.Body, addr)
			if !b.meta() {
				continue
			}
			switch typ {
			case "pagerduty_user":
				u := PDUser{ID: addr, Pos: b.pos()}
				u.Name, _ = b.str("name")
				u.Email, _ = b.str("email")
				u.Role, _ = b.str("role")
				u.TimeZone, _ = b.str("time_zone")
				if teams, ok := b.strs("teams"); ok {
					for _, tm := range teams {
						d.Teams = appendMember(d.Teams, teamIdx, tm, addr)
					}
				}
				d.Users = append(d.Users, u)
			case "pagerduty_team":
				tm := PDTeam{ID: addr, Pos: b.pos()}
				tm.Name, _ = b.str("name")
				tm.Description = b.description()
				if i, ok := teamIdx[addr]; ok {
					members := d.Teams[i].Members
					d.Teams[i] = tm
					d.Teams[i].Members = members
				} else {
					teamIdx[addr] = len(d.Teams)
					d.Teams = append(d.Teams, tm)
				}
			case "pagerduty_team_membership":
				user, ok1 := b.str("user_id")
				team, ok2 := b.str("team_id")
				if ok1 && ok2 {
					d.Teams = appendMember(d.Teams, teamIdx, team, user)
				}
			case "pagerduty_schedule":
				d.Schedules = append(d.Schedules, t.schedule(b, addr))
			case "pagerduty_escalation_policy":
				d.Policies = append(d.Policies, t.policy(b, addr))
			case "pagerduty_service":
				d.Services = append(d.Services, t.service(b, addr))
			}
			b.done()
		}
	}
	// A membership may name a team that is not a resource of the files.
	kept := d.Teams[:0]
	for _, tm := range d.Teams {
		if tm.Pos == "" {
			t.res.warn(tm.ID, "team %s is not a resource of the files; its memberships are left out", tm.ID)
			continue
		}
		kept = append(kept, tm)
	}
	d.Teams = kept
	return d
}

func appendMember(teams []PDTeam, idx map[string]int, team, user string) []PDTeam {
	i, ok := idx[team]
	if !ok {
		idx[team] = len(teams)
		teams = append(teams, PDTeam{ID: team})
		i = len(teams) - 1
	}
	teams[i].Members = append(teams[i].Members, user)
	return teams
}

func (t *tfReader) schedule(b *tfBlock, addr string) PDSchedule {
	s := PDSchedule{ID: addr, Pos: b.pos()}
	s.Name, _ = b.str("name")
	s.TimeZone, _ = b.str("time_zone")
	s.Description = b.description()
	b.ignore("overflow") // shapes the API's answers, not the schedule
	for _, lb := range b.blocks("layer") {
		l := PDLayer{Pos: lb.pos()}
		l.Name, _ = lb.str("name")
		ok := true
		for _, f := range []struct {
			name string
			dst  *time.Time
			req  bool
		}{{"start", &l.Start, true}, {"rotation_virtual_start", &l.VirtualStart, true}, {"end", &l.End, false}} {
			v, has := lb.str(f.name)
			if !has || v == "" {
				if f.req {
					t.res.warn(lb.pos(), "%s is required; layer left out", f.name)
					ok = false
				}
				continue
			}
			tm, err := parsePDTime(v)
			if err != nil {
				t.res.warn(lb.attrPos(f.name), "%v; layer left out", err)
				ok = false
				continue
			}
			*f.dst = tm
		}
		l.TurnSeconds, _ = lb.integer("rotation_turn_length_seconds")
		users, hasUsers := lb.strs("users")
		if _, present := lb.body.Attributes["users"]; present && !hasUsers {
			ok = false // the warning is recorded
		}
		l.Users = users
		lb.ignore("id", "rendered_coverage_percentage")
		for _, rb := range lb.blocks("restriction") {
			r := PDRestriction{Pos: rb.pos()}
			r.Type, _ = rb.str("type")
			r.StartTimeOfDay, _ = rb.str("start_time_of_day")
			r.DurationSeconds, _ = rb.integer("duration_seconds")
			r.StartDayOfWeek, _ = rb.integer("start_day_of_week")
			rb.done()
			l.Restrictions = append(l.Restrictions, r)
		}
		lb.done()
		if ok {
			s.Layers = append(s.Layers, l)
		}
	}
	return s
}

func (t *tfReader) policy(b *tfBlock, addr string) PDPolicy {
	p := PDPolicy{ID: addr, Pos: b.pos()}
	p.Name, _ = b.str("name")
	p.Description = b.description()
	p.NumLoops, _ = b.integer("num_loops")
	p.Teams, _ = b.strs("teams")
	for _, rb := range b.blocks("rule") {
		r := PDRule{Pos: rb.pos()}
		r.Delay, _ = rb.integer("escalation_delay_in_minutes")
		rb.ignore("id")
		for _, sb := range rb.blocks("escalation_rule_assignment_strategy") {
			if typ, _ := sb.str("type"); typ == "round_robin" {
				t.res.warn(sb.pos(), "round_robin assignment not imported: tandem pages every target of a rule")
			}
			sb.done()
		}
		for _, tb := range rb.blocks("target") {
			tg := PDTarget{Type: "user_reference", Pos: tb.pos()}
			if typ, ok := tb.str("type"); ok {
				tg.Type = typ
			}
			id, ok := tb.str("id")
			tb.done()
			if !ok {
				continue // warned
			}
			tg.ID = id
			r.Targets = append(r.Targets, tg)
		}
		rb.done()
		p.Rules = append(p.Rules, r)
	}
	return p
}

func (t *tfReader) service(b *tfBlock, addr string) PDService {
	s := PDService{ID: addr, Pos: b.pos()}
	s.Name, _ = b.str("name")
	s.Description = b.description()
	s.Policy, _ = b.str("escalation_policy")
	// The provider sends 1800 when acknowledgement_timeout is not set, and
	// "null" disables it.
	ack := 1800
	s.AckTimeoutSeconds = &ack
	if v, ok := b.str("acknowledgement_timeout"); ok {
		if v == "null" {
			s.AckTimeoutSeconds = nil
		} else if n, err := parseSeconds(v); err != nil {
			t.res.warn(b.attrPos("acknowledgement_timeout"), "%v; left out", err)
			s.AckTimeoutSeconds = nil
		} else {
			s.AckTimeoutSeconds = &n
		}
	}
	b.ignore("alert_creation")
	return s
}

func parseSeconds(v string) (int, error) {
	var n int
	if _, err := fmt.Sscanf(v, "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimSpace(v) || n < 0 {
		return 0, fmt.Errorf("expected a number of seconds or \"null\", got %q", v)
	}
	return n, nil
}
