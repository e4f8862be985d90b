package rewrite

import (
	"strings"
	"testing"

	"github.com/piigate/piigate/config"
)

// r17 rewrites in (JSON, scan all) for role "r" of a policy that gives
// every type action act, with optional admin masks.
func r17(t *testing.T, act string, masks map[string]config.MaskSpec, in string) string {
	t.Helper()
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{"r": {"*": act}}, Masks: masks})
	if err != nil {
		t.Fatal(err)
	}
	cr, err := config.CompileRoute(config.Route{Scan: "all"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Route: cr, Table: tbl, HashKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	var d config.Decision
	tbl.Decide("r", &d)
	var sum Summary
	out, err := e.Rewrite(nil, []byte(in), JSON, &d, &sum)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// README: "A mask shows nothing of what a value holds besides itself".
func TestReview17pMaskShowsWhatTheValueHoldsBesides(t *testing.T) {
	for _, c := range []struct{ in, other string }{
		{`{"mobile":"13812345678 张三"}`, "张三"},
		{`{"idCard":"张三 110105194912310029"}`, "张三"},
		{`{"ip":"13812345678 10.0.0.1"}`, "13812345678"},
	} {
		if out := r17(t, "mask", nil, c.in); strings.Contains(out, c.other) {
			t.Errorf("%s masks to %s: %q shows", c.in, out, c.other)
		}
	}
}

// README: every other mask "shows at most half of the significant
// characters"; an ip or plate field holding something else is shown whole,
// under the default mask and under an admin's.
func TestReview17pIPAndPlateMasksShowShortValuesWhole(t *testing.T) {
	for _, c := range []struct {
		in    string
		masks map[string]config.MaskSpec
	}{
		{`{"ip":"13812345678"}`, nil},
		{`{"ip":"13812345678"}`, map[string]config.MaskSpec{"ip_address": {KeepFirst: 0, KeepLast: 0}}},
		{`{"plate":"张三"}`, nil},
		{`{"plate":"张三"}`, map[string]config.MaskSpec{"cn_license_plate": {KeepFirst: 0, KeepLast: 0}}},
	} {
		if out := r17(t, "mask", c.masks, c.in); out == c.in {
			t.Errorf("mask (admin %v) left %s whole", c.masks, c.in)
		}
	}
}

// An admin's mask for person_name, address, ip_address or
// cn_license_plate is accepted and has no effect.
func TestReview17pAdminMaskIgnoredForFormatMasks(t *testing.T) {
	zero := config.MaskSpec{}
	for typ, in := range map[string]string{
		"person_name":      `{"name":"张三"}`,
		"ip_address":       `{"ip":"192.168.1.10"}`,
		"cn_license_plate": `{"plate":"京A12345"}`,
		"address":          `{"address":"北京市朝阳区建国路88号"}`,
	} {
		def := r17(t, "mask", nil, in)
		adm := r17(t, "mask", map[string]config.MaskSpec{typ: zero}, in)
		if def == adm {
			t.Errorf("mask %s 0 0: %s gives %s, as without it", typ, in, adm)
		}
	}
}

// A mobile field holding a number with another country code: the code is
// kept as if it were +86, and the mask shows 6 of its 11 digits.
func TestReview17pMaskForeignCountryCodeShowsMoreThanHalf(t *testing.T) {
	out := r17(t, "mask", nil, `{"mobile":"+12025550123"}`)
	v := out[len(`{"mobile":"`) : len(out)-2]
	shown := 0
	for i := range v {
		if v[i] >= '0' && v[i] <= '9' {
			shown++
		}
	}
	if shown*2 > 11 {
		t.Errorf("+12025550123 masks to %s: %d of 11 digits shown", v, shown)
	}
	// With an admin's mask: +817048742674 (12 digits) keeps 7.
	out = r17(t, "mask", map[string]config.MaskSpec{"cn_mobile": {KeepFirst: 18, KeepLast: 16}}, `{"mobile":"+817048742674"}`)
	if strings.Contains(out, "8170487") {
		t.Errorf("mask cn_mobile 18 16: +817048742674 masks to %s", out)
	}
}

// README: dashes (–, —, −) and zero-width spaces between digit groups
// count as '-' and spaces, and &nbsp; is a separator; "138-1234-5678 and
// +8613812345678 give the same pseudonym".
func TestReview17pHashUnicodeSeparators(t *testing.T) {
	want := r17(t, "hash", nil, `["138-1234-5678"]`)
	for _, s := range []string{"138–1234–5678", "138—1234—5678", "138−1234−5678", "138\u200b1234\u200b5678", "138\u00a01234\u00a05678"} {
		if got := r17(t, "hash", nil, `["`+s+`"]`); got != want {
			t.Errorf("%q hashes to %s, 138-1234-5678 to %s", s, got, want)
		}
	}
}

// README: full-width letters and ＠ count as ASCII ones (and an IP's
// full-width spelling hashes as its ASCII one, "as everywhere").
func TestReview17pHashFullWidthEmail(t *testing.T) {
	want := r17(t, "hash", nil, `["zhang@example.com"]`)
	for _, s := range []string{"zhang＠example.com", "ｚｈａｎｇ@example.com"} {
		if got := r17(t, "hash", nil, `["`+s+`"]`); got != want {
			t.Errorf("%q hashes to %s, zhang@example.com to %s", s, got, want)
		}
	}
}

// The +86 form of a landline drops the trunk 0 (+86 10 …, 010-…): the
// canonical form's 86-stripping is by a mobile's lengths only.
func TestReview17pHashLandlinePlus86(t *testing.T) {
	for _, p := range [][2]string{{"+86 10 1234 5678", "010-12345678"}, {"+86 755 1234 5678", "0755-12345678"}} {
		a := r17(t, "hash", nil, `{"x":"tel `+p[0]+`"}`)
		b := r17(t, "hash", nil, `{"x":"tel `+p[1]+`"}`)
		if !strings.Contains(a, "hash:cn_landline:") || a != b {
			t.Errorf("%s -> %s, %s -> %s", p[0], a, p[1], b)
		}
	}
}

// An address's kept divisions are bounded by half its runes, spaces and
// commas included, not by half its significant characters.
func TestReview17pAddressMaskPaddedShowsWhole(t *testing.T) {
	in := `{"address":"北京市朝阳区      "}`
	if out := r17(t, "mask", nil, in); out == in {
		t.Errorf("%s masks to itself", in)
	}
}
