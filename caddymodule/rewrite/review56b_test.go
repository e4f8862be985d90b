package rewrite

// Fifty-sixth review (b): fuzzing the code changed today (masks, hashed
// forms, JSONP callees, XSSI prefixes). Fuzz targets first; the regular
// TestReview56b… tests hold the minimized inputs of what they found.

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// FuzzReview56bMaskHalf: every built-in type's mask, default and with an
// admin's keep_first/keep_last, shows at most half of the significant
// characters (checkHalf, review17p's statement of the property), and the
// hashed form (canonical, dateDigits) never panics.
func FuzzReview56bMaskHalf(f *testing.F) {
	for _, s := range []string{
		"1990-03-07", "19900307", "07/03/1990", "1990年3月7日", "631152000", "3/7/1990 00:00",
		"192.168.1.20", "2001:db8::1", "::ffff:192.168.1.1", "fe80::1%eth0", "10.0.0.1/24",
		"13812345678", "+86 138 1234 5678", "0086 10 12345678", "010-12345678", "86 13812345678",
		"110105194912310029", "6222026337417020", "zhang.san@example.com", "张三", "北京市朝阳区建国路88号",
		"１９９０－０３－０７", "1990", "12-1990", "1990-1", "2-1990-3",
	} {
		for _, t := range []uint8{0, 3, 7} {
			f.Add(s, t, uint8(0), uint8(0))
		}
	}
	def := actorFor(f, nil)
	types := detectors.Builtin()
	type adminKey struct {
		spec config.MaskSpec
		ty   detectors.Type
	}
	admins := map[adminKey]*actor{}
	f.Fuzz(func(t *testing.T, v string, typ, kf, kl uint8) {
		if !utf8.ValidString(v) || len(v) > 256 {
			return
		}
		ty := types[int(typ)%len(types)]
		if ty == detectors.CNMobile || ty == detectors.CNLandline {
			// A country code alone (+86) is no number: the README lets a
			// mask keep it.
			for _, p := range []string{"+86", "＋８６", "0086", "86"} {
				if r, ok := strings.CutPrefix(strings.TrimSpace(v), p); ok && countSignificant([]byte(r)) == 0 {
					return
				}
			}
		}
		if msg := checkHalf(def, ty, v, false); msg != "" && !keptCountryCode(def, ty, v) {
			t.Fatal("default: " + msg)
		}
		def.hash(nil, ty, []byte(v))
		canonical(nil, ty, []byte(v))
		dateDigits([]byte(v))
		if kf == 0 && kl == 0 {
			return
		}
		spec := config.MaskSpec{KeepFirst: int(kf % 30), KeepLast: int(kl % 30)}
		// (One actor per spec and type: the table compiles once.)
		a := admins[adminKey{spec, ty}]
		if a == nil {
			a = actorFor(t, map[string]config.MaskSpec{ty.String(): spec})
			admins[adminKey{spec, ty}] = a
		}
		if msg := checkHalf(a, ty, v, true); msg != "" && !keptCountryCode(a, ty, v) {
			t.Fatalf("admin %v: %s", spec, msg)
		}
	})
}

// keptCountryCode reports whether a's mask of v (a mobile or landline)
// keeps a +86/0086/86 country code the README lets it keep and shows at
// most half of what follows it (checkHalf reads the code as part of the
// number when canonical does not strip it: +860).
func keptCountryCode(a *actor, t detectors.Type, v string) bool {
	if t != detectors.CNMobile && t != detectors.CNLandline {
		return false
	}
	out := string(a.mask(nil, t, []byte(v)))
	for _, p := range []string{"+86", "＋８６", "0086", "86"} {
		if strings.HasPrefix(v, p) && strings.HasPrefix(out, p) {
			shown, n, ok := shownSignificant(v, out, len(p))
			return ok && shown*2 <= n
		}
	}
	return false
}

// xssiForms are the prefixes Sniff and the walker skip, in the forms an
// API writes them (white space between a statement's tokens).
var xssiForms = []string{")]}',\n", ")]}'\n", ")]}',", ")]}'", "while(1);", "for(;;);", "{}&&",
	"while (1);", "for (;;);", "while ( 1 ) ;", "for\t(\n;\n;\n)\n;"}

// FuzzReview56bPrefixes: a JSON document behind an XSSI prefix, or
// passed to any callee Express or Spring let through (a[0], cb., 0, $),
// plain or behind the typeof guard, reads as the document alone: Sniff
// says JSON or JSONP, and the view is the prefix (or call) around the
// document's own view.
func FuzzReview56bPrefixes(f *testing.F) {
	for _, s := range []string{
		`{"data":[{"mobile":"13812345678","name":"张三"}]}`, `[1,2,"a@b.co"]`, `{}`, `[]`,
		`{"p":"{\"mobile\":\"13812345678\"}"}`, "[\n]",
	} {
		f.Add([]byte(s), uint8(0), "cb")
		f.Add([]byte(s), uint8(7), "a[0]")
		f.Add([]byte(s), uint8(9), "0")
		f.Add([]byte(s), uint8(4), "$.x.")
	}
	e := engine(f, config.Route{Scan: "all"}, nil)
	d := decide(f, "nobody")
	f.Fuzz(func(t *testing.T, in []byte, p uint8, callee string) {
		if !json.Valid(in) || !startsJSON(in) {
			return
		}
		var sum Summary
		want, err := e.Rewrite(nil, in, JSON, d, &sum)
		if err != nil {
			return // too deep
		}
		want = bytes.Clone(want)
		pre := xssiForms[int(p)%len(xssiForms)]
		if pre == "{}&&" && in[0] != '{' && in[0] != '[' {
			return // TestReview56bXSSIBracesWithSpace
		}
		doc := append([]byte(pre), in...)
		if Sniff(doc) != JSON {
			t.Fatalf("Sniff(%q) = %v, want JSON", doc, Sniff(doc))
		}
		var s2 Summary
		out, err := e.Rewrite(nil, doc, JSON, d, &s2)
		if err != nil || string(out) != pre+string(want) {
			t.Fatalf("XSSI %q: %v\n in %s\nout %s\nwant %s%s", pre, err, doc, out, pre, want)
		}
		// JSONP under a callee jsCallee reads.
		if callee == "" || len(callee) > 40 {
			return
		}
		if j, ok := jsCallee([]byte(callee), 0); !ok || j != len(callee) || callee == "typeof" {
			return
		}
		for _, head := range []string{callee + "(", "/**/ typeof " + callee + " === 'function' && " + callee + "("} {
			call := append(append([]byte(head), in...), ");"...)
			if Sniff(call) != JSONP && Sniff(call) != JSON {
				t.Fatalf("Sniff(%q) = %v", call, Sniff(call))
			}
			if Sniff(call) == JSON {
				continue // a callee that starts like JSON ([…): read as JSON, refused if not
			}
			var s3 Summary
			out, err := e.Rewrite(nil, call, JSONP, d, &s3)
			if err != nil || string(out) != head+string(want)+");" {
				t.Fatalf("JSONP: %v\n in %s\nout %s\nwant %s%s);", err, call, out, head, want)
			}
		}
	})
}

// TestReview56bXSSIBracesWithSpace: the engine's half of
// caddymodule's TestReview56bXSSIBracesWithSpace (finding 2): {} && and
// {}&& followed by white space are XSSI prefixes (Spring 3's
// prefixJson writes "{} && "), read like )]}' and for (;;); are.
func TestReview56bXSSIBracesWithSpace(t *testing.T) {
	e := engine(t, config.Route{Scan: "all"}, nil)
	d := decide(t, "nobody")
	for _, pre := range []string{"{} && ", "{}&& ", "{}&&\n"} {
		in := pre + `["13812345678"]`
		var sum Summary
		out, err := e.Rewrite(nil, []byte(in), JSON, d, &sum)
		if want := pre + `["[cn_mobile]"]`; err != nil || string(out) != want {
			t.Errorf("%q: %q, %v; want %q", in, out, err, want)
		}
	}
}
