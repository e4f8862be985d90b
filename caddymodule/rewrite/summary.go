package rewrite

import (
	"slices"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// Count is how many values of one entity type received one action.
type Count struct {
	Type   detectors.Type
	Action config.Action
	N      int
}

// Summary records what a rewrite did, without the values: the flow log and
// the metrics read it.
type Summary struct {
	// Counts holds one entry per (type, action) seen, in first-seen order.
	Counts []Count
	// Paths are the distinct JSON paths that held personal data, array
	// indexes collapsed to #: data.#.mobile.
	Paths []string
	// Changed is set when the output differs from the input.
	Changed bool

	pathIDs []uint64 // hashes of Paths' raw forms

	// countAt holds 1 + the index in Counts of each built-in type and
	// action, 0 for none yet. Reset clears it with Counts; code that
	// empties Counts otherwise must clear it too.
	countAt [detectors.NumBuiltin * numActions]uint8

	// ruleSeen has a bit for each field rule of ruleEngine whose path is
	// in Paths already.
	ruleSeen   uint64
	ruleEngine *Engine

	// First storage for the slices, so that a summary that is part of a
	// per-request value costs no allocations of its own.
	countsArr [16]Count
	pathsArr  [16]string
	idsArr    [16]uint64
}

// Reset empties s for reuse, keeping its storage.
func (s *Summary) Reset() {
	s.Counts = s.Counts[:0]
	s.Paths = s.Paths[:0]
	s.pathIDs = s.pathIDs[:0]
	s.Changed = false
	s.ruleSeen, s.ruleEngine = 0, nil
	clear(s.countAt[:])
}

// Total returns the number of values found.
func (s *Summary) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c.N
	}
	return n
}

// numActions bounds config.Action values.
const numActions = int(config.Drop) + 1

func (s *Summary) add(t detectors.Type, a config.Action) {
	// A (type, action) counted before: small enough to be inlined.
	if k := uint(t)*uint(numActions) + uint(a); k < uint(len(s.countAt)) {
		if at := uint(s.countAt[k]) - 1; at < uint(len(s.Counts)) {
			s.Counts[at].N++
			return
		}
	}
	s.addNew(t, a)
}

// addN counts n more values of a (type, action) counted before.
func (s *Summary) addN(t detectors.Type, a config.Action, n int) {
	for i := range s.Counts {
		if s.Counts[i].Type == t && s.Counts[i].Action == a {
			s.Counts[i].N += n
			return
		}
	}
	s.Counts = append(s.Counts, Count{Type: t, Action: a, N: n}) // not reached: the first value added the entry
}

// Merge adds what o counted, and the paths it recorded, to s. o must come
// from an engine without field rules (the gateway's reading of headers).
func (s *Summary) Merge(o *Summary) { s.merge(o) }

// MapPaths replaces each path p with f(p), keeping the first of those
// that become the same.
func (s *Summary) MapPaths(f func(string) string) {
	n := 0
	for i, p := range s.Paths {
		p = f(p)
		if slices.Contains(s.Paths[:n], p) {
			continue
		}
		s.Paths[n], s.pathIDs[n] = p, s.pathIDs[i]
		n++
	}
	s.Paths, s.pathIDs = s.Paths[:n], s.pathIDs[:n]
}

// merge adds what o counted to s, as if s had counted it after what it
// has: a nested walker counts into a summary of its own, merged when the
// text it walks turns out to be JSON.
func (s *Summary) merge(o *Summary) {
	for _, c := range o.Counts {
		s.add(c.Type, c.Action)
		if c.N > 1 {
			s.addN(c.Type, c.Action, c.N-1)
		}
	}
	for i, h := range o.pathIDs {
		if slices.Contains(s.pathIDs, h) {
			continue
		}
		if s.pathIDs == nil {
			s.pathIDs, s.Paths = s.idsArr[:0], s.pathsArr[:0]
		}
		s.pathIDs = append(s.pathIDs, h)
		s.Paths = append(s.Paths, o.Paths[i])
	}
}

func (s *Summary) addNew(t detectors.Type, a config.Action) {
	if s.Counts == nil {
		s.Counts = s.countsArr[:0]
	}
	if int(t) < detectors.NumBuiltin && int(a) < numActions {
		k := int(t)*numActions + int(a)
		if len(s.Counts) < 255 {
			s.countAt[k] = uint8(len(s.Counts) + 1)
		}
		s.Counts = append(s.Counts, Count{Type: t, Action: a, N: 1})
		return
	}
	for i := range s.Counts {
		if s.Counts[i].Type == t && s.Counts[i].Action == a {
			s.Counts[i].N++
			return
		}
	}
	s.Counts = append(s.Counts, Count{Type: t, Action: a, N: 1})
}

// pathElem is one step of the walker's current path: an object key (raw
// JSON string, quotes included) or an array element.
type pathElem struct {
	// key is the raw key when the element is not in the walker's own
	// document (a nested walker's inherited path, a rule's path);
	// otherwise it is nil and the key is src[ks:ke], so that the walker
	// stores no pointer per member.
	key    []byte
	ks, ke int32
	index  bool
	// pii is set for a key that holds personal data itself (scan all
	// found it): the summary's paths, which the flow log keeps, show it
	// as *, never as written.
	pii bool
	// checked is set once pii is known for the key.
	checked bool
	// h is the FNV-1a hash of the path up to and including this element,
	// valid when hashed; set on demand, so members never recorded cost
	// nothing.
	h      uint64
	hashed bool
}

// raw returns the element's key as written (quotes included).
func (e *pathElem) raw(src []byte) []byte {
	if e.key != nil {
		return e.key
	}
	return src[e.ks:e.ke]
}

// rulePath is the path of the values a field rule types, when the rule
// matches one path only (no wildcard key, no index that could be a key).
type rulePath struct {
	ok   bool
	h    uint64
	path string
}

// fixedPath works out the rulePath of a rule with path p.
func fixedPath(p config.Path) rulePath {
	elems := make([]pathElem, len(p))
	for i, c := range p {
		switch {
		case c.AnyIndex:
			elems[i] = pathElem{index: true}
		case c.Wild || c.Index >= 0 || !plainString([]byte(c.Key)):
			return rulePath{}
		default:
			elems[i] = pathElem{key: []byte(`"` + c.Key + `"`)}
		}
	}
	return rulePath{ok: true, h: hashPath(elems, nil), path: string(buildPath(elems, nil, nil))}
}

// addRulePath records the path of the values field rule r of e types.
func (s *Summary) addRulePath(e *Engine, r int) {
	if s.ruleEngine == e && s.ruleSeen&(1<<r) != 0 {
		return // the common case, inlined
	}
	s.addRulePathNew(e, r)
}

func (s *Summary) addRulePathNew(e *Engine, r int) {
	if s.ruleEngine != e {
		s.ruleSeen, s.ruleEngine = 0, e
	}
	if s.ruleSeen&(1<<r) != 0 {
		return
	}
	s.ruleSeen |= 1 << r
	rp := &e.rulePaths[r]
	for _, q := range s.pathIDs {
		if q == rp.h {
			return
		}
	}
	if s.pathIDs == nil {
		s.pathIDs, s.Paths = s.idsArr[:0], s.pathsArr[:0]
	}
	s.pathIDs = append(s.pathIDs, rp.h)
	s.Paths = append(s.Paths, rp.path)
}

// hashPath returns the FNV-1a hash of path p's raw form, caching the
// hash of each prefix in its elements.
func hashPath(p []pathElem, src []byte) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := range p {
		e := &p[i]
		if e.hashed {
			h = e.h
			continue
		}
		if e.index {
			h = (h ^ '#') * prime
		} else if e.pii {
			h = (h ^ '*') * prime
		} else {
			for _, c := range e.raw(src) {
				h = (h ^ uint64(c)) * prime
			}
		}
		h = (h ^ '.') * prime
		e.h, e.hashed = h, true
	}
	return h
}

// buildPath appends the collapsed, escaped form of p to b.
func buildPath(p []pathElem, src []byte, b []byte) []byte {
	for i, e := range p {
		if i > 0 {
			b = append(b, '.')
		}
		if e.index {
			b = append(b, '#')
			continue
		}
		if e.pii {
			b = append(b, '*')
			continue
		}
		raw := e.raw(src)
		k := raw[1 : len(raw)-1]
		for _, c := range k {
			if c == '\\' {
				// a rare escaped key: decode it (this allocates)
				if dec, err := unquote(nil, raw); err == nil {
					k = dec
				}
				break
			}
		}
		for _, c := range k {
			if c == '.' || c == '*' || c == '?' || c == '\\' || c == '#' || c == '|' {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
	}
	return b
}

// addPath records the path p (as the walker holds it) once. A path is
// identified by a 64-bit FNV-1a hash of its collapsed form, so a path seen
// before costs no more than hashing its keys; only a new one is built (into
// scratch, reused storage returned for the next call) and allocated.
func (s *Summary) addPath(p []pathElem, src, scratch []byte, intern func(uint64, []byte) string) []byte {
	h := hashPath(p, src)
	for _, q := range s.pathIDs {
		if q == h {
			return scratch
		}
	}
	if s.pathIDs == nil {
		s.pathIDs, s.Paths = s.idsArr[:0], s.pathsArr[:0]
	}
	s.pathIDs = append(s.pathIDs, h)
	b := buildPath(p, src, scratch[:0])
	s.Paths = append(s.Paths, intern(h, b))
	return b
}
