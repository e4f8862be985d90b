package rewrite

// Fifty-eighth review: the round-57a fixes checked (timeAt, the admin's
// landline mask under phone keys). Each test fails on the code as
// reviewed. Fake data only.

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// Finding 6 (regression of 56a finding 9's fix): timeAt accepts a time
// of day only when nothing but digits, ':', '.', ',', Z, '+' and '-'
// follows it. Common timestamp spellings have a space or letters after
// the time: Rails' TimeWithZone#to_s ("1990-03-07 00:00:00 UTC"), Ruby's
// Time#to_s ("… +0800"), Go's time.Time.String ("… +0800 CST"), Java's
// ZonedDateTime.toString ("1990-03-07T00:00+08:00[Asia/Shanghai]").
// Before e6e1346 each hashed as 1990-03-07 (a time after T or a space
// ended the date); now each gets its own pseudonym, so one birth date
// written by two systems no longer links.
func TestReview58BirthDateTimestampZoneHash(t *testing.T) {
	hashOf := func(v string) any {
		return review55bRun(t, nil, "names", "h", `{"birth_date":"`+v+`"}`)["birth_date"]
	}
	date := hashOf("1990-03-07")
	if h := hashOf("1990-03-07T00:00:00+08:00"); h != date {
		t.Fatalf("control: RFC 3339 gets %v, the date %v", h, date)
	}
	for _, v := range []string{
		"1990-03-07 00:00:00 UTC",
		"1990-03-07 00:00:00 +0800",
		"1990-03-07 00:00:00 +0800 CST",
		"1990-03-07T00:00+08:00[Asia/Shanghai]",
	} {
		if h := hashOf(v); h != date {
			t.Errorf("%q (the date with a time of day) gets %v, 1990-03-07 gets %v: one date, two pseudonyms", v, h, date)
		}
	}
}

// Finding 7 (regression of 56a finding 7's fix, reintroduced by 57a's):
// with both admin masks set, applyTo now always retypes a landline under
// a phone key to cn_landline, so the landline's mask wins even when the
// mobile's is the stricter one. An admin who hides every value under a
// mobile's key (cn_mobile keep 0/0, the 56a finding-7 case) and also
// configures a landline mask (keep 3/4) gets "phone": "010-12345678"
// shown as 010-******78: five digits where e6e1346^ showed none. 57a's
// suggested fix was the stricter of the two; the commit took the
// landline's unconditionally, the reverse of the trade 57a reported.
func TestReview58LandlineUnderPhoneLooserAdminLandlineMaskWins(t *testing.T) {
	only := review55bRun(t, map[string]config.MaskSpec{
		"cn_mobile": {KeepFirst: 0, KeepLast: 0},
	}, "names", "m", `{"phone":"010-12345678"}`)
	if s := only["phone"].(string); strings.ContainsAny(s, "0123456789") {
		t.Fatalf("control: cn_mobile 0/0 alone, phone shows %q", s)
	}
	m := review55bRun(t, map[string]config.MaskSpec{
		"cn_mobile":   {KeepFirst: 0, KeepLast: 0},
		"cn_landline": {KeepFirst: 3, KeepLast: 4},
	}, "names", "m", `{"mobile":"13812345678","phone":"010-12345678"}`)
	if s := m["phone"].(string); strings.ContainsAny(s, "0123456789") {
		t.Errorf("admin masks cn_mobile to nothing (mobile: %q); adding a looser cn_landline mask makes phone show %q", m["mobile"], s)
	}
}
