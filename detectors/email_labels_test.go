// Found by the eleventh review (each failed before its fix).

package detectors

import "testing"

// 9c28223 ends an address at a later label's leading letters when a '-'
// follows them (meant for example.com-13812345678): a hyphenated label
// after the first (cs.uni-bonn.de, mail.my-company.com) cuts the address
// short, which is both a false positive and a false negative.
func TestEmailHyphenatedLabel(t *testing.T) {
	for _, s := range []string{
		"邮箱 zhang@cs.uni-bonn.de 谢谢",
		"mail li.wei@mail.my-company.com today",
		"contact wang@dept.co-op.org",
	} {
		fs := Default.Scan(s, nil)
		ok := false
		for _, f := range fs {
			if f.Type == Email && s[f.End-1] != '-' && (f.End == len(s) || s[f.End] == ' ') {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%q: %v (want the whole address)", s, fs)
		}
	}
}
