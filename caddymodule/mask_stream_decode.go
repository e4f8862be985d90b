package caddymodule

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// streamDecoder undoes a stream's content coding as its bytes arrive, so
// that a compressed event stream or NDJSON keeps flowing: the decoded
// bytes go to the streamer unit by unit, and the agent gets the view
// uncompressed (encode, after pii_mask, may compress it again).
//
// The decoder reads from the streamDecoder on a goroutine of its own;
// feed hands it an upstream write and returns once the decoder waits for
// more input with none left, that is once everything the bytes so far
// decode to has gone to the streamer (and so can be flushed). The
// handler's goroutine waits meanwhile: the two never use the response
// writer at once.
type streamDecoder struct {
	mu      sync.Mutex
	cond    *sync.Cond
	in      []byte
	closed  bool  // no more input: the decoder reads EOF
	waiting bool  // the decoder waits for input, with none left
	done    bool  // the decoding goroutine has ended
	aborted bool  // the response was given up: nothing more is written
	fed     bool  // some input came
	err     error // why it ended early, or nil
	// br is the buffered reader the coding's reader reads through, whose
	// buffer may hold bytes after the end of the coded stream.
	br *bufio.Reader
}

func newStreamDecoder(coding string, out func([]byte) error) *streamDecoder {
	d := &streamDecoder{}
	d.cond = sync.NewCond(&d.mu)
	go d.run(coding, out)
	return d
}

// Read gives the decoder what the upstream wrote so far, waiting for more.
func (d *streamDecoder) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.in) == 0 {
		if d.closed {
			return 0, io.EOF
		}
		d.waiting = true
		d.cond.Broadcast()
		d.cond.Wait()
	}
	d.waiting = false
	n := copy(p, d.in)
	d.in = d.in[n:]
	return n, nil
}

// feed hands the decoder p and waits until it has passed on all it can.
func (d *streamDecoder) feed(p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		if d.err == nil && len(p) > 0 {
			d.err = errors.New("bytes after the end of the compressed stream")
		}
		return d.err
	}
	d.in = append(d.in, p...)
	d.fed = d.fed || len(p) > 0
	d.waiting = false
	d.cond.Broadcast()
	for !d.done && !(d.waiting && len(d.in) == 0) {
		d.cond.Wait()
	}
	return d.err
}

// close ends the input and waits for the decoder to end.
func (d *streamDecoder) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.fed {
		// An empty body under any coding is empty (as decodeBody has
		// it): the decoder, which wanted a header, is ended.
		d.closed, d.aborted = true, true
		d.cond.Broadcast()
		for !d.done {
			d.cond.Wait()
		}
		return nil
	}
	d.closed = true
	d.cond.Broadcast()
	for !d.done {
		d.cond.Wait()
	}
	return d.err
}

// abort ends the decoder when the response is given up (the upstream
// died): its goroutine does not outlive the request.
func (d *streamDecoder) abort() {
	d.mu.Lock()
	d.closed, d.in, d.aborted = true, nil, true
	d.cond.Broadcast()
	d.mu.Unlock()
}

func (d *streamDecoder) run(coding string, out func([]byte) error) {
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("decoding the stream: %v", r)
			}
		}()
		r, err := d.reader(coding)
		if err != nil {
			return err
		}
		buf := make([]byte, 32<<10)
		for {
			n, rerr := r.Read(buf)
			d.mu.Lock()
			aborted := d.aborted
			d.mu.Unlock()
			if aborted {
				return errors.New("the response was given up")
			}
			if n > 0 {
				if err := out(buf[:n]); err != nil {
					return outError{err}
				}
			}
			if rerr == io.EOF {
				d.mu.Lock()
				left := len(d.in)
				d.mu.Unlock()
				if d.br != nil {
					left += d.br.Buffered()
				}
				if left > 0 {
					return errors.New("bytes after the end of the compressed stream")
				}
				return nil
			}
			if rerr != nil {
				return fmt.Errorf("%s: %w", coding, rerr)
			}
		}
	}()
	d.mu.Lock()
	d.done, d.err = true, err
	d.cond.Broadcast()
	d.mu.Unlock()
}

// outError is an error of the decoded bytes' way to the agent (a unit
// refused, the agent gone), not of the coding.
type outError struct{ error }

func (e outError) Unwrap() error { return e.error }

// reader is the decoder of one coding over d. (Its constructor reads the
// coding's header, so it runs on the decoding goroutine.)
func (d *streamDecoder) reader(coding string) (io.Reader, error) {
	switch coding {
	case "gzip":
		// Through a buffered reader of ours, which the gzip reader uses
		// as it is: what it holds after the trailer is seen at the end.
		d.br = bufio.NewReader(d)
		zr, err := gzip.NewReader(d.br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		zr.Multistream(false) // as browsers, and decodeBody
		return zr, nil
	case "deflate":
		// zlib-wrapped (RFC 9110) or raw, as decodeBody tells them.
		d.br = bufio.NewReader(d)
		head, err := d.br.Peek(2)
		if err == nil && (int(head[0])<<8|int(head[1]))%31 == 0 && head[0]&0x0f == 8 {
			return zlib.NewReader(d.br)
		}
		return flate.NewReader(d.br), nil
	case "br":
		return brotli.NewReader(d), nil
	case "zstd":
		zr, err := zstd.NewReader(d, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("the %s coding cannot be read as a stream", coding)
}
