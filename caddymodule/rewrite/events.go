package rewrite

import "bytes"

// events rewrites a text/event-stream body: the data of each event (its
// data lines joined, as a client joins them) is rewritten as JSON when it
// is JSON and content-scanned otherwise; other fields and comments are
// content-scanned. Line endings become \n.
func (w *walker) events(src []byte) error {
	w.src = src
	// A byte-order mark before the first line is dropped by EventSource,
	// which then reads that line as a field: it is copied, and the lines
	// read after it.
	for start := bomLen(src); start < len(src); {
		end := eventEnd(src, start)
		if err := w.event(start, end); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// eventEnd returns the end of the event starting at start: just past the
// blank line that ends it, or the end of src.
func eventEnd(src []byte, start int) int {
	for i := start; i < len(src); {
		e, next := lineEnd(src, i)
		if e == i { // blank line
			return next
		}
		i = next
	}
	return len(src)
}

// lineEnd returns the end of the line at i and the start of the next.
func lineEnd(src []byte, i int) (int, int) {
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '\n':
			return j, j + 1
		case '\r':
			if j+1 < len(src) && src[j+1] == '\n' {
				return j, j + 2
			}
			return j, j + 1
		}
	}
	return len(src), len(src)
}

// event rewrites src[start:end] into w.out when the agent's view differs.
func (w *walker) event(start, end int) error {
	src := w.src
	var data []byte
	ndata := 0
	for i := start; i < end; {
		e, next := lineEnd(src, i)
		if line := src[i:e]; bytes.HasPrefix(line, []byte("data")) && (len(line) == 4 || line[4] == ':') {
			v := fieldValue(line)
			if ndata > 0 {
				data = append(data, '\n')
			}
			data = append(data, v...)
			ndata++
		}
		i = next
	}
	var newData []byte
	if ndata > 0 {
		f := Sniff(data)
		if scalar := f == Text && jsonScalar(data); f == JSON || scalar {
			n := w.e.walkers.Get().(*walker)
			defer w.e.walkers.Put(n)
			n.reset(w.d, w.sum, n.own[:0])
			defer func() { n.own = n.out }()
			// Data that is one JSON string or number is content-scanned
			// as other data is, decoded as the client decodes it, and as
			// the text it also is (text).
			n.scanAll = n.scanAll || w.scanAll
			var err error
			if scalar {
				n.text(data)
			} else {
				err = n.document(data)
			}
			n.flushPending() // its counts, before the walker goes back
			if err != nil {
				return err
			}
			if n.changed {
				n.flush(len(data))
				newData = n.out
			}
		} else if w.e.refuseTextJSON && HoldsJSON(data) {
			return ErrEmbeddedJSON
		} else if out, changed, err := w.scanText(data, slot{}.scanning(true)); err != nil {
			return err
		} else if changed {
			newData = append([]byte(nil), out...)
		}
	}

	var ev []byte
	changed := newData != nil
	wroteData := false
	for i := start; i < end; {
		e, next := lineEnd(src, i)
		line := src[i:e]
		i = next
		switch {
		case len(line) == 0:
			ev = append(ev, '\n')
		case bytes.HasPrefix(line, []byte("data")) && (len(line) == 4 || line[4] == ':'):
			if newData == nil {
				ev = append(ev, line...)
				ev = append(ev, '\n')
				continue
			}
			if !wroteData {
				for _, l := range bytes.Split(newData, []byte("\n")) {
					ev = append(ev, "data: "...)
					ev = append(ev, l...)
					ev = append(ev, '\n')
				}
				wroteData = true
			}
		default:
			out, lineChanged, err := w.scanText(line, slot{}.scanning(true))
			if err != nil {
				return err
			}
			if lineChanged {
				changed = true
				line = out
			}
			ev = append(ev, line...)
			ev = append(ev, '\n')
		}
	}
	if !changed {
		return nil
	}
	w.flush(start)
	w.out = append(w.out, ev...)
	w.last = end
	return nil
}

// fieldValue returns an event-stream field's value: after the colon and
// one optional space.
func fieldValue(line []byte) []byte {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return nil
	}
	v := line[i+1:]
	if len(v) > 0 && v[0] == ' ' {
		v = v[1:]
	}
	return v
}
