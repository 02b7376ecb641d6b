package change_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/tandemhq/tandem/internal/change"
	"github.com/tandemhq/tandem/internal/db/dbtest"
	"github.com/tandemhq/tandem/internal/dora"
)

// repoBuilder writes commits and tags straight into a go-git store, with
// the times the test chooses.
type repoBuilder struct {
	tb    testing.TB
	st    *memory.Storage
	repo  *git.Repository
	tree  plumbing.Hash
	byMsg map[string]plumbing.Hash
}

func newRepo(tb testing.TB) *repoBuilder {
	st := memory.NewStorage()
	repo, err := git.Init(st, nil)
	if err != nil {
		tb.Fatal(err)
	}
	b := &repoBuilder{tb: tb, st: st, repo: repo, byMsg: map[string]plumbing.Hash{}}
	obj := st.NewEncodedObject()
	if err := (&object.Tree{}).Encode(obj); err != nil {
		tb.Fatal(err)
	}
	b.tree, _ = st.SetEncodedObject(obj)
	return b
}

func (b *repoBuilder) commit(msg string, when time.Time, parents ...plumbing.Hash) plumbing.Hash {
	sig := object.Signature{Name: "Dev", Email: "dev@example.com", When: when}
	c := &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: b.tree, ParentHashes: parents}
	obj := b.st.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		b.tb.Fatal(err)
	}
	h, err := b.st.SetEncodedObject(obj)
	if err != nil {
		b.tb.Fatal(err)
	}
	b.byMsg[msg] = h
	return h
}

func (b *repoBuilder) tag(name string, target plumbing.Hash) {
	if err := b.st.SetReference(plumbing.NewHashReference(plumbing.NewTagReferenceName(name), target)); err != nil {
		b.tb.Fatal(err)
	}
}

func (b *repoBuilder) annotated(name string, target plumbing.Hash, when time.Time) {
	t := &object.Tag{Name: name, Tagger: object.Signature{Name: "CI", Email: "ci@example.com", When: when},
		Message: "deploy", TargetType: plumbing.CommitObject, Target: target}
	obj := b.st.NewEncodedObject()
	if err := t.Encode(obj); err != nil {
		b.tb.Fatal(err)
	}
	h, err := b.st.SetEncodedObject(obj)
	if err != nil {
		b.tb.Fatal(err)
	}
	b.tag(name, h)
}

func ts(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// history: c1 c2 <- deploy-app-2026-01-01-120000 (time from the name)
// c3 c4 <- deploy-app-b (annotated, tagger date Jan 2 10:00)
// c4 -> c5 (side branch), c4 -> c6, merge m(c6, c5) <- deploy-app-2026-01-03-090000
// release-1 on c3 does not match the pattern.
func buildHistory(t testing.TB) *repoBuilder {
	b := newRepo(t)
	c1 := b.commit("c1", ts("2026-01-01 10:00"))
	c2 := b.commit("c2", ts("2026-01-01 11:00"), c1)
	b.tag("deploy-app-2026-01-01-120000", c2)
	c3 := b.commit("c3", ts("2026-01-02 08:00"), c2)
	c4 := b.commit("c4", ts("2026-01-02 09:00"), c3)
	b.annotated("deploy-app-b", c4, ts("2026-01-02 10:00"))
	b.tag("release-1", c3)
	c5 := b.commit("c5", ts("2026-01-02 09:30"), c4)
	c6 := b.commit("c6", ts("2026-01-03 07:00"), c4)
	m := b.commit("m", ts("2026-01-03 08:00"), c6, c5)
	b.tag("deploy-app-2026-01-03-090000", m)
	return b
}

func TestImportTags(t *testing.T) {
	b := buildHistory(t)
	var last change.ImportProgress
	res, err := change.ImportTags(b.repo, change.TagImport{Service: "checkout", Pattern: "deploy-*", Progress: func(p change.ImportProgress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if !last.Done || last.Tags != 3 || last.TotalTags != 3 || last.Commits != 7 {
		t.Errorf("progress = %+v", last)
	}
	want := []struct {
		version string
		at      time.Time
		commits []string
	}{
		{"deploy-app-2026-01-01-120000", ts("2026-01-01 12:00"), []string{"c2"}}, // baseline: head only
		{"deploy-app-b", ts("2026-01-02 10:00"), []string{"c4", "c3"}},
		{"deploy-app-2026-01-03-090000", ts("2026-01-03 09:00"), []string{"m", "c5", "c6"}},
	}
	if len(res.Deploys) != len(want) {
		t.Fatalf("deploys = %d, want %d", len(res.Deploys), len(want))
	}
	names := map[string]string{}
	for msg, h := range b.byMsg {
		names[h.String()] = msg
	}
	for i, w := range want {
		d := res.Deploys[i]
		var got []string
		for _, sha := range d.Commits {
			got = append(got, names[sha])
		}
		if d.Version != w.version || !d.FinishedAt.Equal(w.at) || !sameSet(got, w.commits) || d.ExternalID != "tag/checkout/"+w.version {
			t.Errorf("deploy %d: %s at %s commits %v; want %s at %s commits %v", i, d.Version, d.FinishedAt, got, w.version, w.at, w.commits)
		}
	}

	// Into the store twice: the second import records nothing new. Then
	// the lead times, through DORA:
	//   c2 12:00-11:00 = 1h; c3 10:00-08:00 = 2h; c4 1h;
	//   c5 Jan 3 09:00 - Jan 2 09:30 = 23.5h; c6 2h; m 1h
	//   sorted 1 1 1 2 2 23.5 (h), n=6: median h=2.5 -> 1 + 0.5*(2-1) = 1.5h = 5400 s
	d := dbtest.SQLite(t)
	s := change.NewStore(d)
	ctx := context.Background()
	now := ts("2026-02-01 00:00")
	for round := 0; round < 2; round++ {
		n, err := s.RecordCommits(ctx, res.Commits, now)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := s.Record(ctx, res.Deploys, now)
		if err != nil {
			t.Fatal(err)
		}
		existing := 0
		for _, e := range evs {
			if e.Existing {
				existing++
			}
		}
		if round == 0 && (n != 6 || existing != 0) || round == 1 && (n != 0 || existing != 3) {
			t.Errorf("import %d: %d new commits, %d existing deploys", round+1, n, existing)
		}
	}
	l := dora.Loader{Changes: s}
	cat := catalogOf("checkout")
	r, err := l.Report(ctx, cat, dora.Query{From: ts("2026-01-01 00:00"), To: ts("2026-01-04 00:00")})
	if err != nil {
		t.Fatal(err)
	}
	if r.Deploys != 3 || r.LeadTimeCommits != 6 || r.LeadTimeMedianSeconds == nil || *r.LeadTimeMedianSeconds != 5400 {
		t.Errorf("report: deploys %d, commits %d, median %v; want 3, 6, 5400", r.Deploys, r.LeadTimeCommits, r.LeadTimeMedianSeconds)
	}
}

func TestCommitsBetween(t *testing.T) {
	b := buildHistory(t)
	got, err := change.CommitsBetween(b.repo, "checkout", b.byMsg["m"].String(), b.byMsg["c4"].String())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for msg, h := range b.byMsg {
		names[h.String()] = msg
	}
	var msgs []string
	for _, c := range got {
		msgs = append(msgs, names[c.SHA])
	}
	if !sameSet(msgs, []string{"m", "c6", "c5"}) {
		t.Errorf("c4..m = %v", msgs)
	}
	got, err = change.CommitsBetween(b.repo, "checkout", b.byMsg["c2"].String(), "")
	if err != nil || len(got) != 1 || names[got[0].SHA] != "c2" {
		t.Errorf("head only = %v %v", got, err)
	}
}

func TestTimeFromTagName(t *testing.T) {
	for _, c := range []struct {
		name string
		want string
	}{
		{"deploy-app-2025-06-03-141500", "2025-06-03 14:15:00"},
		{"deploy-2025-06-03T14:15:00", "2025-06-03 14:15:00"},
		{"deploy-20250603141500", "2025-06-03 14:15:00"},
		{"deploy-20250603-141500", "2025-06-03 14:15:00"},
		{"deploy-2025-06-03", "2025-06-03 00:00:00"},
		{"deploy-2025-13-03", ""},
		{"v1.2.3", ""},
	} {
		got, ok := change.TimeFromTagName(c.name)
		s := ""
		if ok {
			s = got.Format("2006-01-02 15:04:05")
		}
		if s != c.want {
			t.Errorf("%s: %q, want %q", c.name, s, c.want)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

// BenchmarkImportTags100k imports 200 deploy tags over a linear history of
// 100,000 commits (with a merge every 50), built in memory with go-git's
// plumbing: the walk reads each commit once.
func BenchmarkImportTags100k(b *testing.B) {
	rb := newRepo(b)
	start := ts("2020-01-01 00:00")
	var prev plumbing.Hash
	var side plumbing.Hash
	for i := 0; i < 100_000; i++ {
		when := start.Add(time.Duration(i) * 10 * time.Minute)
		var parents []plumbing.Hash
		if i > 0 {
			parents = append(parents, prev)
		}
		if i%50 == 25 && !side.IsZero() {
			parents = append(parents, side)
		}
		prev = rb.commit("c"+itoa(i), when, parents...)
		if i%50 == 10 {
			side = rb.commit("s"+itoa(i), when.Add(time.Minute), prev)
		}
		if i%500 == 499 {
			rb.tag("deploy-"+when.Add(time.Hour).Format("2006-01-02-150405"), prev)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := change.ImportTags(rb.repo, change.TagImport{Service: "svc", Pattern: "deploy-*"})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Deploys) != 200 {
			b.Fatalf("deploys = %d", len(res.Deploys))
		}
	}
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}
