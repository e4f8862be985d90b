package detectors

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// The numbering plans' patterns (libphonenumber's, digits only) are matched
// many times per document. Go's regexp backtracks through them; here each
// is compiled once into a deterministic automaton over the ten digits
// (subset construction on the regexp's own compiled program), which reads
// a number with one table lookup per digit. A pattern whose automaton would
// be too large, or that uses anything but digits, alternation, repetition
// and grouping, keeps the regexp.

// maxDFAStates bounds one pattern's automaton (40 bytes a state).
const maxDFAStates = 4096

// digitMatcher matches whole digit strings against one pattern.
type digitMatcher struct {
	next   [][10]int32 // state × digit → state, -1 for no match possible
	accept []bool
	re     *regexp.Regexp // when there is no automaton
}

// compileDigits compiles pattern for whole-string matches.
func compileDigits(pattern string) *digitMatcher {
	m := &digitMatcher{}
	if !m.build(pattern) {
		m.next, m.accept = nil, nil
		m.re = regexp.MustCompile(`^(?:` + pattern + `)$`)
	}
	return m
}

// match reports whether all of d (ASCII digits) matches the pattern.
func (m *digitMatcher) match(d []byte) bool {
	if m.re != nil {
		return matchDigits(m.re, d)
	}
	s := int32(0)
	for _, c := range d {
		c -= '0'
		if c > 9 {
			return false
		}
		if s = m.next[s][c]; s < 0 {
			return false
		}
	}
	return m.accept[s]
}

// build constructs the automaton; false when the pattern does not suit one.
func (m *digitMatcher) build(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return false
	}
	// closure adds the consuming instructions and matches reachable from pc
	// without reading input; ok is false for an instruction it cannot
	// handle (an assertion such as ^ or \b).
	ok := true
	var closure func(pc uint32, set []uint32, seen map[uint32]bool) []uint32
	closure = func(pc uint32, set []uint32, seen map[uint32]bool) []uint32 {
		if seen[pc] {
			return set
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			set = closure(in.Out, set, seen)
			return closure(in.Arg, set, seen)
		case syntax.InstCapture, syntax.InstNop:
			return closure(in.Out, set, seen)
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			return append(set, pc)
		case syntax.InstFail:
			return set
		}
		ok = false
		return set
	}
	key := func(set []uint32) string {
		slices.Sort(set)
		var b strings.Builder
		for _, pc := range set {
			b.WriteString(strconv.FormatUint(uint64(pc), 36))
			b.WriteByte(',')
		}
		return b.String()
	}
	ids := map[string]int32{}
	var sets [][]uint32
	add := func(set []uint32) int32 {
		k := key(set)
		if id, found := ids[k]; found {
			return id
		}
		id := int32(len(sets))
		ids[k] = id
		sets = append(sets, set)
		accept := false
		for _, pc := range set {
			accept = accept || prog.Inst[pc].Op == syntax.InstMatch
		}
		m.next = append(m.next, [10]int32{})
		m.accept = append(m.accept, accept)
		return id
	}
	add(closure(uint32(prog.Start), nil, map[uint32]bool{}))
	for s := 0; s < len(sets); s++ {
		if len(sets) > maxDFAStates || !ok {
			return false
		}
		for d := 0; d < 10; d++ {
			var set []uint32
			seen := map[uint32]bool{}
			for _, pc := range sets[s] {
				if in := &prog.Inst[pc]; in.Op != syntax.InstMatch && in.MatchRune(rune('0'+d)) {
					set = closure(in.Out, set, seen)
				}
			}
			if len(set) == 0 {
				m.next[s][d] = -1
				continue
			}
			m.next[s][d] = add(set)
		}
	}
	return ok && len(sets) <= maxDFAStates
}
