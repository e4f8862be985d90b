package detectors

// runCustom adds the matches of the admin-defined detectors. A custom match
// that overlaps a finding keeps its place only when it is longer.
func (st *scan) runCustom() {
	s := st.s
	for _, d := range st.sc.custom {
		for _, m := range d.re.FindAllStringIndex(s, -1) {
			a, b := m[0], m[1]
			if isWordAt(s, a) && isWordBefore(s, a) || isWordBefore(s, b) && isWordAt(s, b) {
				continue
			}
			if d.valid != nil && !d.valid(s[a:b]) {
				continue
			}
			st.insert(Finding{Type: d.t, Start: a, End: b, Confidence: confStrong})
		}
	}
}

// insert places f among the sorted, non-overlapping findings after st.base,
// replacing the findings it overlaps if it is longer than each of them.
func (st *scan) insert(f Finding) {
	lo := st.base
	for lo < len(st.out) && st.out[lo].End <= f.Start {
		lo++
	}
	hi := lo
	for ; hi < len(st.out) && st.out[hi].Start < f.End; hi++ {
		if o := st.out[hi]; o.End-o.Start >= f.End-f.Start {
			return
		}
	}
	if hi-lo == 1 {
		st.out[lo] = f
		return
	}
	tail := append([]Finding{f}, st.out[hi:]...)
	st.out = append(st.out[:lo], tail...)
}
