package change

import (
	"container/heap"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// SourceGit is the source of deploys imported from git tags.
const SourceGit = "git"

// TagImport says which tags of a repository are deploys of which service.
type TagImport struct {
	// Service and Environment (default production) of every deploy.
	Service     string
	Environment string
	// Pattern selects tags by name, as path.Match does ("deploy-*").
	// Empty selects every tag.
	Pattern string
	// Progress, when set, is called as tags and commits are read.
	Progress func(ImportProgress)
}

// ImportProgress counts what an import has read so far.
type ImportProgress struct {
	Tags, TotalTags, Commits int
	Done                     bool
}

// ImportResult is the deploys found and the commits they ship.
type ImportResult struct {
	// Deploys are in time order, one per tag; each lists the commits it
	// ships first (Commits) and has Source "git" and ExternalID
	// "tag/<service>/<tag>", so importing twice records nothing new.
	Deploys []Event
	// Commits are every commit a deploy ships, with its committer time.
	Commits []Commit
}

// tagTime finds a timestamp in a tag name: 2025-06-03-141500,
// 2025-06-03T14:15:00, 20250603141500, 20250603-141500 or a bare date
// (2025-06-03, midnight UTC). The time is read as UTC.
var tagTime = regexp.MustCompile(`(\d{4})-?(\d{2})-?(\d{2})(?:[-T_](\d{2}):?(\d{2}):?(\d{2})?|(\d{2})(\d{2})(\d{2}))?`)

// TimeFromTagName returns the time written in a tag's name, if any.
func TimeFromTagName(name string) (time.Time, bool) {
	for _, m := range tagTime.FindAllStringSubmatch(name, -1) {
		n := func(s string) int { v, _ := strconv.Atoi(s); return v }
		y, mo, d := n(m[1]), n(m[2]), n(m[3])
		h, mi, s := n(m[4]), n(m[5]), n(m[6])
		if m[7] != "" {
			h, mi, s = n(m[7]), n(m[8]), n(m[9])
		}
		t := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
		// Reject what time.Date normalises (month 13, hour 25).
		if y < 1971 || t.Year() != y || int(t.Month()) != mo || t.Day() != d || t.Hour() != h || t.Minute() != mi || t.Second() != s {
			continue
		}
		return t, true
	}
	return time.Time{}, false
}

type tagRef struct {
	name   string
	commit plumbing.Hash
	at     time.Time
}

// ImportTags reads the repository's tags matching o.Pattern as deploys of
// o.Service: a deploy's time is the timestamp in the tag's name, else the
// annotated tag's date, else its commit's committer date. Tags are taken in
// time order; each deploy ships the commits reachable from its tag and from
// no earlier tag (git rev-list earlier..tag). The first tag is the
// baseline: the history before it is not attributed to it (it was deployed
// by means tandem did not see), only its own head commit is. The walk reads
// every commit at most once, however many tags there are.
func ImportTags(repo *git.Repository, o TagImport) (ImportResult, error) {
	if o.Service == "" {
		return ImportResult{}, errors.New("import tags: no service")
	}
	if _, err := path.Match(o.Pattern, ""); err != nil {
		return ImportResult{}, fmt.Errorf("import tags: pattern %q: %w", o.Pattern, err)
	}
	iter, err := repo.Tags()
	if err != nil {
		return ImportResult{}, fmt.Errorf("list tags: %w", err)
	}
	var tags []tagRef
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().Short()
		if o.Pattern != "" {
			if ok, _ := path.Match(o.Pattern, name); !ok {
				return nil
			}
		}
		t := tagRef{name: name}
		var tagDate time.Time
		if tag, err := repo.TagObject(ref.Hash()); err == nil {
			c, err := tag.Commit()
			if err != nil {
				return nil // a tag of a tree or blob is no deploy
			}
			t.commit, tagDate = c.Hash, tag.Tagger.When
		} else {
			c, err := repo.CommitObject(ref.Hash())
			if err != nil {
				return nil
			}
			t.commit, tagDate = c.Hash, c.Committer.When
		}
		if at, ok := TimeFromTagName(name); ok {
			t.at = at
		} else {
			t.at = tagDate.UTC()
		}
		tags = append(tags, t)
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("read tags: %w", err)
	}
	sort.SliceStable(tags, func(i, j int) bool {
		if !tags[i].at.Equal(tags[j].at) {
			return tags[i].at.Before(tags[j].at)
		}
		return tags[i].name < tags[j].name
	})
	progress := ImportProgress{TotalTags: len(tags)}
	report := func() {
		if o.Progress != nil {
			o.Progress(progress)
		}
	}
	seen := make(map[plumbing.Hash]struct{})
	var out ImportResult
	for i, tag := range tags {
		var shipped []Commit
		stack := []plumbing.Hash{tag.commit}
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, ok := seen[h]; ok {
				continue
			}
			seen[h] = struct{}{}
			c, err := repo.CommitObject(h)
			if err != nil {
				if errors.Is(err, plumbing.ErrObjectNotFound) {
					continue // a shallow clone's boundary
				}
				return ImportResult{}, fmt.Errorf("read commit %s: %w", h, err)
			}
			if i > 0 || h == tag.commit {
				shipped = append(shipped, Commit{Service: o.Service, SHA: h.String(), CommittedAt: c.Committer.When.UTC(), Source: SourceGit})
			}
			stack = append(stack, c.ParentHashes...)
			progress.Commits++
			if progress.Commits%5000 == 0 {
				report()
			}
		}
		shas := make([]string, len(shipped))
		for k, c := range shipped {
			shas[k] = c.SHA
		}
		out.Commits = append(out.Commits, shipped...)
		out.Deploys = append(out.Deploys, Event{
			Service: o.Service, Environment: o.Environment, Kind: KindDeploy, Version: tag.name,
			Commit: tag.commit.String(), Commits: shas, FinishedAt: tag.at, Status: StatusSuccess,
			Source: SourceGit, ExternalID: "tag/" + o.Service + "/" + tag.name,
		})
		progress.Tags = i + 1
		report()
	}
	progress.Done = true
	report()
	return out, nil
}

// CommitsBetween returns the commits reachable from head and not from base
// (git rev-list base..head), newest first, with their committer times, for
// a deploy whose previous deploy on the service was base. An empty base
// returns head's commit alone. Both walks share one queue ordered by commit
// time, so the walk stops once only base's ancestry is left, without
// reading the whole history.
func CommitsBetween(repo *git.Repository, service, head, base string) ([]Commit, error) {
	hh, err := repo.ResolveRevision(plumbing.Revision(head))
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", head, err)
	}
	if base == "" {
		c, err := repo.CommitObject(*hh)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", head, err)
		}
		return []Commit{{Service: service, SHA: c.Hash.String(), CommittedAt: c.Committer.When.UTC(), Source: SourceGit}}, nil
	}
	bh, err := repo.ResolveRevision(plumbing.Revision(base))
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", base, err)
	}
	const (
		fromHead = 1
		fromBase = 2
	)
	paint := map[plumbing.Hash]uint8{}
	q := &commitQueue{}
	push := func(h plumbing.Hash, p uint8) error {
		old := paint[h]
		if old|p == old {
			return nil
		}
		paint[h] = old | p
		c, err := repo.CommitObject(h)
		if err != nil {
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				return nil
			}
			return err
		}
		heap.Push(q, queued{c: c, paint: old | p})
		return nil
	}
	if err := push(*bh, fromBase); err != nil {
		return nil, err
	}
	if err := push(*hh, fromHead); err != nil {
		return nil, err
	}
	var out []Commit
	emitted := map[plumbing.Hash]bool{}
	for q.Len() > 0 {
		// Stop when nothing queued can still be head-only.
		headOnly := false
		for _, x := range *q {
			if paint[x.c.Hash] == fromHead {
				headOnly = true
				break
			}
		}
		if !headOnly {
			break
		}
		x := heap.Pop(q).(queued)
		p := paint[x.c.Hash]
		if p == fromHead && !emitted[x.c.Hash] {
			emitted[x.c.Hash] = true
			out = append(out, Commit{Service: service, SHA: x.c.Hash.String(), CommittedAt: x.c.Committer.When.UTC(), Source: SourceGit})
		}
		for _, parent := range x.c.ParentHashes {
			if err := push(parent, p); err != nil {
				return nil, err
			}
		}
	}
	// A commit emitted before base's walk reached it is not head-only
	// after all (clock skew in commit times); drop those.
	final := out[:0]
	for _, c := range out {
		if paint[plumbing.NewHash(c.SHA)] == fromHead {
			final = append(final, c)
		}
	}
	return final, nil
}

type queued struct {
	c     *object.Commit
	paint uint8
}

type commitQueue []queued

func (q commitQueue) Len() int           { return len(q) }
func (q commitQueue) Less(i, j int) bool { return q[i].c.Committer.When.After(q[j].c.Committer.When) }
func (q commitQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)        { *q = append(*q, x.(queued)) }
func (q *commitQueue) Pop() any          { old := *q; x := old[len(old)-1]; *q = old[:len(old)-1]; return x }
