package ui

import "time"

// dateLayout is how one language writes a moment, as Go time layouts.
// Pages show moments in UTC and say so: the server does not know the
// reader's time zone, and a page without JavaScript cannot ask.
type dateLayout struct{ date, dateTime string }

// dateLayouts has one entry per language of Languages (a test keeps them
// in step). English keeps the month's name; German, French and Spanish
// write the day first with numbers, as they usually do, so that no month
// names have to be kept beside Go's English ones.
var dateLayouts = map[string]dateLayout{
	"en": {"2 Jan 2006", "2 Jan 2006 15:04 UTC"},
	"de": {"02.01.2006", "02.01.2006, 15:04 UTC"},
	"fr": {"02/01/2006", "02/01/2006 15:04 UTC"},
	"es": {"02/01/2006", "02/01/2006 15:04 UTC"},
}

// layoutOf is lang's layouts; lang is chosen like Render's.
func layoutOf(lang string) dateLayout {
	if l, ok := dateLayouts[Language(lang, "")]; ok {
		return l
	}
	return dateLayouts[DefaultLanguage]
}

// FormatDate writes the day of t (in UTC) the way lang does: "1 Mar 2026",
// "01.03.2026", "01/03/2026".
func FormatDate(lang string, t time.Time) string {
	return t.UTC().Format(layoutOf(lang).date)
}

// FormatDateTime writes t in UTC, to the minute, the way lang does:
// "1 Mar 2026 12:00 UTC", "01.03.2026, 12:00 UTC", "01/03/2026 12:00 UTC".
func FormatDateTime(lang string, t time.Time) string {
	return t.UTC().Format(layoutOf(lang).dateTime)
}
