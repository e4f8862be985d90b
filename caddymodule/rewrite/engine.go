// Package rewrite is piigate's JSON rewrite engine: one pass over a
// response body that finds personal data by field rules, key names and
// content detectors, decides per value what the agent's roles may see, and
// writes the agent's view, copying untouched bytes as they are. It also
// handles NDJSON, server-sent events and plain text. It does not import
// Caddy.
package rewrite

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/piigate/piigate/config"
	"github.com/piigate/piigate/detectors"
)

// MaxFieldRules bounds the field rules of one route (they are tracked as
// bits of a word while walking).
const MaxFieldRules = 64

// DefaultMaxDepth is the nesting depth past which a document is refused.
const DefaultMaxDepth = 128

// MaxMaxDepth bounds Options.MaxDepth: the walker recurses once per level,
// and a depth the goroutine's stack cannot hold would crash the process.
const MaxMaxDepth = 10000

// ErrTooDeep is returned for documents nested deeper than the limit.
var ErrTooDeep = errors.New("JSON nested too deeply")

// ErrEmbeddedJSON reports an event's data that is not JSON but holds a
// JSON record inside other text (Options.RefuseTextJSON).
var ErrEmbeddedJSON = errors.New("JSON inside text that is not JSON")

// HoldsJSON reports whether text holds the start of a JSON object or
// array with a string in it ({" or ["), as a framed record does.
func HoldsJSON(text []byte) bool {
	return bytes.Contains(text, []byte(`{"`)) || bytes.Contains(text, []byte(`["`))
}

// ErrTooLarge is returned for a document of 2 GiB or more (the walker keeps
// offsets in 32 bits; a gateway's body limit is far below).
var ErrTooLarge = errors.New("document too large for the rewrite engine")

// Options configures an Engine.
type Options struct {
	// Route holds the route's field rules and scan mode.
	Route *config.CompiledRoute
	// Table is the compiled policy: masks and custom types.
	Table *config.Table
	// HashKey keys the hash action's HMAC; without it, hash redacts.
	HashKey []byte
	// Tokenizer implements the tokenize action; without it, tokenize
	// redacts.
	Tokenizer Tokenizer
	// MaxDepth bounds nesting (DefaultMaxDepth if zero).
	MaxDepth int
	// RefuseTextJSON refuses an event's data that is not JSON but holds
	// JSON's start ({" or ["): a record inside a framing (a SockJS or
	// Socket.IO frame) whose keys could not type its values
	// (ErrEmbeddedJSON).
	RefuseTextJSON bool
}

// Engine rewrites documents for one route. It is safe for concurrent use.
type Engine struct {
	route    *config.CompiledRoute
	scanner  *detectors.Scanner
	act      *actor
	maxDepth int
	rootSet  uint64
	// refuseTextJSON: Options.RefuseTextJSON.
	refuseTextJSON bool
	depths         []depthIndex // the field rules' components, by depth
	// rulePaths are the paths, as summaries write them, of the values
	// field rules type, for rules that match one path only.
	rulePaths []rulePath
	// slow turns the walker's shortcuts off: tests compare the two.
	slow    bool
	walkers sync.Pool
	keys    keyCache              // what each key names, and whether it is clean
	paths   cache[uint64, string] // path strings by hash, shared by all summaries
}

// New returns an Engine for o.
func New(o Options) (*Engine, error) {
	if o.Route == nil || o.Table == nil {
		return nil, errors.New("rewrite: route and table are required")
	}
	if len(o.Route.Fields) > MaxFieldRules {
		return nil, fmt.Errorf("rewrite: %d field rules, at most %d per route", len(o.Route.Fields), MaxFieldRules)
	}
	sc, err := detectors.NewScanner(detectors.Options{Custom: o.Table.Custom(), NoConfidence: true})
	if err != nil {
		return nil, err
	}
	e := &Engine{
		route:          o.Route,
		scanner:        sc,
		act:            newActor(o.Table, o.HashKey, o.Tokenizer),
		maxDepth:       o.MaxDepth,
		refuseTextJSON: o.RefuseTextJSON,
	}
	if e.maxDepth <= 0 {
		e.maxDepth = DefaultMaxDepth
	}
	if e.maxDepth > MaxMaxDepth {
		return nil, fmt.Errorf("max_depth %d: at most %d", o.MaxDepth, MaxMaxDepth)
	}
	for i, f := range o.Route.Fields {
		e.rootSet |= 1 << i
		for d, c := range f.Path {
			for len(e.depths) <= d {
				e.depths = append(e.depths, depthIndex{})
			}
			x := &e.depths[d]
			bit := uint64(1) << i
			switch {
			case c.AnyIndex:
				x.any |= bit
				// gjson reads # on an object as the key "#".
				x.keys.add("#", bit)
			case c.Wild:
				x.wild |= bit
			default:
				x.keys.add(c.Key, bit)
				switch {
				case c.Index >= denseIndexes:
					// A key of digits that is large (an ID, a date, a
					// mobile keying an object): looked up, not laid out.
					if x.far == nil {
						x.far = map[int]uint64{}
					}
					x.far[c.Index] |= bit
				case c.Index >= 0:
					for len(x.index) <= c.Index {
						x.index = append(x.index, 0)
					}
					x.index[c.Index] |= bit
				}
			}
			if d == len(f.Path)-1 {
				x.last |= bit
			}
		}
	}
	for d := range e.depths {
		x := &e.depths[d]
		for i := range x.keys.entries {
			ke := &x.keys.entries[i]
			ke.slot = e.ruleSlot(x, ke.rules)
		}
	}
	e.rulePaths = make([]rulePath, len(o.Route.Fields))
	for i, f := range o.Route.Fields {
		e.rulePaths[i] = fixedPath(f.Path)
	}
	e.walkers.New = func() any { return &walker{e: e} }
	return e, nil
}

// depthIndex says which field rules a key or an array index matches at one
// depth, so a member costs a map lookup, not a match per rule.
type depthIndex struct {
	keys  keyTable       // rules whose component is a literal key
	index []uint64       // rules whose component is an array index, by index below denseIndexes
	far   map[int]uint64 // the same for larger indexes
	wild  uint64         // rules with a wildcard key: matched one by one
	any   uint64         // rules with #: every element
	last  uint64         // rules that end at this depth
}

// denseIndexes bounds the array indexes depthIndex lays out in a slice.
const denseIndexes = 1024

// ruleSlot returns the slot of a value, in an untyped and unscanned
// container at the depth of x, that the field rules cand reach: the first
// rule (in configuration order) that ends there types it, scan rules add
// content detection, the others go on below.
func (e *Engine) ruleSlot(x *depthIndex, cand uint64) slot {
	cs := slot{alive: cand &^ x.last}
	for set := cand & x.last; set != 0; set &= set - 1 {
		f := &e.route.Fields[bits.TrailingZeros64(set)]
		if f.ScanContent {
			cs = cs.scanning(true)
		} else if cs.prio() < prioField {
			cs = cs.withRule(f.Type, bits.TrailingZeros64(set))
		}
	}
	return cs
}

// keyTable maps the literal keys of one depth to the rules they match: an
// open-addressing table hashed on a key's length and first eight bytes,
// which also decide most comparisons, cheaper than a map for the handful
// of keys of an API.
type keyTable struct {
	entries []keyEntry
	slots   []uint16 // index+1 into entries; 0 is empty
	shift   uint8
}

type keyEntry struct {
	head  uint64 // the first eight bytes, zero-padded
	key   string
	rules uint64
	// slot is the slot of a member with this key when all of rules are
	// live, no wildcard rule is, and the object is neither typed nor
	// scanned: child's result, worked out once.
	slot slot
}

// keyHead returns the first eight bytes of k, zero-padded, reading eight
// bytes at once when k's capacity allows (k is usually a slice of the
// document).
func keyHead(k []byte) uint64 {
	if cap(k) >= 8 {
		v := binary.LittleEndian.Uint64(k[:8:8])
		if len(k) >= 8 {
			return v
		}
		return v & (1<<(8*uint(len(k))) - 1)
	}
	var v uint64
	for i := len(k) - 1; i >= 0; i-- {
		v = v<<8 | uint64(k[i])
	}
	return v
}

func keyHash(head uint64, n int, shift uint8) uint32 {
	return uint32((head^uint64(n))*0x9E3779B97F4A7C15>>32) >> shift
}

func (t *keyTable) add(k string, bit uint64) {
	for i := range t.entries {
		if t.entries[i].key == k {
			t.entries[i].rules |= bit
			return
		}
	}
	t.entries = append(t.entries, keyEntry{head: keyHead([]byte(k)), key: k, rules: bit})
	t.slots, t.shift = keySlots(len(t.entries), func(i int) (uint64, int) { return t.entries[i].head, len(t.entries[i].key) })
}

// keySlots builds the open-addressing slots, at a load of at most a half,
// of n keys whose head and length key returns; keyTable and keyCache share
// it, and each keeps its own lookup loop, specialised to its entries.
func keySlots(n int, key func(i int) (head uint64, length int)) ([]uint16, uint8) {
	size := 16
	for size < 2*n {
		size *= 2
	}
	slots := make([]uint16, size)
	shift := uint8(32 - bits.TrailingZeros(uint(size)))
	for i := 0; i < n; i++ {
		head, length := key(i)
		h := keyHash(head, length, shift)
		for slots[h] != 0 {
			h = (h + 1) & uint32(size-1)
		}
		slots[h] = uint16(i + 1)
	}
	return slots, shift
}

// get returns the entry of the literal key k, or nil.
func (t *keyTable) get(k []byte) *keyEntry {
	if len(t.entries) == 0 {
		return nil
	}
	head := keyHead(k)
	mask := uint32(len(t.slots) - 1)
	for h := keyHash(head, len(k), t.shift); ; h = (h + 1) & mask {
		i := t.slots[h]
		if i == 0 {
			return nil
		}
		e := &t.entries[i-1]
		if e.head == head && len(e.key) == len(k) && (len(k) <= 8 || e.key[8:] == view(k[8:])) {
			return e
		}
	}
}

// keyCache is the engine's memory of object keys: like cache, a table
// replaced whole on insert so that lookups take no lock, but hashed and
// compared like keyTable (length and first eight bytes), which costs a
// fraction of a map lookup.
type keyCache struct {
	t atomic.Pointer[keyCacheTable]
}

type keyCacheTable struct {
	entries []keyCacheEntry
	slots   []uint16 // index+1 into entries; 0 is empty
	shift   uint8
}

type keyCacheEntry struct {
	head uint64
	key  string
	info keyInfo
}

func (c *keyCache) get(k []byte) (keyInfo, bool) {
	t := c.t.Load()
	if t == nil {
		return keyInfo{}, false
	}
	head := keyHead(k)
	mask := uint32(len(t.slots) - 1)
	for h := keyHash(head, len(k), t.shift); ; h = (h + 1) & mask {
		i := t.slots[h]
		if i == 0 {
			return keyInfo{}, false
		}
		e := &t.entries[i-1]
		if e.head == head && len(e.key) == len(k) && (len(k) <= 8 || e.key[8:] == view(k[8:])) {
			return e.info, true
		}
	}
}

func (c *keyCache) put(k string, info keyInfo) {
	old := c.t.Load()
	var entries []keyCacheEntry
	if old != nil {
		if len(old.entries) >= maxCache {
			return
		}
		entries = append(make([]keyCacheEntry, 0, len(old.entries)+1), old.entries...)
	}
	for _, e := range entries {
		if e.key == k {
			return // another request put it first
		}
	}
	entries = append(entries, keyCacheEntry{head: keyHead([]byte(k)), key: k, info: info})
	t := &keyCacheTable{entries: entries}
	t.slots, t.shift = keySlots(len(entries), func(i int) (uint64, int) { return entries[i].head, len(entries[i].key) })
	c.t.Store(t)
}

// maxCache bounds each cache; values past it are worked out each time.
const maxCache = 4096

// cache is a bounded copy-on-write map: the keys of an API are few and
// repeat in every record, so reads (every key of every response) take no
// lock and writes (once per new key) copy the map.
type cache[K comparable, V any] struct {
	m atomic.Pointer[map[K]V]
}

func (c *cache[K, V]) get(k K) (V, bool) {
	if m := c.m.Load(); m != nil {
		v, ok := (*m)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

func (c *cache[K, V]) put(k K, v V) {
	var old map[K]V
	if m := c.m.Load(); m != nil {
		old = *m
	}
	if len(old) >= maxCache {
		return
	}
	n := make(map[K]V, len(old)+1)
	for key, val := range old {
		n[key] = val
	}
	n[k] = v
	c.m.Store(&n)
}

// view returns b as a string without copying, for map lookups only.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// keyInfo is what the engine knows of an object key.
type keyInfo struct {
	names detectors.Type // the entity type the key names, or Unknown
	clean bool           // the detectors find nothing in the key itself
}

// key returns what key names, and whether the detectors find nothing in
// it, from one lookup for a key seen before.
func (e *Engine) key(k []byte) keyInfo {
	if ki, ok := e.keys.get(k); ok {
		return ki
	}
	var ws detectors.Workspace
	t, _ := detectors.ClassifyField(view(k))
	ki := keyInfo{names: t, clean: len(e.scanner.ScanWith(k, nil, &ws)) == 0}
	if ki.clean && mayHoldTextEscape(k) {
		// Nor with a page's and a link's escapes decoded
		// ({"1381234567&#56;": …}), nor with those alone where a
		// script's are there too ({"C:\\uploads\\1597194377%35.jpg": …}).
		if te := decodeTextEscapes(k); te.decoded {
			ki.clean = len(e.scanner.ScanWith(te.dec, nil, &ws)) == 0
			var tp textEscapes
			if ki.clean && te.slashes && te.pages {
				if tp.decodePage(k); tp.decoded {
					ki.clean = len(e.scanner.ScanWith(tp.dec, nil, &ws)) == 0
				}
			}
			// And with its '+' read otherwise.
			var pr plusReadings
			var buf [len(pr)]*textEscapes
			if ki.clean {
				for _, t := range pr.decode(k, &te, tp.plusSpace, buf[:0]) {
					if ki.clean = len(e.scanner.ScanWith(t.dec, nil, &ws)) == 0; !ki.clean {
						break
					}
				}
			}
		}
	}
	if ki.clean {
		// A key that is personal data ({"13812345678": …}) is not kept.
		e.keys.put(string(k), ki)
	}
	return ki
}

// internPath returns the string for the path built in b (whose hash is h),
// the same string every time, so a summary allocates no path it had before.
func (e *Engine) internPath(h uint64, b []byte) string {
	if p, ok := e.paths.get(h); ok && p == string(b) {
		return p
	}
	p := string(b)
	e.paths.put(h, p)
	return p
}

// Format is the kind of body a rewrite reads.
type Format uint8

// The formats.
const (
	JSON    Format = iota // one JSON document (a BOM and an XSSI prefix allowed)
	NDJSON                // one JSON document per line (also JSON Lines, JSON text sequences)
	Events                // text/event-stream: the data of each event
	Text                  // any other text: content detectors only
	JSONP                 // a JSON object or array passed to a script's callback: cb({…});
	JSONSeq               // a JSON text sequence (RFC 7464): NDJSON whose records, after their separator, may run over lines
)

// Rewrite writes the agent's view of src (in format f) for decision d,
// appended to dst, and records what it did in sum. When nothing changes,
// the result is dst with src appended (or src itself if dst is empty).
// Malformed input and input nested too deeply give an error; the caller
// must then not pass src on.
func (e *Engine) Rewrite(dst, src []byte, f Format, d *config.Decision, sum *Summary) ([]byte, error) {
	return e.rewrite(dst, src, f, d, sum, false)
}

// RewriteScanned is Rewrite with every string and number content-scanned,
// as under scan all, whatever the route's scan mode: for JSON found in a
// body whose type did not say JSON, which would otherwise have been
// content-scanned as text.
func (e *Engine) RewriteScanned(dst, src []byte, f Format, d *config.Decision, sum *Summary) ([]byte, error) {
	return e.rewrite(dst, src, f, d, sum, true)
}

func (e *Engine) rewrite(dst, src []byte, f Format, d *config.Decision, sum *Summary, scanAll bool) ([]byte, error) {
	if len(src) > math.MaxInt32 {
		return dst, ErrTooLarge
	}
	w := e.walkers.Get().(*walker)
	defer e.walkers.Put(w)
	w.reset(d, sum, dst)
	w.scanAll = w.scanAll || scanAll
	var err error
	switch f {
	case JSON:
		err = w.document(src)
	case NDJSON:
		err = w.lines(src, false)
	case JSONSeq:
		err = w.lines(src, true)
	case Events:
		err = w.events(src)
	case Text:
		w.text(src)
	case JSONP:
		start, end, ok := jsonpSpan(src)
		if !ok {
			err = syntaxErr(src, 0, "not a JSONP call")
			break
		}
		// The call's prefix and suffix are copied as they are.
		err = w.documentAt(src[:end], start)
	}
	w.flushPending()
	w.src = nil
	if err != nil {
		return dst, err
	}
	if !w.changed {
		if len(dst) == 0 {
			return src, nil
		}
		return append(dst, src...), nil
	}
	w.src = src
	w.flush(len(src))
	w.src = nil
	sum.Changed = true
	out := w.out
	w.out = nil
	return out, nil
}

// Sniff tells JSON from other text: after a byte-order mark, an XSSI
// prefix and white space, a JSON document starts with { or [. A body that
// is one JSON string or number is Text, which reads it both as JSON and
// as the text it also is (walker.text).
func Sniff(b []byte) Format {
	b = b[bomLen(b):]
	if startsJSON(b[xssiLen(b):]) {
		return JSON
	}
	if _, _, ok := jsonpSpan(b); ok {
		return JSONP
	}
	return Text
}

// IsJSONScalar reports whether b (after a byte-order mark and white space)
// is one JSON string or number.
func IsJSONScalar(b []byte) bool { return jsonScalar(b) }

// jsonScalar reports whether b (after a byte-order mark) is one JSON
// string or number: a client's JSON.parse reads it, escapes and exponent
// decoded, as the rewrite must.
func jsonScalar(b []byte) bool {
	b = b[bomLen(b):]
	i := skipWS(b, 0)
	return i < len(b) && (b[i] == '"' || b[i] == '-' || b[i] >= '0' && b[i] <= '9') && json.Valid(b)
}

// StartsContainer reports whether b, after a byte-order mark and white
// space, starts with a JSON object or array (not a bare string or number).
func StartsContainer(b []byte) bool { return startsJSON(b[bomLen(b):]) }

// startsJSON reports whether b, after white space, starts like a JSON
// object or array: the cheap test before trying to walk it.
func startsJSON(b []byte) bool {
	i := skipWS(b, 0)
	return i < len(b) && (b[i] == '{' || b[i] == '[')
}

func bomLen(b []byte) int {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return 3
	}
	return 0
}

// xssiPrefixes are the anti-hijacking prefixes APIs put before JSON.
var xssiPrefixes = []string{")]}',\n", ")]}'\n", ")]}',", ")]}'", "while(1);", "for(;;);", "{}&&"}

// xssiStatements are the prefixes that are JavaScript statements, which
// APIs also write with white space between their tokens (Facebook's
// "for (;;);").
var xssiStatements = [][]string{{"while", "(", "1", ")", ";"}, {"for", "(", ";", ";", ")", ";"}, {"{", "}", "&&"}}

func xssiLen(b []byte) int {
	for n, toks := range xssiStatements {
		i := 0
		for k, t := range toks {
			if k > 0 {
				i = skipWS(b, i)
			}
			if !hasAt(b, i, t) {
				i = -1
				break
			}
			i += len(t)
		}
		if i > 0 && n == 2 {
			// {} && (Spring's prefixJson writes "{} && "): only before
			// an object or array, or it is the JSON itself ({}).
			if j := skipWS(b, i); j >= len(b) || b[j] != '{' && b[j] != '[' {
				i = -1
			}
		}
		if i > 0 {
			return i
		}
	}
	for _, p := range xssiPrefixes {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			if p == "{}&&" && len(b) > len(p) && b[len(p)] != '{' && b[len(p)] != '[' {
				continue
			}
			return len(p)
		}
	}
	return 0
}
