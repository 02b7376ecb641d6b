package importer

import (
	"reflect"
	"testing"
	"time"

	"github.com/tandemhq/tandem/internal/config"
	"github.com/tandemhq/tandem/internal/oncall"
)

func TestWallWindow(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	weekly := func(day, tod string, h float64) config.RestrictionSpec {
		return config.RestrictionSpec{Type: oncall.WeeklyRestriction, StartDayOfWeek: day, StartTimeOfDay: tod, DurationSeconds: int(h * 3600)}
	}
	minute := func(weekday, h, m int) int { return (weekday-1)*dayMin + h*60 + m } // weekday 1 is Monday
	for _, c := range []struct {
		name        string
		loc         *time.Location
		open, close int
		want        []config.RestrictionSpec
		exact       bool
	}{
		{
			// Berlin changes on Sundays between 02:00 and 03:00: Friday
			// 17:00 to Monday 09:00 is cut at Sunday 03:00; the first part
			// (34 h on the wall clock) stays open an hour longer for the
			// autumn week, the second (30 h) holds no change.
			name: "weekend across the change", loc: berlin, open: minute(5, 17, 0), close: minute(1, 9, 0),
			want: []config.RestrictionSpec{weekly("5", "17:00", 35), weekly("7", "03:00", 30)}, exact: true,
		},
		{
			name: "business hours", loc: berlin, open: minute(1, 9, 0), close: minute(1, 17, 0),
			want: []config.RestrictionSpec{weekly("1", "09:00", 8)}, exact: true,
		},
		{
			name: "no changes in UTC", loc: time.UTC, open: minute(5, 17, 0), close: minute(1, 9, 0),
			want: []config.RestrictionSpec{weekly("5", "17:00", 64)}, exact: true,
		},
		{
			// Ends an hour after the change: too soon to absorb it.
			name: "ends too soon after the change", loc: berlin, open: minute(6, 22, 0), close: minute(7, 4, 0),
			want: []config.RestrictionSpec{weekly("6", "22:00", 6)}, exact: false,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, exact := wallWindow(c.loc, 2026, c.open, c.close)
			if !reflect.DeepEqual(got, c.want) || exact != c.exact {
				t.Errorf("got %+v exact %v, want %+v exact %v", got, exact, c.want, c.exact)
			}
		})
	}
	// Read as tandem reads them, the weekend pieces are on call from
	// Friday 17:00 to Monday 09:00 on the wall clock in a week without a
	// change and in the weeks of both 2026 changes.
	pieces, _ := wallWindow(berlin, 2026, minute(5, 17, 0), minute(1, 9, 0))
	l := rotation{Name: "w", Users: []string{"a"}, Rotation: oncall.Rotation{Days: 7}, Anchor: time.Date(2026, 1, 5, 0, 0, 0, 0, berlin),
		Start: time.Date(2026, 1, 5, 0, 0, 0, 0, berlin), Loc: berlin, Restrictions: pieces}.model()
	for _, open := range []time.Time{
		time.Date(2026, 3, 20, 17, 0, 0, 0, berlin),  // no change
		time.Date(2026, 3, 27, 17, 0, 0, 0, berlin),  // summer time from Sunday 29 March
		time.Date(2026, 10, 23, 17, 0, 0, 0, berlin), // winter time from Sunday 25 October
	} {
		closeAt := time.Date(open.Year(), open.Month(), open.Day()+3, 9, 0, 0, 0, berlin)
		for _, c := range []struct {
			at   time.Time
			want string
		}{{open.Add(-time.Minute), ""}, {open, "a"}, {closeAt.Add(-time.Minute), "a"}, {closeAt, ""}} {
			if got := l.Who(c.at); got != c.want {
				t.Errorf("at %s: %q, want %q", c.at, got, c.want)
			}
		}
	}
}
