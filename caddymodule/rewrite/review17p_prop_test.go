package rewrite

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
	"github.com/piigate/piigate/detectors/detectorstest"
)

// shownSignificant counts the significant characters of in that out shows
// in place (masks other than e-mail keep the value's rune layout), and the
// significant characters of in. Prefix bytes (+86, 0086, 86 the mask keeps
// as a country code) are skipped when skip > 0.
func shownSignificant(in, out string, skip int) (shown, n int, aligned bool) {
	ri, ro := []rune(in[skip:]), []rune(out[skip:])
	if len(ri) != len(ro) || in[:skip] != out[:skip] {
		return 0, 0, false
	}
	for i, r := range ri {
		if significant(r) {
			n++
			if ro[i] == r {
				shown++
			}
		}
	}
	return shown, n, true
}

// cnPrefix is the length of a +86/0086/86 prefix the README lets a mask
// keep: only a real mainland country code, the canonical form strips.
func cnPrefix(t detectors.Type, v string) int {
	if t != detectors.CNMobile && t != detectors.CNLandline {
		return 0
	}
	c := string(canonical(nil, t, []byte(v)))
	a := string(canonical(nil, detectors.BankCard, []byte(v))) // digits only, nothing stripped
	if len(c) == len(a) {
		return 0
	}
	for _, p := range []string{"+86", "＋８６", "0086", "86"} {
		if strings.HasPrefix(v, p) {
			return len(p)
		}
	}
	return 0
}

func conventionLength(t detectors.Type, n int) bool {
	switch t {
	case detectors.CNMobile:
		return n == 11
	case detectors.CNResidentID:
		return n == 18
	case detectors.BankCard:
		return n >= 16 && n <= 19
	}
	return false
}

// checkHalf returns a complaint when mask(t, v) shows more than half of v's
// significant characters (conventions and e-mail domains excepted).
func checkHalf(a *actor, t detectors.Type, v string, admin bool) string {
	out := string(a.mask(nil, t, []byte(v)))
	if t == detectors.Email {
		at := strings.LastIndex(v, "@")
		if at < 0 {
			at = len(v)
		}
		local := v[:at]
		n := countSignificant([]byte(local))
		shown := 0
		for i, r := range []rune(out) {
			if r == '*' {
				break
			}
			if i < len([]rune(local)) && significant(r) {
				shown++
			}
		}
		if shown*2 > n {
			return fmt.Sprintf("email %q -> %q shows %d of %d local characters", v, out, shown, n)
		}
		return ""
	}
	if t == detectors.IPAddress {
		if _, err := netip.ParseAddr(strings.TrimSpace(detectorstest.ASCII(v))); err == nil {
			return "" // groups, not characters: 192.168.*.* is documented
		}
	}
	skip := cnPrefix(t, v)
	if t == detectors.IPAddress && len(out) == len(v) {
		// maskIP works byte by byte: a multi-byte character becomes
		// stars, one per byte.
		shown, n := 0, countSignificant([]byte(v))
		for i := 0; i < len(v); {
			r, w := utf8.DecodeRuneInString(v[i:])
			if significant(r) && out[i:i+w] == v[i:i+w] {
				shown++
			}
			i += w
		}
		if shown*2 > n {
			return fmt.Sprintf("%s %q -> %q shows %d of %d significant characters", t, v, out, shown, n)
		}
		return ""
	}
	shown, n, ok := shownSignificant(v, out, skip)
	if !ok && skip > 0 {
		// A mask that hides the country code too (a value it does not
		// read as one number): compared from the start.
		shown, n, ok = shownSignificant(v, out, 0)
	}
	if !ok {
		return fmt.Sprintf("%s %q -> %q: layout changed", t, v, out)
	}
	if !admin && conventionLength(t, n) {
		return ""
	}
	if shown*2 > n {
		return fmt.Sprintf("%s %q -> %q shows %d of %d significant characters", t, v, out, shown, n)
	}
	return ""
}

func actorFor(t testing.TB, masks map[string]config.MaskSpec) *actor {
	tbl, err := config.Compile(config.Policy{Roles: map[string]config.RoleRules{"m": {"*": "mask"}}, Masks: masks})
	if err != nil {
		t.Fatal(err)
	}
	return newActor(tbl, []byte("0123456789abcdef0123456789abcdef"), nil)
}

// randomTyped returns a value an app may put in a typed field: a labelled
// value in one of its forms, or other text (a record, a name, a short code).
func randomTyped(r *rand.Rand, g *detectorstest.Gen) string {
	alpha := []string{"0123456789", "ABCDEFGHJKLMNPQRSTUVWXYZ", "张三李四王五北京市朝阳区", "-  .·()+@", "１２３４５６７８９０"}
	switch r.IntN(3) {
	case 0:
		c := g.Case()
		if len(c.Spans) > 0 {
			s := c.Spans[r.IntN(len(c.Spans))]
			return c.Text[s.Start:s.End]
		}
		fallthrough
	case 1:
		var b strings.Builder
		for range 1 + r.IntN(24) {
			set := []rune(alpha[r.IntN(len(alpha))])
			b.WriteRune(set[r.IntN(len(set))])
		}
		return b.String()
	default:
		c := g.Case()
		return c.Text
	}
}

func TestReview17pMaskHalfProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 1))
	g := detectorstest.New(17)
	def := actorFor(t, nil)
	bad := map[string]int{}
	examples := map[string]string{}
	cases := 0
	for i := range 6000 {
		v := randomTyped(r, g)
		if !utf8.ValidString(v) {
			continue
		}
		for _, typ := range detectors.Builtin() {
			cases++
			if msg := checkHalf(def, typ, v, false); msg != "" {
				k := "default " + typ.String()
				bad[k]++
				if examples[k] == "" || len(msg) < len(examples[k]) {
					examples[k] = msg
				}
			}
			if i%10 == 0 {
				spec := config.MaskSpec{KeepFirst: r.IntN(30), KeepLast: r.IntN(30)}
				a := actorFor(t, map[string]config.MaskSpec{typ.String(): spec})
				cases++
				if msg := checkHalf(a, typ, v, true); msg != "" {
					k := fmt.Sprintf("admin %s", typ)
					bad[k]++
					if examples[k] == "" || len(msg) < len(examples[k]) {
						examples[k] = fmt.Sprintf("%v: %s", spec, msg)
					}
				}
			}
		}
	}
	t.Logf("%d cases", cases)
	for k, n := range bad {
		t.Errorf("%s: %d failures, e.g. %s", k, n, examples[k])
	}
}

// valueOf returns a value of typ in a written form (from the labelled
// generator), or "" when the generator has none for typ.
func valueOf(g *detectorstest.Gen, typ detectors.Type) string {
	switch typ {
	case detectors.PersonName:
		return g.Name()
	case detectors.Address:
		return g.Address()
	case detectors.BirthDate:
		return g.BirthDate().Format("2006-01-02")
	}
	for range 200 {
		c := g.Case()
		for _, s := range c.Spans {
			if s.Type == typ.String() {
				return c.Text[s.Start:s.End]
			}
		}
	}
	return ""
}

func TestReview17pMaskShowsNothingBesidesTheValue(t *testing.T) {
	g := detectorstest.New(171)
	def := actorFor(t, nil)
	others := []string{"张三", "13912345678", "zhang.san@example.com", "北京市朝阳区建国路88号"}
	bad := map[string]int{}
	examples := map[string]string{}
	cases := 0
	for range 300 {
		for _, typ := range detectors.Builtin() {
			v := valueOf(g, typ)
			if v == "" {
				continue
			}
			for _, x := range others {
				for _, before := range []bool{false, true} {
					whole := v + " " + x
					xs := len(v) + 1
					if before {
						whole, xs = x+" "+v, 0
					}
					out := string(def.mask(nil, typ, []byte(whole)))
					cases++
					if typ == detectors.Email && before {
						continue // the local part's first character: which is the value's
					}
					// x's characters where x stands in the output (masks
					// keep the layout; e-mail's ends with what follows).
					var o string
					switch {
					case len(out) == len(whole):
						o = out[xs : xs+len(x)]
					case !before && len(out) >= len(x):
						o = out[len(out)-len(x):]
					default:
						continue
					}
					shown := 0
					for _, r := range x {
						if significant(r) && strings.ContainsRune(o, r) {
							shown++
						}
					}
					ri, ro := []rune(x), []rune(o)
					shown = 0
					for i := range ri {
						if i < len(ro) && significant(ri[i]) && ro[i] == ri[i] {
							shown++
						}
					}
					if shown > 0 {
						k := typ.String()
						bad[k]++
						msg := fmt.Sprintf("%s mask of %q -> %q shows %d characters of %q", typ, whole, out, shown, x)
						if examples[k] == "" || len(msg) < len(examples[k]) {
							examples[k] = msg
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases", cases)
	for k, n := range bad {
		t.Errorf("%s: %d failures, e.g. %s", k, n, examples[k])
	}
}

func spellings(typ detectors.Type, v string) []string {
	switch typ {
	case detectors.CNMobile:
		g := func(sep string) string { return v[:3] + sep + v[3:7] + sep + v[7:] }
		return []string{v, g("-"), g(" "), g("–"), g("—"), g("−"), g("\u200b"), g("\u00a0"), g("\u3000"),
			"+86" + v, "+86 " + g(" "), "0086" + v, "86" + v, detectorstest.FullWidth(v), "＋８６" + detectorstest.FullWidth(v)}
	case detectors.BankCard, detectors.CNResidentID:
		out := []string{v, detectorstest.FullWidth(v), strings.ToLower(v)}
		var b4, b4d, b4n strings.Builder
		for i, c := range v {
			if i > 0 && i%4 == 0 {
				b4.WriteByte(' ')
				b4d.WriteString("–")
				b4n.WriteString("\u00a0")
			}
			b4.WriteRune(c)
			b4d.WriteRune(c)
			b4n.WriteRune(c)
		}
		return append(out, b4.String(), b4d.String(), b4n.String())
	case detectors.Email:
		return []string{v, strings.ToUpper(v), detectorstest.FullWidth(v), strings.Replace(v, "@", "＠", 1)}
	case detectors.IPAddress:
		out := []string{v, detectorstest.FullWidth(v)}
		if a, err := netip.ParseAddr(v); err == nil && a.Is4() {
			out = append(out, "::ffff:"+v)
		}
		return out
	}
	return nil
}

func TestReview17pHashSpellings(t *testing.T) {
	a := actorFor(t, nil)
	g := detectorstest.New(172)
	bad := map[string]int{}
	examples := map[string]string{}
	seen := map[string]string{} // hash -> canonical digits
	cases := 0
	for range 400 {
		for _, typ := range []detectors.Type{detectors.CNMobile, detectors.BankCard, detectors.CNResidentID, detectors.Email, detectors.IPAddress} {
			var v string
			switch typ {
			case detectors.CNMobile:
				v = g.Mobile()
			case detectors.BankCard:
				v = g.BankCard()
			case detectors.CNResidentID:
				v = g.ResidentID()
			case detectors.Email:
				v = strings.ToLower(g.Email())
			case detectors.IPAddress:
				v = g.IPv4()
			}
			want := string(a.hash(nil, typ, []byte(v)))
			if o, ok := seen[want]; ok && o != v {
				t.Errorf("collision: %q and %q", o, v)
			}
			seen[want] = v
			if strings.Contains(want, v) {
				t.Errorf("hash %q holds %q", want, v)
			}
			for _, s := range spellings(typ, v) {
				cases++
				if got := string(a.hash(nil, typ, []byte(s))); got != want {
					k := typ.String()
					for _, r := range s {
						if r >= 0x80 && !(r >= 0xFF01 && r <= 0xFF5E) {
							k += fmt.Sprintf(" U+%04X", r)
							break
						}
						if r >= 0xFF01 && r <= 0xFF5E {
							k += " fullwidth"
							break
						}
					}
					bad[k]++
					examples[k] = fmt.Sprintf("%q and %q hash differently", s, v)
				}
			}
		}
	}
	t.Logf("%d spellings, %d distinct values", cases, len(seen))
	for k, n := range bad {
		t.Errorf("%s: %d, e.g. %s", k, n, examples[k])
	}
}
