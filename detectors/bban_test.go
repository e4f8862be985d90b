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
