package detectors

import "testing"

// The two IBAN tables come from different parts of the registry; a length
// the structure does not add up to would reject every IBAN of a country.
func TestBBANFormatsAgreeWithLengths(t *testing.T) {
	for cc, f := range bbanFormats {
		n, total := 0, 0
		for _, c := range f {
			if c >= '0' && c <= '9' {
				n = n*10 + int(c-'0')
			} else {
				total, n = total+n, 0
			}
		}
		if total+4 != ibanLengths[cc] {
			t.Errorf("%c%c: format %s gives %d characters, length table %d", cc[0], cc[1], f, total+4, ibanLengths[cc])
		}
	}
}

// ibanLength reads a table built from ibanLengths: the two agree on every
// pair of bytes (letters, and the rest, which name no country).
func TestIBANLengthAgreesWithRegistry(t *testing.T) {
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			if got, want := ibanLength(byte(a), byte(b)), ibanLengths[[2]byte{byte(a), byte(b)}]; got != want {
				t.Fatalf("%q%q: %d, the registry says %d", byte(a), byte(b), got, want)
			}
		}
	}
}
