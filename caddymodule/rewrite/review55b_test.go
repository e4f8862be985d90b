package rewrite

// Fifty-fifth review, reviewer b: what a masked or hashed value still
// reveals, and whether equal values are treated equally.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

var review55bKey = []byte("review55b-review55b-review55b-32")

// review55bRun rewrites in (JSON) for role under a policy where role "m"
// masks and role "h" hashes every type, and returns the output's members.
func review55bRun(t *testing.T, masks map[string]config.MaskSpec, scan, role, in string) map[string]any {
	t.Helper()
	tbl, err := config.Compile(config.Policy{
		Roles: map[string]config.RoleRules{"m": {"*": "mask"}, "h": {"*": "hash"}},
		Masks: masks,
	})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(config.Route{Scan: scan})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Route: cr, Table: tbl, HashKey: review55bKey})
	if err != nil {
		t.Fatal(err)
	}
	var d config.Decision
	tbl.Decide(role, &d)
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), JSON, &d, &sum)
	if err != nil {
		t.Fatalf("Rewrite(%s): %v", in, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	return m
}

// Finding 1. Keys the classifier reads as cn_mobile (phone, tel, 电话,
// 联系电话, contactNumber …) hold landlines as often as mobiles. The value
// is then masked and hashed as a mobile whatever it is:
//   - the README's promise that "+86 10 1234 5678" and "010-12345678"
//     give the same pseudonym fails (the mobile canonical form only strips
//     86 from 13 digits), and the landline's pseudonym under `tel` is not
//     the one the same landline gets under `landline` or in free text;
//   - "010-12345678" gets the mobile convention (first 3 + last 4): 7 of
//     its 11 digits, where the landline mask shows 5 (010-******78).
func TestReview55bLandlineUnderPhoneKeyHash(t *testing.T) {
	h := review55bRun(t, nil, "all", "h",
		`{"phone":"+86 10 1234 5678","tel":"010-12345678","landline":"010-12345678","note":"总机 010-12345678"}`)
	if h["phone"] != h["tel"] {
		t.Errorf("one landline, two spellings (README: +86 10 1234 5678 and 010-12345678 give the same pseudonym): phone %v, tel %v", h["phone"], h["tel"])
	}
	if want := "总机 " + h["landline"].(string); h["tel"] != h["landline"] || h["note"] != want {
		t.Errorf("one landline, three pseudonyms: under tel %v, under landline %v, in text %v", h["tel"], h["landline"], h["note"])
	}
}

func TestReview55bLandlineUnderPhoneKeyMask(t *testing.T) {
	m := review55bRun(t, nil, "names", "m", `{"tel":"010-12345678","电话":"0755-1234567","landline":"010-12345678"}`)
	for _, k := range []string{"tel", "电话"} {
		shown := 0
		for _, c := range m[k].(string) {
			if c >= '0' && c <= '9' {
				shown++
			}
		}
		if shown > 5 {
			t.Errorf("%s: a landline (not a mobile) masked %q shows %d of its 11 digits (the mobile convention; 010-12345678 under landline: %q)", k, m[k], shown, m["landline"])
		}
	}
}

// Finding 2. The detectors read "+86 (0)10 1234 5678", "+86 010 1234 5678"
// and "+86 (0)138 1234 5678" as the mainland numbers they are (numbers.go
// drops the trunk 0 after +86), but canonical() keeps the 0: each hashes
// apart from "010-12345678" / "13812345678", so an analytics join misses
// them. The README promises the +86 spellings hash equal.
func TestReview55bTrunkZeroAfterCountryCodeHash(t *testing.T) {
	h := review55bRun(t, nil, "all", "h", `{"a":"010-12345678","b":"总机 +86 (0)10 1234 5678","c":"总机 +86 010 1234 5678",`+
		`"d":"13812345678","e":"手机 +86 (0)138 1234 5678"}`)
	for _, k := range []string{"b", "c"} {
		if h[k] != "总机 "+h["a"].(string) {
			t.Errorf("landline %s: %v, want the pseudonym of 010-12345678: %v", k, h[k], h["a"])
		}
	}
	if h["e"] != "手机 "+h["d"].(string) {
		t.Errorf("mobile: %v, want the pseudonym of 13812345678: %v", h["e"], h["d"])
	}
}

// Finding 3. A landline written with the 0086 country code is not found
// in text at all (classify: d[0]=='0' needs 10–12 digits, and the 0086
// branch is the mobile's only): under scan all it reaches every role in
// the clear, while +86 10 1234 5678 and 0086 138 1234 5678 are masked.
// The README counts 0086 as a landline's country code.
func TestReview55b0086LandlineInText(t *testing.T) {
	m := review55bRun(t, nil, "all", "m", `{"a":"总机 0086 10 12345678","b":"总机 0086-21-61234567","c":"总机 0086 755 1234 5678","d":"0086-10-12345678"}`)
	for k, v := range m {
		if s := v.(string); strings.Contains(s, "1234") || strings.Contains(s, "6123") {
			t.Errorf("%s: landline with 0086 left in the clear under scan all: %q", k, s)
		}
	}
}

// Finding 4. maskIP keeps the first two groups and hides the rest as
// written; with :: compression the rest is what the :: does not write.
// "2001:db8::1" → "2001:db8::*" tells that groups 3–7 are zero and the
// last is one hex digit (16 candidates: the address); "2001:db8::" is
// not masked at all. The same address written out in full masks as
// "2001:db8:*:*:*:*:*:*" (and hashes equal), so the mask also tells the
// spelling apart.
func TestReview55bIPv6CompressedMask(t *testing.T) {
	m := review55bRun(t, nil, "all", "m",
		`{"ip":"2001:db8::1","full":"2001:db8:0:0:0:0:0:1","net":"2001:db8::","note":"from 2409:8a1e::5"}`)
	if m["ip"] != m["full"] {
		t.Errorf("one address, two masks: %q and %q", m["ip"], m["full"])
	}
	if m["net"] == "2001:db8::" {
		t.Errorf("2001:db8:: is not masked at all: %q", m["net"])
	}
	if m["note"] == "from 2409:8a1e::*" {
		t.Errorf("an address in text keeps all but one hex digit: %q", m["note"])
	}
}

// Finding 5. The birth-date mask keeps the first 4 significant characters,
// meant as the year of 1990-03-07 (README: 1990-**-**). On other shapes it
// keeps something else:
//   - Jackson's default for a java.util.Date is epoch milliseconds:
//     {"birthday":636739200000} → "6367********", the date to within
//     10^8 ms (28 hours); epoch seconds "636739200" → "6367*****", the same;
//   - a day-first or month-first date keeps the day and month and hides the
//     year: "07/03/1990" → "07/03/****"; with "1990-**-**" in another
//     record the agent has the whole date.
func TestReview55bBirthDateMaskShapes(t *testing.T) {
	m := review55bRun(t, nil, "names", "m", `{"birthday":636739200000,"dob":"636739200","birthDate":"07/03/1990","birth":"03/07/1990"}`)
	if b, _ := m["birthday"].(string); strings.HasPrefix(b, "6367") {
		t.Errorf("epoch ms birthday masked %q: 636700000000–636799999999 ms is 1990-03-06..07", b)
	}
	if b, _ := m["dob"].(string); strings.HasPrefix(b, "6367") {
		t.Errorf("epoch s birthday masked %q: within 28 hours", b)
	}
	for _, k := range []string{"birthDate", "birth"} {
		if s := m[k].(string); strings.Contains(s, "07/03") || strings.Contains(s, "03/07") {
			t.Errorf("%s masked %q: day and month shown, year hidden (1990-03-07 shows the year instead)", k, s)
		}
	}
}

// Finding 6. An admin's mask on address skips the guard every other type
// has (a value of several words shows nothing; the default address mask
// keeps only leading divisions): with `mask address 6 4` the last four
// characters are shown whatever they are, a consignee's whole name or a
// mobile's last four appended after the address.
func TestReview55bAdminAddressMaskTail(t *testing.T) {
	masks := map[string]config.MaskSpec{"address": {KeepFirst: 6, KeepLast: 4}}
	m := review55bRun(t, masks, "names", "m", `{"address":"北京市朝阳区建国路88号院3号楼 收件人张三丰","addr":"北京市朝阳区建国路88号 张三 13812345678"}`)
	if s := m["address"].(string); strings.Contains(s, "张三丰") {
		t.Errorf("admin address mask shows the consignee's name: %q", s)
	}
	if s := m["addr"].(string); strings.Contains(s, "5678") {
		t.Errorf("admin address mask shows a mobile held in the address: %q", s)
	}
}

// Finding 7. canonical() hashes e-mail addresses, birth dates and names as
// written apart from case and full width (e-mail only): padding a form
// left and full-width digits give other pseudonyms, though numbers and
// IP addresses ignore both ("zhang.san@example.com " vs
// "Zhang.San@Example.com"; "１９９０-０３-０７" vs "1990-03-07").
func TestReview55bHashCanonicalGaps(t *testing.T) {
	h := review55bRun(t, nil, "names", "h", `{"email":"Zhang.San@Example.com","mail":"zhang.san@example.com ",`+
		`"birthday":"１９９０-０３-０７","dob":"1990-03-07"}`)
	if h["email"] != h["mail"] {
		t.Errorf("one address, trailing space: %v vs %v", h["email"], h["mail"])
	}
	if h["birthday"] != h["dob"] {
		t.Errorf("one date, full-width digits: %v vs %v", h["birthday"], h["dob"])
	}
}
