package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/piigate/piigate/detectors"
)

// ScanMode chooses content detection on a route.
type ScanMode uint8

// The scan modes.
const (
	ScanOff   ScanMode = iota // only field rules
	ScanNames                 // also values under keys named like personal data (mobile, 身份证号, …)
	ScanAll                   // also every string and number, by content detectors
)

var scanNames = [...]string{"off", "names", "all"}

// String returns the mode's configuration name.
func (m ScanMode) String() string {
	if int(m) < len(scanNames) {
		return scanNames[m]
	}
	return fmt.Sprintf("scan(%d)", uint8(m))
}

// ParseScanMode returns the mode called name; "" means names.
func ParseScanMode(name string) (ScanMode, error) {
	if name == "" {
		return ScanNames, nil
	}
	for i, n := range scanNames {
		if n == name {
			return ScanMode(i), nil
		}
	}
	return ScanOff, fmt.Errorf("unknown scan mode %q (want off, names or all)", name)
}

// FieldScan as a field's type means: detect the field's content.
const FieldScan = "scan"

// Route is what one pii_mask handler applies to the JSON it rewrites.
type Route struct {
	// Fields assigns entity types to values by path.
	Fields []Field `json:"fields,omitempty"`
	// Scan is the content detection for everything else: off, names
	// (the default) or all.
	Scan string `json:"scan,omitempty"`
}

// Field is one field rule: the value at Path is of entity type Type, or,
// with Type "scan", is content-scanned.
type Field struct {
	// Path is a gjson path: keys separated by dots, `#` for every element
	// of an array, a number for one element, `*` and `?` wildcards within a
	// key, `\` to escape a dot or a wildcard. Queries and modifiers are not
	// supported: a field rule names places, it does not filter.
	Path string `json:"path"`
	// Type is an entity type name, or "scan".
	Type string `json:"type"`
}

// CompiledRoute is a Route ready for the rewrite engine.
type CompiledRoute struct {
	Scan   ScanMode
	Fields []CompiledField
}

// CompiledField is one compiled field rule.
type CompiledField struct {
	Source string
	Path   Path
	// Type is the field's entity type; Unknown when ScanContent is set.
	Type        detectors.Type
	ScanContent bool
}

// CompileRoute validates r and compiles its paths.
func CompileRoute(r Route) (*CompiledRoute, error) {
	mode, err := ParseScanMode(r.Scan)
	if err != nil {
		return nil, err
	}
	cr := &CompiledRoute{Scan: mode}
	for _, f := range r.Fields {
		p, err := ParsePath(f.Path)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Path, err)
		}
		cf := CompiledField{Source: f.Path, Path: p}
		if f.Type == FieldScan {
			cf.ScanContent = true
		} else {
			t, err := detectors.ParseType(f.Type)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Path, err)
			}
			cf.Type = t
		}
		for _, o := range cr.Fields {
			if !o.ScanContent && !cf.ScanContent && o.Type != cf.Type && len(o.Path) == len(cf.Path) && PathsOverlap(o.Path, cf.Path) {
				return nil, fmt.Errorf("field %q (%s) and field %q (%s) can reach the same value with different types: the first would win; type each place once (a rule inside a typed container wins over it)",
					o.Source, o.Type, cf.Source, cf.Type)
			}
		}
		cr.Fields = append(cr.Fields, cf)
	}
	return cr, nil
}

// PathsOverlap reports whether two field paths can reach one value: the
// shorter one's steps can each match what the longer one's match (a path
// typed as a container types everything in it). Two key patterns with
// wildcards are taken to overlap unless their literal starts or ends
// differ.
func PathsOverlap(a, b Path) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if !componentsOverlap(&a[i], &b[i]) {
			return false
		}
	}
	return true
}

func componentsOverlap(a, b *Component) bool {
	// Array elements.
	if (a.AnyIndex || a.Index >= 0) && (b.AnyIndex || b.Index >= 0) && (a.AnyIndex || b.AnyIndex || a.Index == b.Index) {
		return true
	}
	// Object keys.
	switch {
	case !a.Wild && !b.Wild:
		return a.Key == b.Key // # on an object is the key "#"
	case !a.Wild:
		return b.MatchKey(a.Key)
	case !b.Wild:
		return a.MatchKey(b.Key)
	}
	if !strings.Contains(a.pattern, "*") && !strings.Contains(b.pattern, "*") {
		// Only ? wildcards: one rune each, so a key both match has as
		// many runes as each, and each position agrees.
		ra, rb := patternRunes(a.pattern), patternRunes(b.pattern)
		if len(ra) != len(rb) {
			return false
		}
		for i := range ra {
			if ra[i] != '?' && rb[i] != '?' && ra[i] != rb[i] {
				return false
			}
		}
		return true
	}
	pa, sa := literalEnds(a.pattern)
	pb, sb := literalEnds(b.pattern)
	return (strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)) &&
		(strings.HasSuffix(sa, sb) || strings.HasSuffix(sb, sa))
}

// patternRunes returns a wildcard-free-but-? pattern's runes, ? as '?'
// and an escaped character as itself (an escaped ? as U+FFFF, which no
// key holds, so it only matches a ?).
func patternRunes(pat string) []rune {
	var out []rune
	for i := 0; i < len(pat); {
		r, n := utf8.DecodeRuneInString(pat[i:])
		if r == '\\' && i+1 < len(pat) {
			r, n = utf8.DecodeRuneInString(pat[i+1:])
			if r == '?' {
				r = 0xFFFF
			}
			i++
		}
		out = append(out, r)
		i += n
	}
	return out
}

// literalEnds returns the literal text before the first wildcard of a key
// pattern and after the last one (escapes undone).
func literalEnds(pat string) (prefix, suffix string) {
	var lits []string
	var cur strings.Builder
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '\\':
			if i+1 < len(pat) {
				i++
				cur.WriteByte(pat[i])
			}
		case '*', '?':
			lits = append(lits, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	lits = append(lits, cur.String())
	return lits[0], lits[len(lits)-1]
}

// Path is a compiled gjson field path.
type Path []Component

// Component is one step of a Path.
type Component struct {
	// Key is the key to match, wildcards included.
	Key string
	// AnyIndex is set for `#`: every element of an array.
	AnyIndex bool
	// Index is the array index Key spells, or -1.
	Index int
	// Wild is set when Key holds an unescaped * or ?.
	Wild bool
	// pattern is Key with escapes kept, for wildcard matching.
	pattern string
}

// ParsePath compiles a gjson path.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return nil, fmt.Errorf("empty path")
	}
	var p Path
	var key, pat strings.Builder
	wild := false
	flush := func() error {
		k := key.String()
		if k == "" && pat.Len() == 0 {
			return fmt.Errorf("empty key between dots")
		}
		c := Component{Key: k, Index: -1, Wild: wild, pattern: pat.String()}
		if k == "#" && !wild && pat.String() == "#" {
			c.AnyIndex = true
		} else if n, err := strconv.Atoi(k); err == nil && n >= 0 && !wild && strconv.Itoa(n) == k {
			c.Index = n
		}
		p = append(p, c)
		key.Reset()
		pat.Reset()
		wild = false
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("path ends in an escape")
			}
			i++
			key.WriteByte(s[i])
			pat.WriteByte('\\')
			pat.WriteByte(s[i])
		case '.':
			if err := flush(); err != nil {
				return nil, err
			}
		case '*', '?':
			wild = true
			key.WriteByte(c)
			pat.WriteByte(c)
		case '|':
			return nil, fmt.Errorf("'|' at offset %d: pipes are not supported in field paths (escape it with \\ if it is part of a key)", i)
		case '@', '!':
			if key.Len() == 0 && pat.Len() == 0 {
				return nil, fmt.Errorf("%q at offset %d: modifiers and literals are not supported in field paths (escape it with \\ if it is part of a key)", c, i)
			}
			key.WriteByte(c)
			pat.WriteByte(c)
		case '#':
			if key.Len() > 0 || i+1 < len(s) && s[i+1] != '.' {
				return nil, fmt.Errorf("'#' at offset %d: use # alone between dots for every array element (queries are not supported)", i)
			}
			key.WriteByte(c)
			pat.WriteByte(c)
		default:
			key.WriteByte(c)
			pat.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if last := p[len(p)-1]; last.AnyIndex {
		return nil, fmt.Errorf("path ends in '#', which in gjson is an array's length, not a field")
	}
	return p, nil
}

// MatchKey reports whether the component matches object key k.
func (c *Component) MatchKey(k string) bool {
	if c.AnyIndex {
		return k == "#" // as gjson reads # on an object
	}
	if !c.Wild {
		return c.Key == k
	}
	return wildMatch(c.pattern, k)
}

// MatchIndex reports whether the component matches array index i.
func (c *Component) MatchIndex(i int) bool {
	return c.AnyIndex || c.Index == i
}

// wildMatch matches gjson key patterns: * any run, ? any one character, \x
// the character x. It backtracks only to the last star (a later star can
// stand for whatever an earlier one could), so it takes time linear in
// len(pat)×len(s), not exponential in the number of stars.
func wildMatch(pat, s string) bool {
	px, sx := 0, 0
	star, starS := -1, 0 // after the last star: where it is and what it covers to
	for px < len(pat) || sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; c {
			case '*':
				star, starS = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, w := decodeRune(s[sx:])
					px, sx = px+1, sx+w
					continue
				}
			case '\\':
				if px+1 < len(pat) && sx < len(s) && s[sx] == pat[px+1] {
					px, sx = px+2, sx+1
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px, sx = px+1, sx+1
					continue
				}
			}
		}
		// A mismatch: the last star takes one more byte, if there is one.
		if star < 0 || starS >= len(s) {
			return false
		}
		starS++
		px, sx = star+1, starS
	}
	return true
}

func decodeRune(s string) (rune, int) { return utf8.DecodeRuneInString(s) }

// String returns the path as written.
func (p Path) String() string {
	parts := make([]string, len(p))
	for i, c := range p {
		parts[i] = c.pattern
	}
	return strings.Join(parts, ".")
}
