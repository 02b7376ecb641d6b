package oncall

import (
	"fmt"
	"time"
)

// ScheduleView is a schedule as the API shows it.
type ScheduleView struct {
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	TimeZone    string      `json:"time_zone"`
	Layers      []LayerView `json:"layers"`
	// Overrides are the config's overrides (run-time ones are listed at
	// /api/v1/schedules/{name}/overrides).
	Overrides []Override `json:"overrides"`
	// Current is who is on call at the time of the answer, and who is next.
	Current *Current `json:"current,omitempty"`
}

// LayerView is a layer as the API shows it.
type LayerView struct {
	Name         string            `json:"name"`
	Users        []string          `json:"users"`
	Rotation     string            `json:"rotation"`
	Start        time.Time         `json:"start"`
	End          time.Time         `json:"end,omitzero"`
	TimeZone     string            `json:"time_zone"`
	Restrictions []RestrictionView `json:"restrictions"`
}

// RestrictionView is a restriction in PagerDuty's fields.
type RestrictionView struct {
	Type            string   `json:"type"`
	StartTimeOfDay  string   `json:"start_time_of_day"`
	StartDayOfWeek  int      `json:"start_day_of_week,omitempty"` // 1 (Monday) to 7 (Sunday)
	Days            []string `json:"days,omitempty"`
	DurationSeconds int64    `json:"duration_seconds"`
}

// View returns the API view of s (without Current, which needs a time).
func (s *Schedule) View() ScheduleView {
	v := ScheduleView{Name: s.Name, Description: s.Description, TimeZone: locName(s.Location), Layers: []LayerView{}, Overrides: []Override{}}
	for _, o := range s.Overrides {
		if o.Source == SourceConfig {
			v.Overrides = append(v.Overrides, o)
		}
	}
	for _, l := range s.Layers {
		lv := LayerView{Name: l.Name, Users: l.Users, Rotation: l.Rotation.String(), Start: l.Start.UTC(), End: l.End.UTC(),
			TimeZone: locName(l.Location), Restrictions: []RestrictionView{}}
		if l.End.IsZero() {
			lv.End = time.Time{}
		}
		for _, r := range l.Restrictions {
			rv := RestrictionView{Type: r.Type, DurationSeconds: int64(r.Duration / time.Second),
				StartTimeOfDay: fmt.Sprintf("%02d:%02d:%02d", int(r.StartOfDay/time.Hour), int(r.StartOfDay%time.Hour/time.Minute), int(r.StartOfDay%time.Minute/time.Second))}
			if r.Type == WeeklyRestriction {
				rv.StartDayOfWeek = isoWeekday(r.StartDayOfWeek)
			}
			for _, d := range r.Days {
				rv.Days = append(rv.Days, d.String()[:3])
			}
			lv.Restrictions = append(lv.Restrictions, rv)
		}
		v.Layers = append(v.Layers, lv)
	}
	return v
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

func locName(l *time.Location) string {
	if l == nil {
		return "UTC"
	}
	return l.String()
}
