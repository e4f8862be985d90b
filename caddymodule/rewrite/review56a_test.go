package rewrite

// Fifty-sixth review (a): the round-55b fixes checked (masks and
// pseudonyms of landlines under phone keys, birth dates, 0086 in text).
// Each test fails on the code as reviewed. Fake data only.

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// Finding 7 (regression of 55b finding 1): applyTo retypes a landline
// under a key that types mobiles (phone, tel, 电话) to cn_landline before
// masking, so an admin's `mask cn_mobile` is no longer applied to the
// values under those keys: with cn_mobile masked to nothing (keep 0/0),
// "phone": "010-12345678" now shows 010 and 78 (the landline's built-in
// mask), where before it showed nothing. A stricter admin setting is
// silently replaced by a looser default.
//
// Suggested fix: retype only for the built-in shape: when the admin has
// a custom mask for cn_mobile (a.table.Mask(CNMobile) custom), keep t
// for the mask (or use the stricter of the two specs); keep the landline
// type for the pseudonym only.
func TestReview56aCustomMobileMaskIgnoredForLandlineUnderPhone(t *testing.T) {
	m := review55bRun(t, map[string]config.MaskSpec{"cn_mobile": {KeepFirst: 0, KeepLast: 0}}, "names", "m",
		`{"mobile":"13812345678","phone":"010-12345678","tel":"+86 10 1234 5678"}`)
	for _, k := range []string{"phone", "tel"} {
		s := strings.TrimPrefix(m[k].(string), "+86")
		if strings.ContainsAny(s, "0123456789") {
			t.Errorf("%s: admin masks cn_mobile to nothing (mobile: %q), the phone key's value shows digits: %q", k, m["mobile"], m[k])
		}
	}
}

// Finding 8 (incomplete fix of 55b's birth-date finding): maskBirthDate
// shows the first four digits of any 8-digit run that starts with 1 or 2,
// taking it for YYYYMMDD. A day-first compact date (DDMMYYYY, as many
// forms and exports write it) starts with 1 or 2 on 19 days of each
// month: 25121990 shows 2512 (the day and month), 12031990 shows 1203.
// The README says a birth date shows only its year.
//
// Suggested fix: take an 8-digit run as YYYYMMDD only when its digits
// 5-6 are a month (01-12) and 7-8 a day (01-31) and its first four a
// plausible year (18xx-20xx); take it as DDMMYYYY (show the last four)
// when that reading holds instead; else show nothing.
func TestReview56aBirthDateDayFirstCompactShowsDay(t *testing.T) {
	for _, v := range []string{"25121990", "12031990", "28021985"} {
		m := review55bRun(t, nil, "names", "m", `{"birthday":"`+v+`"}`)
		if s := m["birthday"].(string); s[:4] == v[:4] {
			t.Errorf("birthday %s (day-first) masked %q: the day and month show", v, s)
		}
	}
}

// Finding 9 (incomplete fix of 55b's hashed dates): dateDigits reads a
// date as YYYYMMDD only when it has exactly three digit runs, so the
// same birth date serialised as a timestamp (JavaScript's
// Date.toJSON, ISO 8601 datetime fields: 1990-03-07T00:00:00Z,
// 1990-03-07T00:00:00.000Z, "1990-03-07 00:00:00" from SQL) gets another
// pseudonym than 1990-03-07: one value, two pseudonyms.
//
// Suggested fix: in dateDigits, take the first three runs when the
// value is a date followed by a time of day (T or a space, then
// hh:mm[:ss[.fff]] and an optional zone).
func TestReview56aBirthDateTimestampPseudonym(t *testing.T) {
	h := review55bRun(t, nil, "names", "h",
		`{"birthday":"1990-03-07","birth_date":"1990-03-07T00:00:00Z","dob":"1990-03-07T00:00:00.000Z","date_of_birth":"1990-03-07 00:00:00"}`)
	for _, k := range []string{"birth_date", "dob", "date_of_birth"} {
		if h[k] != h["birthday"] {
			t.Errorf("%s: one birth date, two pseudonyms: %v and %v (1990-03-07)", k, h[k], h["birthday"])
		}
	}
}

// Finding 10 (incomplete fix of 55b finding 3): the 0086 landline
// branch of classify and its comment take "the area code … with [the
// trunk 0] in brackets", and canonical hashes 0086 (0)10 12345678 as
// 010-12345678, but intlLandlineGrouping needs the first group to be 2-4
// digits: the "(0)" group of one digit fails it, so the number is not
// found in text and goes out in clear under scan all (+86 (0)10 … is
// found; 0086 (0)138 … likewise not, while +86 (0)138 … is).
//
// Suggested fix: in the 0086 branch drop a leading run "0" (as nat drops
// the digit) before checking the grouping: intlLandlineGrouping(rs[2:])
// / phoneGrouping(rs[2:]) when rs[1] is the single digit 0.
func TestReview56a0086TrunkInBracketsInText(t *testing.T) {
	m := review55bRun(t, nil, "all", "m",
		`{"a":"总机 0086 (0)10 12345678","b":"总机 0086(0)21-61234567","c":"手机 0086 (0)138 1234 5678"}`)
	for k, v := range m {
		if s := v.(string); strings.Contains(s, "1234") || strings.Contains(s, "6123") {
			t.Errorf("%s: number with 0086 (0) left in the clear under scan all: %q", k, s)
		}
	}
}
