package rewrite

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// The walker reads JSON once, left to right. Output is written lazily:
// bytes up to w.last have been copied; a change copies src[w.last:start],
// writes the replacement and moves w.last past the original. Untouched
// stretches are copied in one piece, and a document without changes is
// never copied at all.

// Priorities of the ways a value gets an entity type; higher wins.
const (
	prioNone         = iota
	prioKeyInherited // inside a container whose key names a type
	prioKey          // the value's own key names a type
	prioFieldInherit // inside a container a field rule types
	prioField        // a field rule types the value itself
)

// slot is what applies to one value: the field rules whose path matched
// so far (candidates below), and packed in one word (so that a slot takes
// two registers in calls) the value's entity type, the priority that gave
// it, the field rule that did (1 + its index, with prioField), and
// whether the value's text is content-scanned.
type slot struct {
	alive uint64
	w     uint32 // type 0-15, prio 16-19, scan 20, rule 21-27
}

func (s slot) typ() detectors.Type { return detectors.Type(s.w) }
func (s slot) prio() uint8         { return uint8(s.w>>16) & 0xF }
func (s slot) scan() bool          { return s.w&(1<<20) != 0 }
func (s slot) rule() uint8         { return uint8(s.w >> 21) }

// typed returns s with type t given by priority p (and no rule).
func (s slot) typed(t detectors.Type, p uint8) slot {
	s.w = s.w&(1<<20) | uint32(t) | uint32(p)<<16
	return s
}

// withRule returns s typed t by field rule r.
func (s slot) withRule(t detectors.Type, r int) slot {
	s = s.typed(t, prioField)
	s.w |= uint32(r+1) << 21
	return s
}

// scanning returns s with content scanning on when on is set.
func (s slot) scanning(on bool) slot {
	if on {
		s.w |= 1 << 20
	}
	return s
}

type walker struct {
	escBuilt bool // esc.ix is built for escDoc
	e        *Engine
	d        *config.Decision
	sum      *Summary
	src      []byte
	out      []byte // the agent's view so far (after the caller's dst)
	changed  bool   // out holds a rewrite
	scanAll  bool   // every value is content-scanned: scan all, or RewriteScanned
	own      []byte // storage for out when the walker is nested
	last     int

	depth   int
	path    []pathElem
	pathBuf []byte
	dec     []byte // decoded string
	repl    []byte // replacement text before quoting
	tbuf    []byte // rewritten text
	fs      []detectors.Finding
	ws      detectors.Workspace
	ix      []uint64 // the structural index of src (index.go)

	// nsum is what the walker counts when it is nested: added to the
	// document's summary when the text was JSON, dropped when it was not
	// (the text is then scanned, and counted, as text).
	nsum Summary
	// num holds the digits of a number written with a fraction or an
	// exponent that is an integer (intDigits).
	num [maxIntDigits + 1]byte

	// pending counts, per field rule, the values the rule typed after
	// the first one in the summary (recordSlot counted that one, creating
	// the summary's entry and path in first-seen order); flushPending
	// adds them to the summary at the end of the walk.
	pending    [MaxFieldRules]uint32
	pendingSet uint64
	counted    uint64 // rules recordFirst counted in this walk

	// memo remembers, per depth and position in an object, the last
	// member's key (in src) and the slot it gave under the parent slot s:
	// the records of an API response repeat their keys in order, so the
	// object loop's general path (scan names/all, a typed or scanned
	// object) finds the slot there without the key lookups and rule
	// matching (child is a function of the parent slot, the depth and the
	// key). Entries of another document are told apart by gen.
	memo [memoDepths * memoWidth]memoEntry
	gen  uint32

	// kfs and kbuf are markPIIKeys' scratch.
	kfs  []detectors.Finding
	kbuf []byte

	// keyMark and keyLast are len(out) and last before the last key was
	// rewritten, for dropRange to take the rewrite back.
	keyMark, keyLast int

	// escDoc is the text last indexed (index); esc holds the text-escape
	// reading's scratch, made on first use.
	escDoc []byte
	esc    *escScratch
}

// escScratch is what reading the escapes of text takes: ix marks, one bit
// per byte of the walker's escDoc, where an escape of text may start ('&',
// '%', a '+' between digits of a long enough run), built on the first
// scanned string that needs it, so that most strings are cleared by
// looking at a few words of bits (mayHoldTextEscape reads them byte by
// byte otherwise); marks is escapeMarks' output; the rest is
// escapedView's.
type escScratch struct {
	ix, marks   []uint64
	te, te2     textEscapes
	tj          textEscapes  // escapedView's reading of JSON escapes
	tp, tp2     textEscapes  // and of a page's and a link's alone
	plus, plus2 plusReadings // and of each with its '+' read otherwise
	plusOut     []*textEscapes
	first       detectors.Type // the type of the first value applySpans rewrote
	fs2         []detectors.Finding
	spans       []escSpan
}

const (
	memoDepths = 8  // depths of objects the memo serves
	memoWidth  = 32 // members of an object the memo serves
)

type memoEntry struct {
	head         uint64 // the key's first eight bytes (keyHead)
	koff, klen   int32  // the key's bytes, src[koff:koff+klen]
	gen          uint32
	s, cs        slot // the parent's slot and the member's
	pii, checked bool // the key's path element's (pathElem)
}

func (w *walker) reset(d *config.Decision, sum *Summary, out []byte) {
	w.d, w.sum, w.out = d, sum, out
	w.scanAll = w.e.route.Scan == config.ScanAll
	// A new document (its src is set after reset): the memo's entries
	// are of the last one.
	if w.gen++; w.gen == 0 {
		w.memo = [len(w.memo)]memoEntry{}
		w.gen = 1
	}
	w.changed, w.last, w.depth = false, 0, 0
	w.path = w.path[:0]
	w.escBuilt, w.escDoc = false, nil // of the last document
}

// flush copies the untouched input up to i.
func (w *walker) flush(i int) {
	if !w.changed {
		w.changed = true
		if cap(w.out)-len(w.out) < len(w.src) {
			w.out = append(make([]byte, 0, len(w.out)+len(w.src)+len(w.src)/8), w.out...)
		}
	}
	w.out = append(w.out, w.src[w.last:i]...)
	w.last = i
}

func syntaxErr(src []byte, i int, what string) error {
	return fmt.Errorf("%w at byte %d: %s", errSyntax, i, what)
}

func skipWS(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// document rewrites one JSON text: BOM, XSSI prefix, a value, white space.
func (w *walker) document(src []byte) error {
	i := bomLen(src)
	return w.documentAt(src, i+xssiLen(src[i:]))
}

// documentAt rewrites the JSON text of src that starts at i (after what
// the caller skips, left as it is): a value, white space.
func (w *walker) documentAt(src []byte, i int) error {
	w.src = src
	if err := w.index(src); err != nil {
		return err
	}
	i = skipWS(src, i)
	if i == len(src) {
		return nil // an empty body holds nothing
	}
	// A document that is one string or number is content-scanned in
	// every mode: no key names it, and a field rule cannot reach it.
	root := slot{alive: w.e.rootSet}.scanning(w.scanAll || scalarStart(src[i]))
	end, err := w.value(i, root)
	if err != nil {
		return err
	}
	if end = skipWS(src, end); end != len(src) {
		return syntaxErr(src, end, "data after the JSON value")
	}
	return nil
}

// scalarStart reports whether a JSON value that starts with c is a string
// or a number.
func scalarStart(c byte) bool { return c == '"' || c == '-' || c >= '0' && c <= '9' }

// skippable reports whether nothing in a value with slot s can be personal
// data under the route's rules.
func (w *walker) skippable(s slot) bool {
	return s.alive == 0 && s.typ() == detectors.Unknown && !s.scan() && w.e.route.Scan == config.ScanOff
}

func (w *walker) value(i int, s slot) (int, error) {
	src := w.src
	if i >= len(src) {
		return 0, syntaxErr(src, i, "value expected")
	}
	switch c := src[i]; {
	case c == '{':
		return w.object(i, s)
	case c == '[':
		return w.array(i, s)
	case c == '"':
		return w.str(i, s)
	case c == '-' || c >= '0' && c <= '9':
		return w.number(i, s)
	case c == 't':
		return literal(src, i, "true")
	case c == 'f':
		return literal(src, i, "false")
	case c == 'n':
		return literal(src, i, "null")
	}
	return 0, syntaxErr(src, i, "value expected")
}

func literal(src []byte, i int, lit string) (int, error) {
	if len(src)-i < len(lit) || string(src[i:i+len(lit)]) != lit {
		return 0, syntaxErr(src, i, "invalid literal")
	}
	return i + len(lit), nil
}

// numEnd returns the end of the number at src[i], checking its grammar.
func numEnd(src []byte, i int) (int, error) {
	start := i
	if i < len(src) && src[i] == '-' {
		i++
	}
	switch {
	case i < len(src) && src[i] == '0':
		i++
	case i < len(src) && src[i] >= '1' && src[i] <= '9':
		i = digitsEnd(src, i)
	default:
		return 0, syntaxErr(src, start, "invalid number")
	}
	if i < len(src) && src[i] == '.' {
		if d := digitsEnd(src, i+1); d > i+1 {
			i = d
		} else {
			return 0, syntaxErr(src, start, "invalid number")
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if d := digitsEnd(src, i); d > i {
			i = d
		} else {
			return 0, syntaxErr(src, start, "invalid number")
		}
	}
	return i, nil
}

// digitsEnd returns the end of the digits starting at src[i].
func digitsEnd(src []byte, i int) int {
	for i < len(src) && src[i] >= '0' && src[i] <= '9' {
		i++
	}
	return i
}

// child returns the slot of a member (key != nil) or element of a value
// with slot s at nesting depth depth. For a member, ki is what the engine
// knows of the key and kr the live rules whose literal key it is.
func (w *walker) child(s slot, depth int, key []byte, index int, ki keyInfo, kr uint64) slot {
	if s.alive == 0 || depth >= len(w.e.depths) {
		return w.inherit(s, ki)
	}
	cs := inherited(s)
	x := &w.e.depths[depth]
	var cand uint64
	if key != nil {
		cand = kr // the caller looked the key up
		for set := s.alive & x.wild; set != 0; set &= set - 1 {
			r := bits.TrailingZeros64(set)
			if w.e.route.Fields[r].Path[depth].MatchKey(unsafe.String(unsafe.SliceData(key), len(key))) {
				cand |= 1 << r
			}
		}
	} else {
		cand = s.alive & x.any
		if index < len(x.index) {
			cand |= s.alive & x.index[index]
		} else if x.far != nil {
			cand |= s.alive & x.far[index]
		}
	}
	r := w.e.ruleSlot(x, cand)
	cs.alive = r.alive
	if r.scan() {
		cs = cs.scanning(true)
	}
	if r.prio() == prioField && cs.prio() < prioField {
		cs.w = cs.w&(1<<20) | r.w&^(1<<20)
	}
	if ki.names != detectors.Unknown && w.keyTypes(cs) && w.e.route.Scan >= config.ScanNames {
		cs = cs.typed(ki.names, prioKey)
	}
	return cs
}

// keyTypes reports whether the type a key names applies to a value with
// slot cs (before the key): when nothing ranks above a key's name, and
// inside a container a field rule typed but the role sees plain: a mobile
// field may hold a whole record ({"mobile":{"name":…}}), whose members'
// names still count, as they do when it holds the record as a string.
func (w *walker) keyTypes(cs slot) bool {
	p := cs.prio()
	return p < prioKey || p == prioFieldInherit && w.d.Action(cs.typ()) == config.Plain
}

// inherit is child for a member or element no field rule reaches, without
// the rule matching: what the parent passes down, and the type its key
// names.
func (w *walker) inherit(s slot, ki keyInfo) slot {
	cs := inherited(s)
	if ki.names != detectors.Unknown && w.keyTypes(cs) && w.e.route.Scan >= config.ScanNames {
		cs = cs.typed(ki.names, prioKey)
	}
	return cs
}

// inherited returns what a value with slot s passes to its children: its
// scanning, and its type at the inherited priority.
func inherited(s slot) slot {
	if s.typ() == detectors.Unknown {
		return slot{w: s.w & (1 << 20)}
	}
	// Type and scanning stay; a field rule's or a key's own priority
	// becomes the inherited one below it (prioField → prioFieldInherit,
	// prioKey → prioKeyInherited); the rule does not pass down.
	w := s.w & (1<<21 - 1)
	if p := w >> 16 & 0xF; p == prioField || p == prioKey {
		w -= 1 << 16
	}
	return slot{w: w}
}

// drops reports whether a value with slot s is removed whole.
func (w *walker) drops(s slot) bool {
	return s.typ() != detectors.Unknown && w.d.Action(s.typ()) == config.Drop
}

// skipValue returns the end of the value at i without looking inside.
func (w *walker) skipValue(i int) (int, error) {
	src := w.src
	switch c := src[i]; {
	case c == '"':
		end, _, err := w.strEnd(i)
		return end, err
	case c == '{' || c == '[':
		return w.containerEnd(i)
	}
	return w.value(i, slot{})
}

// leave ends a container whose path element is at depth.
func (w *walker) leave(depth int) {
	w.depth--
	w.path = w.path[:depth]
}

// member is the bookkeeping that lets a container drop its members and
// stay valid JSON: the first kept member takes the following comma with
// it, later ones the comma before them.
type member struct {
	kept      int
	commaPrev int // offset of the comma before the current member
	pos       int // where the memo looks for the member (objects)
}

// dropRange removes [start, end) of a member, with a comma. It reports
// whether it took the comma after the member, so the caller goes on with
// the next member at the returned offset.
func (w *walker) dropRange(m *member, start, end int) (int, bool) {
	src := w.src
	if w.last > start || m.kept > 0 && w.last > m.commaPrev {
		// The member's key was rewritten (a key holding personal data,
		// under scan all) before its value was found to be dropped: the
		// key's rewrite is taken back, with the member.
		w.out, w.last = w.out[:w.keyMark], w.keyLast
	}
	if m.kept > 0 {
		w.flush(m.commaPrev)
		w.last = end
		return end, false
	}
	if next := skipWS(src, end); next < len(src) && src[next] == ',' {
		next = skipWS(src, next+1)
		w.flush(start)
		w.last = next
		return next, true
	}
	w.flush(start)
	w.last = end
	return end, false
}

func (w *walker) object(i int, s slot) (int, error) {
	src := w.src
	// On errors the walker is abandoned, and reset before its next use:
	// only a container that ends restores depth and path.
	if w.depth++; w.depth > w.e.maxDepth {
		return 0, ErrTooDeep
	}
	depth := len(w.path)
	w.path = append(w.path, pathElem{})

	m := member{commaPrev: -1}
	i = skipWS(src, i+1)
	if i < len(src) && src[i] == '}' {
		w.leave(depth)
		return i + 1, nil
	}
	// Under scan off, with no scan rule above, only field rules can type a
	// member: a member they cannot reach is skipped here without the
	// general machinery (the common case, and the hot loop of the engine).
	slow := w.e.slow
	fast := w.e.route.Scan == config.ScanOff && !s.scan() && s.typ() == detectors.Unknown && !slow
	ix := w.ix
	var x *depthIndex
	if depth < len(w.e.depths) && s.alive != 0 {
		x = &w.e.depths[depth]
	}
	// Whether no wildcard rule is live, and the table the fast path
	// probes (nil for none): the same for every member.
	wildDead := x == nil || x.wild&s.alive == 0
	var probe *keyTable
	if x != nil && fast && len(x.keys.entries) != 0 {
		probe = &x.keys
	}
	for {
		if i >= len(src) || src[i] != '"' {
			return 0, syntaxErr(src, i, "object key expected")
		}
		keyStart := i
		keyEnd, esc, ok := strEndIx(ix, len(src), i)
		var err error
		if !ok {
			if keyEnd, esc, err = w.strEndNext(i); err != nil {
				return 0, err
			}
		}
		key := src[keyStart+1 : keyEnd-1]
		if esc {
			if w.dec, err = unquote(w.dec[:0], src[keyStart:keyEnd]); err != nil {
				return 0, syntaxErr(src, keyStart, "invalid escape in key")
			}
			key = w.dec
		}
		// The colon, and the value's start: usually right there.
		i = keyEnd
		if i >= len(src) || src[i] != ':' {
			if i = skipWS(src, i); i >= len(src) || src[i] != ':' {
				return 0, syntaxErr(src, i, "':' expected")
			}
		}
		vStart := i + 1
		if vStart >= len(src) || src[vStart] <= ' ' {
			if vStart = skipWS(src, vStart); vStart >= len(src) {
				return 0, syntaxErr(src, vStart, "value expected")
			}
		}
		var next int
		tookComma := false
		var kr uint64 // the live rules whose literal key this is
		var ke *keyEntry
		if x != nil && slow {
			if ke = x.keys.get(key); ke != nil { // the reference for the probe below
				kr = ke.rules & s.alive
			}
		} else if t := probe; t != nil {
			// get's probe, here. (Off the fast path the memo comes
			// first.)
			head, mask := keyHead(key), uint32(len(t.slots)-1)
			for h := keyHash(head, len(key), t.shift) & mask; ; h = (h + 1) & mask {
				si := t.slots[h]
				if si == 0 {
					break
				}
				if e := &t.entries[si-1]; e.head == head && len(e.key) == len(key) && (len(key) <= 8 || e.key[8:] == view(key[8:])) {
					ke, kr = e, e.rules&s.alive
					break
				}
			}
		}
		if fast && kr == 0 && wildDead {
			// No rule reaches this member: skip its value.
			m.kept++
			switch src[vStart] {
			case '"':
				var ok bool
				if next, _, ok = strEndIx(ix, len(src), vStart); !ok {
					next, _, err = w.strEndNext(vStart)
				}
			case '{', '[':
				next, err = w.containerEnd(vStart)
			case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				next, err = numEnd(src, vStart)
			default:
				next, err = w.value(vStart, slot{})
			}
			if err != nil {
				return 0, err
			}
		} else {
			pe := &w.path[depth]
			pe.ks, pe.ke, pe.hashed, pe.pii, pe.checked = int32(keyStart), int32(keyEnd), false, false, false
			var cs slot
			dropKey := false
			if fast && wildDead && kr == ke.rules {
				cs = ke.slot // every rule of the key is live: its slot is known
			} else if me, hit := w.memoGet(depth, &m, key, s, !fast && !slow && !esc); hit {
				cs = me.cs // a clean key's, or one not scanned
				pe.pii, pe.checked = me.pii, me.checked
			} else {
				if !fast && x != nil && !slow {
					if ke = x.keys.get(key); ke != nil {
						kr = ke.rules & s.alive
					}
				}
				scanKey := w.e.route.Scan == config.ScanAll || s.scan()
				var ki keyInfo
				if scanKey || w.e.route.Scan >= config.ScanNames {
					ki = w.e.key(key)
					// Whether the key is personal data itself, for the
					// summary's paths (markPIIKeys need not look again).
					pe.pii, pe.checked = !ki.clean, true
				}
				cs = w.child(s, depth, key, -1, ki, kr)
				if scanKey && (!ki.clean || esc && escapesAlnum(src[keyStart+1:keyEnd-1])) {
					// Keys can hold personal data too ({"13812345678": {…}}),
					// also as written ({"13812345678\u0031": …}).
					if dropKey, err = w.key(keyStart, keyEnd, key); err != nil {
						return 0, err
					}
				} else if me != nil {
					*me = memoEntry{head: keyHead(key), koff: int32(keyStart + 1), klen: int32(len(key)), gen: w.gen, s: s, cs: cs,
						pii: pe.pii, checked: pe.checked}
				}
			}
			act := config.Plain
			if cs.typ() != detectors.Unknown {
				act = w.d.Action(cs.typ())
			}
			if src[vStart] == '"' && !dropKey && act != config.Drop && !slow {
				// A string member, the most common: straight to its rewrite.
				m.kept++
				end, esc, ok := strEndIx(ix, len(src), vStart)
				if !ok {
					if end, esc, err = w.strEndNext(vStart); err != nil {
						return 0, err
					}
				}
				if cs.typ() != detectors.Unknown && !esc && (!cs.scan() || act != config.Plain) &&
					!(act == config.Plain && w.e.route.Scan >= config.ScanNames && holdsJSON(src[vStart+1:end-1])) {
					// Typed, without escapes: leaf's work, here (a value
					// that is not plain is not content-scanned too). A
					// rule's value after its first only bumps a counter
					// (rule() is 1 + the rule's index, 0 for none, when
					// ri wraps to 255, whose bit is 0).
					if ri := cs.rule() - 1; w.counted&(1<<ri) != 0 {
						w.pending[ri&63]++
						w.pendingSet |= 1 << ri
					} else {
						w.recordFirst(cs, act)
					}
					if act != config.Plain {
						if err = w.actString(vStart, end, cs.typ(), act); err != nil {
							return 0, err
						}
					}
				} else if cs.typ() == detectors.Unknown && cs.scan() && !esc {
					// Untyped and scanned (scan all), without escapes:
					// leaf's content scan, here.
					out, changed, err := w.scanText(src[vStart+1:end-1], cs)
					if err != nil {
						return 0, err
					}
					if changed {
						w.replace(vStart, end, out)
					}
				} else if err = w.strValue(vStart, end, esc, cs); err != nil {
					return 0, err
				}
				next = end
			} else if next, tookComma, err = w.entry(&m, keyStart, vStart, cs, dropKey); err != nil {
				return 0, err
			}
		}
		// A comma and the next key, or the end, usually right there.
		if !tookComma && next+1 < len(src) && src[next] == ',' && src[next+1] == '"' {
			m.commaPrev = next
			i = next + 1
			continue
		}
		var done bool
		if i, done, err = w.after(&m, next, tookComma, '}'); err != nil {
			return 0, err
		} else if done {
			w.leave(depth)
			return i, nil
		}
	}
}

// memoGet returns, when use is set, the memo's entry for the next member
// of an object at depth, whose key is key, under the parent slot s, and
// whether it holds the member's slot; a nil entry when the memo does not
// serve the member. The member's position is only where to look: the key,
// the depth and the parent slot decide.
func (w *walker) memoGet(depth int, m *member, key []byte, s slot, use bool) (*memoEntry, bool) {
	if !use || depth >= memoDepths || m.pos >= memoWidth {
		return nil, false
	}
	me := &w.memo[depth*memoWidth+m.pos]
	m.pos++
	// The first eight bytes decide most keys; the rest, when there is
	// more, is compared in src. An entry of this document lies before
	// the key in src (an NDJSON line is walked as a prefix of the body,
	// after the lines before it); end is checked all the same, so that no
	// offset can read past src.
	end := int(me.koff) + int(me.klen)
	return me, me.gen == w.gen && me.s == s && int(me.klen) == len(key) && me.head == keyHead(key) &&
		(len(key) <= 8 || end <= len(w.src) && view(w.src[me.koff+8:end]) == view(key[8:]))
}

// entry handles the value of one object member (whose key starts at start)
// or one array element (start == vStart): it drops it with a comma, skips
// it, or walks it. It returns where reading goes on, and whether the drop
// took the following comma, so that the next entry starts there.
func (w *walker) entry(m *member, start, vStart int, cs slot, dropKey bool) (int, bool, error) {
	switch {
	case dropKey || w.drops(cs):
		end, err := w.skipValue(vStart)
		if err != nil {
			return 0, false, err
		}
		if !dropKey {
			w.recordSlot(cs, config.Drop)
		}
		next, tookComma := w.dropRange(m, start, end)
		return next, tookComma, nil
	case w.skippable(cs):
		m.kept++
		end, err := w.skipValue(vStart)
		return end, false, err
	default:
		m.kept++
		end, err := w.value(vStart, cs)
		return end, false, err
	}
}

// after reads what follows an entry: a comma and the next entry, or the
// container's closing bracket (done).
func (w *walker) after(m *member, i int, tookComma bool, closing byte) (next int, done bool, err error) {
	src := w.src
	if tookComma {
		return i, false, nil
	}
	i = skipWS(src, i)
	switch {
	case i >= len(src):
		return 0, false, syntaxErr(src, i, "unterminated "+containerName(closing))
	case src[i] == ',':
		m.commaPrev = i
		return skipWS(src, i+1), false, nil
	case src[i] == closing:
		return i + 1, true, nil
	}
	return 0, false, syntaxErr(src, i, "',' or '"+string(closing)+"' expected")
}

func containerName(closing byte) string {
	if closing == '}' {
		return "object"
	}
	return "array"
}

func (w *walker) array(i int, s slot) (int, error) {
	src := w.src
	if w.depth++; w.depth > w.e.maxDepth {
		return 0, ErrTooDeep
	}
	depth := len(w.path)
	w.path = append(w.path, pathElem{index: true})

	m := member{commaPrev: -1}
	i = skipWS(src, i+1)
	if i < len(src) && src[i] == ']' {
		w.leave(depth)
		return i + 1, nil
	}
	for index := 0; ; index++ {
		if i >= len(src) {
			return 0, syntaxErr(src, i, "unterminated array")
		}
		cs := w.child(s, depth, nil, index, keyInfo{}, 0)
		next, tookComma, err := w.entry(&m, i, i, cs, false)
		if err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = w.after(&m, next, tookComma, ']'); err != nil {
			return 0, err
		} else if done {
			w.leave(depth)
			return i, nil
		}
	}
}

// recordFirst counts a typed value with recordSlot, and marks its rule
// counted when the rule's values all have the rule's path: the object
// loop counts the rule's later values in pending, and flushPending adds
// them to the summary at the end of the walk.
func (w *walker) recordFirst(s slot, act config.Action) {
	w.recordSlot(s, act)
	if r := int(s.rule()) - 1; r >= 0 && s.prio() == prioField && w.e.rulePaths[r].ok {
		w.counted |= 1 << r
	}
}

// flushPending adds the pending counts to the summary.
func (w *walker) flushPending() {
	for set := w.pendingSet; set != 0; set &= set - 1 {
		r := bits.TrailingZeros64(set)
		t := w.e.route.Fields[r].Type
		w.sum.addN(t, w.d.Action(t), int(w.pending[r]))
		w.pending[r] = 0
	}
	w.pendingSet, w.counted = 0, 0
}

// recordSlot counts one value with slot s that received act: a value a
// field rule typed has the rule's path.
func (w *walker) recordSlot(s slot, act config.Action) {
	if r := int(s.rule()) - 1; r >= 0 && s.prio() == prioField && w.e.rulePaths[r].ok {
		w.sum.add(s.typ(), act)
		w.sum.addRulePath(w.e, r)
		return
	}
	w.record(s.typ(), act)
}

// record counts one value of type t that received act, at the current path.
func (w *walker) record(t detectors.Type, act config.Action) {
	w.sum.add(t, act)
	w.markPIIKeys()
	w.pathBuf = w.sum.addPath(w.path, w.src, w.pathBuf, w.e.internPath)
}

// markPIIKeys marks the keys of the current path that are personal data
// themselves ({"13812345678": {…}}), whatever the scan mode, so that the
// summary's paths (the flow log's) show them as *. Each key is looked at,
// decoded, once: before its path element is first hashed.
func (w *walker) markPIIKeys() {
	for i := range w.path {
		e := &w.path[i]
		if e.hashed || e.index || e.checked {
			continue
		}
		e.checked = true
		raw := e.raw(w.src)
		key := raw[1 : len(raw)-1]
		if !detectors.MayMatch(key) && bytes.IndexByte(key, '\\') < 0 && !w.e.scanner.HasCustom() {
			continue // nothing a detector finds, nor an escape that could stand for it
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			if dec, err := unquote(w.kbuf[:0], raw); err == nil {
				key, w.kbuf = dec, dec
			}
		}
		if w.kfs = w.e.scanner.ScanWith(key, w.kfs[:0], &w.ws); len(w.kfs) > 0 {
			e.pii = true
		}
	}
}

func (w *walker) str(i int, s slot) (int, error) {
	end, esc, err := w.strEnd(i)
	if err != nil {
		return 0, err
	}
	return end, w.strValue(i, end, esc, s)
}

// strValue rewrites the string src[i:end] (holding escapes when esc) that
// has slot s.
func (w *walker) strValue(i, end int, esc bool, s slot) error {
	switch {
	case s.typ() != detectors.Unknown || s.scan():
		text, err := w.stringText(i, end, esc)
		if err != nil {
			return err
		}
		return w.leaf(i, end, text, s, !esc)
	case w.e.route.Scan >= config.ScanNames && startsJSONQuoted(w.src[i+1:end-1]):
		// With key names on, JSON held in a string is walked too: its
		// keys name personal data as well as the document's own. Text
		// that only looks like JSON is scanned as text (scanText).
		text, err := w.stringText(i, end, esc)
		if err != nil {
			return err
		}
		out, changed, err := w.scanText(text, s)
		if err == nil && changed {
			w.replace(i, end, out)
		}
		return err
	}
	return nil
}

// holdsJSON reports whether text starts like JSON, or like a JSON string
// that holds JSON, encoded once more or several times ("{\"name\":…}"):
// text for nested to try as JSON.
func holdsJSON(text []byte) bool {
	i := skipWS(text, 0)
	for i < len(text) && (text[i] == '"' || text[i] == '\\') {
		i++
	}
	return i < len(text) && (text[i] == '{' || text[i] == '[')
}

// startsJSONQuoted is startsJSON for the content of a JSON string as
// written, escapes and all: "\n{…}" and "\u007b…}" decode to text that
// starts like JSON.
func startsJSONQuoted(s []byte) bool {
	for i := 0; i < len(s); {
		c, w := s[i], 1
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] { // what the escape stands for
			case 't':
				c, w = '\t', 2
			case 'n':
				c, w = '\n', 2
			case 'r':
				c, w = '\r', 2
			case 'u':
				r, _ := hex4(s, i+2)
				if r >= utf8.RuneSelf {
					return false
				}
				c, w = byte(r), 6
			case '"', '\\':
				c, w = s[i+1], 2
			default:
				return false
			}
		}
		switch c {
		case ' ', '\t', '\n', '\r', '"', '\\':
			// White space, and the quotes and backslashes of a JSON
			// string that holds JSON in its turn ("\"{\\\"name…").
			i += w
		case '{', '[':
			return true
		default:
			return false
		}
	}
	return false
}

// stringText returns the content of the string src[start:end], decoded
// into w.dec when it holds escapes.
func (w *walker) stringText(start, end int, esc bool) ([]byte, error) {
	if !esc {
		return w.src[start+1 : end-1], nil
	}
	var err error
	if w.dec, err = unquote(w.dec[:0], w.src[start:end]); err != nil {
		return nil, syntaxErr(w.src, start, "invalid escape in string")
	}
	return w.dec, nil
}

// replace puts the JSON string of text in place of src[start:end].
func (w *walker) replace(start, end int, text []byte) {
	w.flush(start)
	w.out = quote(w.out, text)
	w.last = end
}

// minPIINumber is the length below which no number can be personal data
// that detectors find (the shortest, a landline with its area code, has
// ten digits; a JSON number has no separators).
const minPIINumber = 7

// maxIntDigits bounds the digits of an integer written with a fraction or
// an exponent that the engine reads as its digits: past 20 (a 64-bit
// integer), no identifier the detectors know.
const maxIntDigits = 20

// intDigits appends to dst the integer that the JSON number n, written
// with a fraction or an exponent, denotes, as a sign and decimal digits,
// and reports whether n denotes an integer of 1 to maxIntDigits digits
// other than 0: 1.3812345678E10 and 13812345678.0 are 13812345678;
// 13812345678.5, 1e25 and 0.0e5 are not read.
func intDigits(dst, n []byte) ([]byte, bool) {
	neg := n[0] == '-'
	if neg {
		n = n[1:]
	}
	i := digitsEnd(n, 0)
	whole, frac := n[:i], n[:0]
	if i < len(n) && n[i] == '.' {
		j := digitsEnd(n, i+1)
		frac, i = n[i+1:j], j
	}
	// The exponent, held at limit past it: any exponent from limit on
	// leaves more than maxIntDigits digits, or a fraction, whatever the
	// mantissa (it has fewer than len(n) digits).
	limit := len(n) + maxIntDigits + 1
	exp := 0
	if i < len(n) { // e or E
		i++
		expNeg := n[i] == '-'
		if n[i] == '+' || n[i] == '-' {
			i++
		}
		for ; i < len(n) && exp < limit; i++ {
			exp = exp*10 + int(n[i]-'0')
		}
		exp = min(exp, limit)
		if expNeg {
			exp = -exp
		}
	}
	// The mantissa's digits are whole then frac; the integer is those
	// after the leading zeros, shifted by exp-len(frac) places.
	digit := func(k int) byte {
		if k < len(whole) {
			return whole[k]
		}
		return frac[k-len(whole)]
	}
	first, last := 0, len(whole)+len(frac)
	for first < last && digit(first) == '0' {
		first++
	}
	if first == last {
		return dst, false // zero
	}
	shift := exp - len(frac)
	for ; shift < 0; shift++ {
		if last--; digit(last) != '0' { // digit(first) is not '0'
			return dst, false // a fraction is left
		}
	}
	if last-first+shift > maxIntDigits {
		return dst, false
	}
	if neg {
		dst = append(dst, '-')
	}
	for k := first; k < last; k++ {
		dst = append(dst, digit(k))
	}
	for ; shift > 0; shift-- {
		dst = append(dst, '0')
	}
	return dst, true
}

func (w *walker) number(i int, s slot) (int, error) {
	end, err := numEnd(w.src, i)
	if err != nil {
		return 0, err
	}
	if s.typ() == detectors.Unknown && !s.scan() {
		return end, nil
	}
	n := w.src[i:end]
	// j stops at the number's last character that is not a digit: its
	// sign, or a fraction's point or an exponent's letter or sign.
	j := len(n) - 1
	for j > 0 && isDigitASCII(n[j]) {
		j--
	}
	if j > 0 {
		// An integer written with a fraction or an exponent (Java writes
		// the double 13812345678 as 1.3812345678E10, Python the float as
		// 13812345678.0) is read as its digits: found, and acted on, as
		// the integer is. A number with a fraction left is an amount
		// (833.46, the common case, is told by its last digit): the
		// detectors find nothing in one (a test keeps that true:
		// TestNumbersWithFractionsHoldNoFindings).
		ok := false
		if n[j] != '.' || n[len(n)-1] == '0' {
			var d []byte
			if d, ok = intDigits(w.num[:0], n); ok {
				n = d
			}
		}
		if !ok && s.typ() == detectors.Unknown {
			return end, nil
		}
	}
	if s.typ() == detectors.Unknown && len(n) < minPIINumber {
		return end, nil
	}
	return end, w.leaf(i, end, n, s, true)
}

// leaf rewrites the scalar src[start:end] whose text is text. A value of a
// known type gets its action whole (plain values are still scanned when
// the slot says so); otherwise content detectors find what is inside.
//
// raw says text is the value's JSON text itself (a number, or a string
// without escapes): a mask, a redaction or a hash of it needs no quoting,
// unless it holds U+2028 or U+2029 (their UTF-8 starts with 0xE2), which
// quote escapes for JavaScript's sake.
func (w *walker) leaf(start, end int, text []byte, s slot, raw bool) error {
	if s.typ() != detectors.Unknown {
		act := w.d.Action(s.typ())
		w.recordSlot(s, act)
		if act != config.Plain {
			return w.act(start, end, text, s.typ(), act, raw)
		}
		// A value the role sees plain is still looked into when it holds
		// JSON (with key names on, as for an untyped one): a mobile
		// field may carry a whole record ({"mobile":"{\"name\":…}"}).
		if !s.scan() && !(w.e.route.Scan >= config.ScanNames && holdsJSON(text)) {
			return nil
		}
	}
	if !raw && w.src[start] == '"' && escapesAlnum(w.src[start+1:end-1]) {
		if holdsJSON(text) {
			// JSON in the string is walked as JSON (scanText's first
			// step); text that only starts like it is read as below.
			if out, changed, ok, err := w.nested(text, s); ok || err != nil {
				if err == nil && changed {
					w.replace(start, end, out)
				}
				return err
			}
		}
		// An escape in the string stands for a letter or a digit, which
		// a page showing the JSON shows as an escape (13812345678\u0031:
		// one number to JSON.parse, a mobile to the eye): it is read as
		// written, as JSON.parse gives it, and as a page or a link shows
		// either, each value once. Other escapes mark a boundary either
		// way, and the string is read as JSON.parse gives it.
		w.rawString(start, end, s.typ())
		return nil
	}
	out, changed, err := w.scanText(text, s)
	if err == nil && changed {
		w.replace(start, end, out)
	}
	return err
}

// wholeType is the type a view redacted whole is labelled with: the plain
// scan's first value's, else the first value the escape readings
// rewrote, else whole.
func (w *walker) wholeType(whole detectors.Type) detectors.Type {
	switch {
	case len(w.fs) > 0:
		return w.fs[0].Type
	case w.esc != nil && w.esc.first != detectors.Unknown:
		return w.esc.first
	}
	return whole
}

// escapesAlnum reports whether a backslash escape in s stands for an ASCII
// or a full-width letter or digit.
func escapesAlnum(s []byte) bool {
	for i := bytes.IndexByte(s, '\\'); i >= 0; {
		if i+1 < len(s) && s[i+1] == '\\' {
			// An escaped backslash: what follows is not an escape.
			i += 2
			k := bytes.IndexByte(s[i:], '\\')
			if k < 0 {
				break
			}
			i += k
			continue
		}
		r, n := escapeAt(s, i)
		if r >= 0 && (r < utf8.RuneSelf && (isDigit(byte(r)) || byte(r)|0x20 >= 'a' && byte(r)|0x20 <= 'z') ||
			r >= 0xFF10 && r <= 0xFF19 || r >= 0xFF21 && r <= 0xFF3A || r >= 0xFF41 && r <= 0xFF5A) {
			return true
		}
		i += max(n, 1)
		k := bytes.IndexByte(s[i:], '\\')
		if k < 0 {
			break
		}
		i += k
	}
	return false
}

// rawString content-scans the string src[start:end], which holds escapes,
// as it is written, as JSON.parse gives it, and as a page or a link shows
// each (escapedView's readings), and rewrites what it finds in place,
// escapes and all. A view that would not be a valid JSON string is
// redacted whole.
func (w *walker) rawString(start, end int, whole detectors.Type) {
	content := w.src[start+1 : end-1]
	w.fs = w.e.scanner.ScanWith(content, w.fs[:0], &w.ws)
	spans, ok := w.escSpans(content, 2)
	w.writeRaw(start, end, spans, ok, whole)
}

// writeRaw rewrites in place the string (or key) src[start:end] whose
// values rawString's readings found (spans, and ok as escSpans reports
// it; the plain scan's in w.fs).
func (w *walker) writeRaw(start, end int, spans []escSpan, ok bool, whole detectors.Type) {
	content := w.src[start+1 : end-1]
	var out []byte
	changed := false
	if ok {
		out, changed, _ = w.applySpans(content, spans, whole)
	} else {
		out, changed = w.applyFindings(content, w.fs, whole)
	}
	w.esc.spans = spans[:0]
	if !changed {
		return
	}
	w.repl = append(append(append(w.repl[:0], '"'), out...), '"')
	if !json.Valid(w.repl) {
		w.flush(start)
		w.out = append(redact(append(w.out, '"'), w.wholeType(whole)), '"')
		w.last = end
		return
	}
	w.flush(start + 1)
	w.out = append(w.out, out...)
	w.last = end - 1
}

// act puts the agent's view under act (not plain) of the value
// src[start:end] of type t, whose text is text, in place of the value.
func (w *walker) act(start, end int, text []byte, t detectors.Type, act config.Action, raw bool) error {
	if act == config.Redact && int(t) < detectors.NumBuiltin && !w.e.slow {
		// A built-in type's redaction is a constant ASCII string: the
		// value's text (escaped or not) plays no part.
		w.flush(start)
		w.out = append(w.out, redactedJSON[t]...)
		w.last = end
		return nil
	}
	if raw && act == config.Mask && !w.e.slow {
		if w.e.act.conventional&(1<<(uint(t)&63)) != 0 {
			if k, ok := digitsOnly(t, text); ok {
				// Plain digits under the national convention (the
				// most common mask): ASCII, so no quoting to check.
				w.flush(start)
				w.out = append(w.out, '"')
				w.out = maskDigits(w.out, text, k)
				w.out = append(w.out, '"')
				w.last = end
				return nil
			}
		}
	}
	if raw && !w.e.slow && (act == config.Mask || (act == config.Redact || act == config.Hash) && int(t) < detectors.NumBuiltin) &&
		bytes.IndexByte(text, 0xE2) < 0 {
		// Masks keep characters of the value and add '*'; redactions
		// and hashes are ASCII: written straight into the output.
		w.flush(start)
		w.out = append(w.out, '"')
		w.out, _ = w.e.act.apply(w.out, t, act, text) // only the tokenizer fails
		w.out = append(w.out, '"')
		w.last = end
		return nil
	}
	var err error
	if w.repl, err = w.e.act.apply(w.repl[:0], t, act, text); err != nil {
		return err
	}
	if act == config.Drop { // a dropped root or a value the caller could not remove
		w.flush(start)
		w.out = append(w.out, "null"...)
		w.last = end
	} else {
		w.replace(start, end, w.repl)
	}
	return nil
}

// actString is act for the string src[start:end] without escapes (its
// text is src[start+1:end-1]), the object loop's typed member. The common
// masks keep a prefix and a suffix of the value and hide what lies
// between: the output is copied lazily up to the prefix, the stars
// appended, and the suffix (with the closing quote) is left for the next
// copy, one copy of src for each value instead of three. Each path
// writes what act writes for the value, byte for byte: a built-in type's
// redaction, a mobile, ID or card as plain digits (maskDigits; a card or
// an ID of another length as maskValue halves it), an e-mail address whose domain is
// simpleDomain (maskEmail's common case; the output holds the local
// part's first character, '*' and an ASCII domain, which quote leaves as
// they are, so no U+2028 check is needed), a name of Chinese characters
// (maskHan; no 0xE2 byte in it). Anything else goes to act.
func (w *walker) actString(start, end int, t detectors.Type, act config.Action) error {
	if !w.e.slow {
		switch act {
		case config.Redact:
			if int(t) < detectors.NumBuiltin {
				w.flush(start)
				w.out = append(w.out, redactedJSON[t]...)
				w.last = end
				return nil
			}
		case config.Mask:
			a := w.e.act
			text := w.src[start+1 : end-1]
			switch {
			case a.conventional&(1<<(uint(t)&63)) != 0:
				k, ok := digitsOnly(t, text)
				if !ok && (t == detectors.BankCard || t == detectors.CNResidentID) &&
					len(text) > 0 && len(text) <= maxDigits(t) && allDigits(text) {
					// A card or an ID of another length (a 15-digit
					// Amex card or old ID), digits only: one value of
					// its type (oneValue), its convention halved as
					// maskValue does.
					k, ok = halve(maskKeep[t].keep, len(text)), true
				}
				if ok {
					w.hide(start+1+k.first, end-1-k.last, len(text)-k.first-k.last)
					return nil
				}
			case t == detectors.Email && !a.customEmail:
				if at := bytes.LastIndexByte(text, '@'); at >= 0 && simpleDomain(text[at+1:]) {
					first := 0
					if at >= 2 && significantAt(text, 0) && twoSignificant(text[:at]) {
						first = digitsWidth(text[:at], 1)
					}
					w.flush(start + 1 + first)
					w.out = append(w.out, "***"...)
					w.last = start + 1 + at
					return nil
				}
			case t == detectors.PersonName && !a.customName:
				if len(text) >= 6 && hanOnly(text) {
					w.hide(start+4, end-1, len(text)/3-1)
					return nil
				}
			}
		}
	}
	return w.act(start, end, w.src[start+1:end-1], t, act, true)
}

// hide copies the input up to from, writes n stars and goes on from to.
func (w *walker) hide(from, to, n int) {
	w.flush(from)
	w.out = append(w.out, stars[:n]...)
	w.last = to
}

// key content-scans an object key (scan all): a key that is personal data
// is rewritten, or its member dropped.
func (w *walker) key(start, end int, key []byte) (drop bool, err error) {
	if raw := w.src[start+1 : end-1]; len(raw) != len(key) && escapesAlnum(raw) {
		// Read as written too (rawString for keys).
		return w.rawKey(start, end)
	}
	w.fs = w.e.scanner.ScanWith(key, w.fs[:0], &w.ws)
	escaped := w.mayHoldTextEscape(key)
	if escaped {
		// As values are: with a page's and a link's escapes decoded
		// ({"1381234567&#56;": …}), and with a page's or a link's
		// alone. A value found so whose type is dropped drops the
		// member.
		spans, ok := w.escSpans(key, 1)
		if w.dropsKey(spans) {
			w.path[len(w.path)-1].pii = true
			w.esc.spans = spans[:0]
			return true, nil
		}
		if ok {
			out, changed, _ := w.applySpans(key, spans, detectors.Unknown)
			w.esc.spans = spans[:0]
			w.path[len(w.path)-1].pii = true
			if changed {
				w.keyMark, w.keyLast = len(w.out), w.last // for dropRange
				w.replace(start, end, out)
			}
			return false, nil
		}
		w.esc.spans = spans[:0]
		escaped = false
	}
	if len(w.fs) == 0 && !escaped {
		return false, nil
	}
	// The member's path element, last in the path: its key is personal
	// data, kept out of the summary's paths.
	w.path[len(w.path)-1].pii = true
	for _, f := range w.fs {
		if w.d.Action(f.Type) == config.Drop {
			w.record(f.Type, config.Drop)
			return true, nil
		}
	}
	if out, changed := w.applyFindings(key, w.fs, detectors.Unknown); changed {
		w.keyMark, w.keyLast = len(w.out), w.last // for dropRange
		w.replace(start, end, out)
	}
	return false, nil
}

// rawKey content-scans the key src[start:end], whose escapes stand for a
// letter or a digit, as rawString does a string ({"13812345678\u0031": …});
// a value found whose type the role drops drops the member.
func (w *walker) rawKey(start, end int) (drop bool, err error) {
	raw := w.src[start+1 : end-1]
	w.fs = w.e.scanner.ScanWith(raw, w.fs[:0], &w.ws)
	spans, ok := w.escSpans(raw, 2)
	if len(w.fs) == 0 && len(spans) == 0 {
		w.esc.spans = spans[:0]
		return false, nil
	}
	w.path[len(w.path)-1].pii = true
	if w.dropsKey(spans) {
		w.esc.spans = spans[:0]
		return true, nil
	}
	w.keyMark, w.keyLast = len(w.out), w.last // for dropRange
	w.writeRaw(start, end, spans, ok, detectors.Unknown)
	return false, nil
}

// dropsKey reports whether a value found in a key (in spans or in the
// plain scan, w.fs) is of a type the role drops, and counts that drop.
func (w *walker) dropsKey(spans []escSpan) bool {
	for _, sp := range spans {
		if w.d.Action(sp.t) == config.Drop {
			w.record(sp.t, config.Drop)
			return true
		}
	}
	for _, f := range w.fs {
		if w.d.Action(f.Type) == config.Drop {
			w.record(f.Type, config.Drop)
			return true
		}
	}
	return false
}

// scanText finds personal data in text and returns the agent's view of it.
// Text that is itself JSON is rewritten as JSON, so keys inside it count;
// text that starts like JSON and is not is scanned as text.
func (w *walker) scanText(text []byte, s slot) ([]byte, bool, error) {
	if holdsJSON(text) {
		if out, changed, ok, err := w.nested(text, s); ok || err != nil {
			return out, changed, err
		}
	}
	w.fs = w.e.scanner.ScanWith(text, w.fs[:0], &w.ws)
	if w.mayHoldTextEscape(text) {
		// A page, a link or a script may show the string with its
		// escapes decoded (an app that puts a note into a page as HTML
		// shows 1381234567&#56; as a mobile).
		if out, changed, ok := w.escapedView(text, s.typ(), 1); ok {
			return out, changed, nil
		}
	}
	if len(w.fs) == 0 {
		return nil, false, nil
	}
	out, changed := w.applyFindings(text, w.fs, s.typ())
	return out, changed, nil
}

// applyFindings counts the findings in text and writes the agent's view
// into w.tbuf when some action is not plain. A finding of the type the
// whole value already has was counted with it.
func (w *walker) applyFindings(text []byte, fs []detectors.Finding, whole detectors.Type) ([]byte, bool) {
	changed := false
	for _, f := range fs {
		act := w.d.Action(f.Type)
		if f.Type != whole {
			w.record(f.Type, act)
		}
		changed = changed || act != config.Plain
	}
	if !changed {
		return nil, false
	}
	out := w.tbuf[:0]
	prev := 0
	for _, f := range fs {
		out = append(out, text[prev:f.Start]...)
		// apply cannot fail but for the tokenizer; a failing tokenizer
		// must not leak the value, so fall back to redaction.
		var err error
		mark := len(out)
		if out, err = w.e.act.applyFound(out, f.Type, w.d.Action(f.Type), text[f.Start:f.End]); err != nil {
			out = redact(out[:mark], f.Type)
		}
		prev = f.End
	}
	out = append(out, text[prev:]...)
	w.tbuf = out
	return out, true
}

// nested rewrites JSON found inside a string, with a walker of its own.
// ok is false when the text is not JSON after all: the caller scans it as
// text, and what the walk counted is dropped. The walk's other errors
// fail the rewrite, as in the document itself: JSON nested too deeply
// (the nested document's depth goes on from the string's), a failing
// tokenizer.
func (w *walker) nested(text []byte, s slot) (out []byte, changed, ok bool, err error) {
	n := w.e.walkers.Get().(*walker)
	defer w.e.walkers.Put(n)
	n.nsum.Reset()
	n.reset(w.d, &n.nsum, n.own[:0])
	n.scanAll = w.scanAll
	defer func() { n.own = n.out }()
	n.depth = w.depth + 1
	n.path = append(n.path[:0], w.path...)
	for i := range n.path { // the inherited keys are in this walker's document
		if e := &n.path[i]; !e.index && e.key == nil {
			e.key = w.src[e.ks:e.ke]
		}
	}
	n.src = text
	if n.index(text) != nil {
		return nil, false, false, nil
	}
	i := skipWS(text, 0)
	end, err := n.value(i, slot{}.scanning(s.scan() || w.scanAll))
	n.flushPending()
	if errors.Is(err, errSyntax) || err == nil && skipWS(text, end) != len(text) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, err
	}
	w.sum.merge(&n.nsum)
	if !n.changed {
		return nil, false, true, nil
	}
	n.flush(len(text))
	w.tbuf = append(w.tbuf[:0], n.out...)
	return w.tbuf, true, true, nil
}

// lines rewrites NDJSON: every non-empty line is a document. A leading
// record separator (RFC 7464 JSON text sequences) is kept; in a sequence
// (seq) the document after it may run over several lines (jq --seq
// pretty-prints its records), up to the next separator, and the rest of
// the line it ends on must be blank. (In NDJSON every line is a document,
// as its readers take it.)
func (w *walker) lines(src []byte, seq bool) error {
	w.src = src
	if err := w.index(src); err != nil {
		return err
	}
	for start := 0; start < len(src); {
		end := bytes.IndexByte(src[start:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += start
		}
		line := src[start:end]
		off := 0
		if len(line) > 0 && line[0] == 0x1E {
			off = 1
		}
		if i := skipWS(line, off); i < len(line) {
			root := slot{alive: w.e.rootSet}.scanning(w.scanAll || scalarStart(line[i]))
			// A line is its own document: the walker reads the whole
			// body, so it walks the line in place.
			sub := src[:end]
			if off == 1 && seq {
				// A record: to the next separator.
				sub = src
				if j := bytes.IndexByte(src[end:], 0x1E); j >= 0 {
					sub = src[:end+j]
				}
			}
			w.src = sub
			vEnd, err := w.value(start+i, root)
			w.src = src
			if err != nil {
				return fmt.Errorf("line starting at byte %d: %w", start, err)
			}
			if vEnd > end {
				// A record over several lines ends on a later one.
				if end = bytes.IndexByte(src[vEnd:], '\n'); end < 0 {
					end = len(src)
				} else {
					end += vEnd
				}
			}
			if skipWS(src[:end], vEnd) != end {
				return syntaxErr(src, vEnd, "data after the JSON value on the line")
			}
		}
		start = end + 1
	}
	return nil
}

// boundaryEscape returns the length of the script's hex escape at src[i]
// (\uXXXX, \u{…}, \xHH) when it stands for a character that is no part
// of a value (not a letter or a digit, nor one of the characters values
// are written with), else 0. (Octal and control escapes are not: in a
// page, where backslashes are not escapes, D:\exports\13812345678 shows
// the digits after the backslash.)
func boundaryEscape(src []byte, i int) int {
	if src[i] != '\\' || i+1 >= len(src) || src[i+1] != 'u' && src[i+1] != 'x' {
		return 0
	}
	r, n := escapeAt(src, i)
	if n == 0 || r < 0 || r == noRune {
		return 0
	}
	switch {
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return 0
	case r == '@' || r == '.' || r == '-' || r == '_' || r == '+' || r == '%':
		return 0
	}
	return n
}

// scriptEscapesPageEscape reports whether src holds a script's escape of
// an '&' or a '%', or of a reference's '#' or ';' (\u0026, \x26, \u{26},
// octal \46, \&, \#, any form escapeAt reads), also after an escaped backslash: "\\u0026" is \u0026 to the
// script, which JSON.parse('…') reads as an '&' in turn.
func scriptEscapesPageEscape(src []byte) bool {
	for i := bytes.IndexByte(src, '\\'); i >= 0; {
		if r, n := escapeAt(src, i); n > 0 && (r == '&' || r == '%' || r == '#' || r == ';') {
			return true
		}
		k := bytes.IndexByte(src[i+1:], '\\')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

// text content-scans plain text.
func (w *walker) text(src []byte) {
	levels, mark := 1, len(w.out)
	if jsonScalar(src) {
		i := skipWS(src, bomLen(src))
		if src[i] != '"' || startsJSONQuoted(src[i+1:]) {
			// A JSON number, or JSON in a JSON string: read as a
			// client's JSON.parse reads it, escapes and exponent
			// decoded, and walked.
			w.scanAll = true
			if w.document(src) == nil {
				return
			}
			w.changed, w.last, w.out = false, 0, w.out[:mark]
		} else {
			// A JSON string: read as text (a page shows it as it is,
			// 13010219900&#49;011237 an ID where JSON sees a mobile),
			// and as text JSON.parse gives a script, which may show it
			// in a page or decode it as a link's
			// ("1381234567\u0026#56;" is 1381234567&#56;): its escapes
			// are read twice.
			levels = 2
		}
	} else if scriptEscapesPageEscape(src) {
		// A page whose script data escapes an '&' or a '%' (Go's
		// json.Marshal and Next.js write & as \u0026): the script
		// writes a reference or a percent-escape into the page,
		// "1381234567\u0026#56;" an 8. Its escapes are read twice.
		levels = 3
	}
	w.src = src
	w.fs = w.e.scanner.ScanWith(src, w.fs[:0], &w.ws)
	if w.esc != nil {
		w.esc.first = detectors.Unknown
	}
	out, changed, ok := []byte(nil), false, false
	if mayHoldTextEscape(src) {
		out, changed, ok = w.escapedView(src, detectors.Unknown, levels)
	}
	if !ok {
		if len(w.fs) == 0 {
			return
		}
		out, changed = w.applyFindings(src, w.fs, detectors.Unknown)
	}
	if !changed {
		return
	}
	if levels == 2 && !json.Valid(out) {
		// A view that is no longer the JSON string it was (a value
		// decoded from escapes may hold a quote): redacted whole.
		out = append(redact(append(w.tbuf[:0], '"'), w.wholeType(detectors.Unknown)), '"')
		w.tbuf = out
	}
	w.flush(0)
	w.out = append(w.out, out...)
	w.last = len(src)
}

// mayHoldTextEscape reports whether text may hold an escape that
// decodeTextEscapes decodes: a backslash, an '&', a '%', or a '+' between
// digits in a run of digits long enough for a value (138+1234+5678; not
// the offset in 2024-05-01T08:00:00+08:00).
func mayHoldTextEscape(text []byte) bool {
	// Eight bytes at a time past those that hold none of the four (the
	// common case: most strings hold none), then byte by byte.
	i := 0
	for ; i+8 <= len(text); i += 8 {
		v := binary.LittleEndian.Uint64(text[i:])
		if eqBytes(v, '\\')|eqBytes(v, '&')|eqBytes(v, '%')|eqBytes(v, '+') != 0 {
			break
		}
	}
	for ; i < len(text); i++ {
		switch text[i] {
		case '\\', '&', '%':
			return true
		case '+':
			flag, hi := plusRun(text, i)
			if flag {
				return true
			}
			i = hi - 1 // the rest of its run tells no more
		}
	}
	return false
}

// mayHoldTextEscape is mayHoldTextEscape for text, a string's value: one
// of w.src without escapes (no backslash then) is looked up in escIx.
func (w *walker) mayHoldTextEscape(text []byte) bool {
	doc := w.escDoc
	if len(text) == 0 || len(doc) == 0 {
		return mayHoldTextEscape(text)
	}
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(text))) - uintptr(unsafe.Pointer(unsafe.SliceData(doc))))
	if off < 0 || off > len(doc)-len(text) {
		return mayHoldTextEscape(text) // decoded, or another text
	}
	if !w.escBuilt {
		w.indexEscapes()
	}
	ix := w.esc.ix
	from, to := off, off+len(text)-1
	fb, lb := from>>6, to>>6
	lo := ^uint64(0) << (uint(from) & 63)
	hi := ^uint64(0) >> (63 - uint(to)&63)
	if fb == lb {
		return ix[fb]&lo&hi != 0
	}
	if ix[fb]&lo != 0 || ix[lb]&hi != 0 {
		return true
	}
	for b := fb + 1; b < lb; b++ {
		if ix[b] != 0 {
			return true
		}
	}
	return false
}

// indexEscapes builds esc.ix for escDoc: where an '&' or a '%' is, and a
// '+' that mayHoldTextEscape would read as a space. A backslash is not
// marked: a string that holds one is decoded, and its text is not in the
// document.
func (w *walker) indexEscapes() {
	src, es := w.escDoc, w.scratch()
	n := (len(src) + 63) / 64
	if cap(es.ix) < n {
		es.ix = make([]uint64, n)
	}
	ix := es.ix[:n]
	clear(ix)
	es.ix, w.escBuilt = ix, true
	full := len(src) / 64
	if cap(es.marks) < 2*full {
		es.marks = make([]uint64, 2*full)
	}
	marks := es.marks[:2*full]
	escapeMarks(src[:full*64], marks)
	skip := 0 // the end of the last run of digits and '+' read
	plus := func(i int) {
		if i >= skip {
			var flag bool
			if flag, skip = plusRun(src, i); flag {
				ix[i>>6] |= 1 << (uint(i) & 63)
			}
		}
	}
	for b := range full {
		ix[b] = marks[2*b]
		for p := marks[2*b+1]; p != 0; p &= p - 1 {
			plus(b*64 + bits.TrailingZeros64(p))
		}
	}
	for i := full * 64; i < len(src); i++ {
		switch src[i] {
		case '&', '%':
			ix[i>>6] |= 1 << (uint(i) & 63)
		case '+':
			plus(i)
		}
	}
}

// plusRun reads the run of digits and '+' around the '+' at text[i] and
// reports whether mayHoldTextEscape must look at it, and where the run
// ends: a '+' in it stands for a space between digits (plusBetweenDigits)
// next to an escape or a full-width digit, or between two ASCII digits of
// a run long enough for a value (138+1234+5678; not the offset in
// 2024-05-01T08:00:00+08:00). Each run is read once.
func plusRun(text []byte, i int) (bool, int) {
	// A run holds ASCII digits, full-width ones (EF BC 90–99) and '+'.
	fullWidthAt := func(j int) bool {
		return j >= 0 && j+2 < len(text) && text[j] == 0xEF && text[j+1] == 0xBC && text[j+2] >= 0x90 && text[j+2] <= 0x99
	}
	lo, hi := i, i
	for lo > 0 {
		if isDigit(text[lo-1]) || text[lo-1] == '+' {
			lo--
		} else if fullWidthAt(lo - 3) {
			lo -= 3
		} else {
			break
		}
	}
	for hi < len(text) {
		if isDigit(text[hi]) || text[hi] == '+' {
			hi++
		} else if fullWidthAt(hi) {
			hi += 3
		} else {
			break
		}
	}
	digits, joins := 0, false
	for j := lo; j < hi; j++ {
		switch {
		case isDigit(text[j]):
			digits++
		case text[j] == '+':
			if plusBetweenDigits(text, j) {
				if j == lo || j == hi-1 {
					return true, hi // an escape beside it
				}
				joins = true
			}
		case fullWidthAt(j):
			digits++
			j += 2
		}
	}
	return joins && digits >= minPlusRun, hi
}

// minPlusRun is the fewest digits a run of digits and '+' must hold for
// its '+' to be read as spaces: the shortest value the detectors find in
// digits with separators (a birth date, 1990+01+01) has eight.
const minPlusRun = 6

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// escSpan is a value escapedView found: where in the text, its decoded
// characters, its type.
type escSpan struct {
	start, end int
	value      []byte
	t          detectors.Type
}

// escapedView is the view of text (a script, a page, a string's value)
// whose escapes of a script, a page or a link (decodeTextEscapes) hide
// values from the detectors: a value found only with them decoded is
// replaced, escapes and all, by its view of the decoded value; values the
// plain scan found (w.fs) are rewritten as usual. Values of the type whole
// (the type of the value text is, if any) were counted with it. ok is
// false, and nothing done, when decoding finds nothing more; the view is
// in w.tbuf.
func (w *walker) escapedView(src []byte, whole detectors.Type, levels int) (view []byte, changed, ok bool) {
	spans, ok := w.escSpans(src, levels)
	es := w.esc
	defer func() { es.spans = spans[:0] }()
	if !ok {
		return nil, false, false
	}
	return w.applySpans(src, spans, whole)
}

// escSpans returns the values found in src (the plain scan's, w.fs, and
// each decoded reading's, in src's offsets, a span extended over the
// escapes it starts or ends in), and false when the decoded readings find
// nothing the plain scan did not (nor cut an escape): the caller then
// applies the plain findings itself. The spans are in es.spans's storage.
func (w *walker) escSpans(src []byte, levels int) ([]escSpan, bool) {
	es := w.scratch()
	te, tj := &es.te, &es.tj
	te.decode(src)
	// (tp and tp2 are read below only where they were decoded for src.)
	es.tp.plusSpace, es.tp2.plusSpace = false, false
	tj.decoded = false
	switch {
	case levels > 2:
		// A page's script: its escapes as the script decodes them
		// (\x26 too), then a page's on what it writes.
		tj.decodeScript(src)
	case levels > 1:
		tj.decodeJSON(src)
	}
	spans := es.spans[:0]
	if len(te.esc) == 0 && !tj.decoded {
		return spans, false
	}
	cut := false
	for _, f := range w.fs {
		s, e := outsideEscapes(te.esc, f.Start, f.End)
		if tj.decoded {
			s, e = outsideEscapes(tj.esc, s, e)
		}
		cut = cut || s != f.Start || e != f.End
		if s < f.Start {
			if n := boundaryEscape(src, s); n > 0 && s+n < e {
				// It starts in a script's hex escape of a character
				// no value holds, whose letters the scan took for the
				// value's (the '>' of \u003ezhang@…): the value
				// starts after it, and masking from the escape would
				// take the page's markup with it.
				s = s + n
			}
		}
		if s < e {
			spans = append(spans, escSpan{s, e, src[s:e], f.Type})
		}
	}
	more := false
	// The plain scan's spans and each decoded scan's come in order of
	// their starts: a decoded value that is a plain one (the same span
	// and type) is found by walking both lists once.
	plain, k := len(spans), 0
	add := func(sp escSpan) {
		// A reading that leaves some escapes as they are written (a
		// page's alone) may find a value that starts or ends inside one
		// (\nxxbm@…): it takes the whole escape in.
		sp.start, sp.end = outsideEscapes(te.esc, sp.start, sp.end)
		if tj.decoded {
			sp.start, sp.end = outsideEscapes(tj.esc, sp.start, sp.end)
		}
		for k < plain && spans[k].start < sp.start {
			k++
		}
		for j := k; j < plain && spans[j].start == sp.start; j++ {
			if spans[j].end == sp.end && spans[j].t == sp.t {
				return // the plain scan's own
			}
		}
		spans = append(spans, sp)
		more = true
	}
	// read adds what the detectors find in a reading t of src, or of
	// base.dec (a reading of src) when base is not nil.
	read := func(t, base *textEscapes) {
		k = 0
		es.fs2 = w.e.scanner.ScanWith(t.dec, es.fs2[:0], &w.ws)
		for _, f := range es.fs2 {
			s, e := int(t.offs[f.Start]), int(t.offs[f.End])
			if base != nil {
				s, e = int(base.offs[s]), int(base.offs[e])
			}
			add(escSpan{s, e, t.dec[f.Start:f.End], f.Type})
		}
	}
	if te.decoded {
		// The escapes of a script, a page and a link, decoded.
		read(te, nil)
		if tp := &es.tp; te.slashes && te.pages {
			// A page's or a link's escapes alone, a script's left as
			// they are written: a page showing the text shows
			// "1865557058&#57;\uff21" as a mobile and an escape.
			if tp.decodePage(src); tp.decoded {
				read(tp, nil)
			}
		}
		// The '+' read otherwise (plusReadings).
		es.plusOut = es.plus.decode(src, te, es.tp.plusSpace, es.plusOut[:0])
		for _, t := range es.plusOut {
			read(t, nil)
		}
	}
	if tj.decoded {
		// What JSON.parse gives a script ("13812345678%31\n" holds a
		// mobile there, and 138123456781 with its escapes decoded)…
		read(tj, nil)
		// …and what a page or a link shows of that ("\u0026#56;" is
		// "&#56;", an 8; "&#5\u0034;" is "&#54;").
		if te2 := &es.te2; mayHoldTextEscape(tj.dec) {
			if te2.decode(tj.dec); te2.decoded {
				read(te2, tj)
			}
			if tp2 := &es.tp2; te2.slashes && te2.pages {
				// …and a page's escapes alone on it
				// ("1572252969\u0026#50;\\Users" gives 1572252969&#50;\Users).
				if tp2.decodePage(tj.dec); tp2.decoded {
					read(tp2, tj)
				}
			}
			es.plusOut = es.plus2.decode(tj.dec, te2, es.tp2.plusSpace, es.plusOut[:0])
			for _, t := range es.plusOut {
				read(t, tj)
			}
		}
	}
	if !more && !cut {
		return spans, false
	}
	slices.SortFunc(spans, func(a, b escSpan) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return b.end - a.end
	})
	return spans, true
}

// applySpans counts the values escSpans found in src (a value read two
// ways, overlapping, once) and returns the view: each replaced, escapes
// and all, by its view; in w.tbuf.
func (w *walker) applySpans(src []byte, spans []escSpan, whole detectors.Type) (view []byte, changed, ok bool) {
	w.scratch().first = detectors.Unknown
	out := w.tbuf[:0]
	prev, mark, changed := 0, 0, false
	var last detectors.Type
	// The values counted so far, by type and end: a span of the same type
	// overlapping one of them is the same value read two ways (plainly
	// and with escapes decoded, or split by a '+'), counted once.
	// (Spans come in order of their starts: the last value of a type is
	// the only one a span can overlap.)
	var lastEnd [detectors.NumBuiltin]int
	var customEnd map[detectors.Type]int
	for _, sp := range spans {
		act := w.d.Action(sp.t)
		var end int
		if int(sp.t) < len(lastEnd) {
			end = lastEnd[sp.t]
		} else {
			end = customEnd[sp.t] // (a nil map reads as empty)
		}
		if sp.start >= end && sp.t != whole {
			w.record(sp.t, act)
		}
		if end = max(end, sp.end); int(sp.t) < len(lastEnd) {
			lastEnd[sp.t] = end
		} else {
			if customEnd == nil {
				customEnd = map[detectors.Type]int{}
			}
			customEnd[sp.t] = end
		}
		if act == config.Plain {
			continue // shown as it is
		}
		if sp.start < prev {
			// Overlapping the one before (the plain and the decoded
			// scans read the text differently): the two are redacted
			// as one.
			if sp.end > prev {
				out = redact(out[:mark], last)
				prev = sp.end
			}
			continue
		}
		if !changed {
			w.esc.first = sp.t
		}
		changed = true
		out = append(out, src[prev:sp.start]...)
		mark = len(out)
		var err error
		if out, err = w.e.act.applyFound(out, sp.t, act, sp.value); err != nil {
			out = redact(out[:mark], sp.t)
		}
		prev, last = sp.end, sp.t
	}
	if !changed {
		return nil, false, true
	}
	out = append(out, src[prev:]...)
	w.tbuf = out
	return out, true, true
}

// scratch returns the walker's escScratch.
func (w *walker) scratch() *escScratch {
	if w.esc == nil {
		w.esc = new(escScratch)
	}
	return w.esc
}
