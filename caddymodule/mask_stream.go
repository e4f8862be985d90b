package caddymodule

import (
	"bytes"
	"errors"

	"github.com/piigate/piigate/caddymodule/rewrite"
)

// streamer rewrites a streamed body (NDJSON, server-sent events) unit by
// unit as it arrives: each complete line or event is rewritten and written
// at once, so the stream keeps flowing; an incomplete one waits for the
// rest. A unit that cannot be rewritten, or grows past max_body, ends the
// stream: with the header already sent, the connection is cut rather than
// the unit passed on.
type streamer struct {
	mw      *maskWriter
	pending []byte
	out     []byte
	started bool // a first unit was emitted
	// Where the event-stream search stands at the end of pending: inside
	// a line (not at its start), and just after a CR that ended one (a
	// LF then completes that CRLF).
	midLine, afterCR bool
	// A JSON text sequence (RFC 7464), whose records may run over
	// several lines: where the search stands, the depth of brackets and
	// whether inside a string (after a backslash) at the end of pending.
	seq           bool
	depth         int
	inStr, escape bool
	// dec undoes the stream's content coding as it arrives (nil for an
	// uncoded stream).
	dec *streamDecoder
}

func newStreamer(mw *maskWriter) *streamer {
	return &streamer{mw: mw, seq: mw.format == rewrite.JSONSeq}
}

func (s *streamer) write(p []byte) (int, error) {
	if s.dec != nil {
		if err := s.dec.feed(p); err != nil {
			s.codingFailed(err)
			return 0, err
		}
		return len(p), nil
	}
	return s.writeDecoded(p)
}

// writeDecoded takes the stream's (decoded) bytes: complete units go out.
func (s *streamer) writeDecoded(p []byte) (int, error) {
	from := len(s.pending) // pending holds no complete unit before from
	s.pending = append(s.pending, p...)
	if int64(len(s.pending)) > s.mw.m.MaxBody {
		s.refuse(reasonTooLarge)
		return 0, errRefused
	}
	if cut := s.boundary(from); cut > 0 {
		if err := s.emit(s.pending[:cut]); err != nil {
			return 0, err
		}
		s.pending = append(s.pending[:0], s.pending[cut:]...)
	}
	return len(p), nil
}

// boundary returns the end of the last complete unit in pending, or 0. A
// unit's end is decided by the bytes up to it, and pending holds no
// complete unit before from (the bytes before it were searched when they
// came): only the new bytes are searched, so a long unit that arrives in
// many writes costs time in proportion to its length, not to its square.
func (s *streamer) boundary(from int) int {
	if s.seq {
		return s.seqBoundary(from)
	}
	if s.mw.format == rewrite.NDJSON {
		if i := bytes.LastIndexByte(s.pending[from:], '\n'); i >= 0 {
			return from + i + 1
		}
		return 0
	}
	// An event ends with a blank line. Lines end with CRLF, LF or CR, as
	// EventSource reads them (data: a\n\r is a whole event): followed
	// byte by byte, from where the last search stopped.
	cut := 0
	for i := from; i < len(s.pending); i++ {
		c := s.pending[i]
		if s.afterCR {
			s.afterCR = false
			if c == '\n' {
				continue // the LF of a CRLF whose CR ended the line
			}
		}
		if c != '\n' && c != '\r' {
			s.midLine = true
			continue
		}
		blank := !s.midLine
		s.midLine = false
		s.afterCR = c == '\r'
		if blank {
			cut = i + 1
			if s.afterCR && cut < len(s.pending) && s.pending[cut] == '\n' {
				cut++ // the event's CRLF, whole
				s.afterCR = false
				i++
			}
		}
	}
	return cut
}

// seqBoundary is boundary for a JSON text sequence: a line ending
// outside every bracket and string ends the record (a pretty-printed
// record's inner lines do not); a record separator starts one, and ends
// the one before it, complete or not (an incomplete one is refused).
func (s *streamer) seqBoundary(from int) int {
	cut := 0
	for i := from; i < len(s.pending); i++ {
		c := s.pending[i]
		if s.inStr && c != 0x1E {
			switch {
			case s.escape:
				s.escape = false
			case c == '\\':
				s.escape = true
			case c == '"':
				s.inStr = false
			}
			continue
		}
		switch c {
		case '"':
			s.inStr = true
		case '{', '[':
			s.depth++
		case '}', ']':
			s.depth--
		case '\n':
			if s.depth <= 0 {
				cut = i + 1
			}
		case 0x1E:
			if s.depth != 0 || s.inStr {
				cut = i // the record before it ends here, cut short
			}
			s.depth, s.inStr, s.escape = 0, false, false
		}
	}
	return cut
}

// refuse records the stream refused for reason (its header went out: the
// connection is cut).
func (s *streamer) refuse(reason string) {
	s.mw.refuse(reason)
	s.mw.out.Result, s.mw.out.Reason = resultRefused, reason
	s.mw.m.metrics.refused(reason)
}

// codingFailed records a decoder's error, unless the unit it decoded was
// refused already or the error was the agent's way (the agent gone).
func (s *streamer) codingFailed(err error) {
	if s.mw.out.Result != resultRefused && !errors.As(err, new(outError)) {
		s.refuse(reasonEncoding)
	}
}

func (s *streamer) emit(unit []byte) error {
	if !s.started {
		s.started = true
		// EventSource drops a byte-order mark at the stream's start, and
		// reads the line after it as it would without: so does the
		// rewrite (it is passed on as it came).
		if bytes.HasPrefix(unit, []byte("\xFF\xFE")) || bytes.HasPrefix(unit, []byte("\xFE\xFF")) {
			// A UTF-16 byte-order mark: clients that sniff it read text
			// the rewrite cannot (as a buffered body, refused).
			s.refuse(reasonUninspectable)
			return errors.New("a UTF-16 byte-order mark at the stream's start")
		}
		if bom := []byte("\xEF\xBB\xBF"); bytes.HasPrefix(unit, bom) {
			if _, err := s.mw.w.Write(bom); err != nil {
				return err
			}
			unit = unit[len(bom):]
		}
	}
	view, err := s.mw.m.engine.Rewrite(s.out[:0], unit, s.mw.format, s.mw.d, &s.mw.out.Summary)
	if err != nil {
		reason := reasonMalformed
		switch {
		case errors.Is(err, rewrite.ErrTooDeep):
			reason = reasonTooDeep
		case errors.Is(err, rewrite.ErrEmbeddedJSON):
			reason = reasonDataFormat
		}
		s.refuse(reason)
		return err
	}
	if len(unit) > 0 && &view[0] != &unit[0] {
		s.out = view[:0]
	}
	_, err = s.mw.w.Write(view)
	return err
}

// flush has nothing of its own to send: complete units go out as they
// arrive.
func (s *streamer) flush() error { return nil }

// close rewrites what is left: a last line without its line ending.
func (s *streamer) close() error {
	if s.dec != nil {
		if err := s.dec.close(); err != nil {
			s.codingFailed(err)
			return err
		}
	}
	if len(s.pending) == 0 {
		return nil
	}
	err := s.emit(s.pending)
	s.pending = s.pending[:0]
	return err
}

func (s *streamer) result() string {
	if s.mw.out.Result == resultRefused {
		return resultRefused
	}
	if s.mw.out.Summary.Changed || s.mw.headerChanged {
		return resultRewritten
	}
	return resultUnchanged
}
