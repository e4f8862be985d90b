package detectors

// Thirty-sixth review, reviewer b (of d7faa27: one tab or line break
// between digit groups is a separator). Each test fails on the code as
// reviewed and passes at d7faa27^.

import "testing"

// Finding 2 (a precision regression of d7faa27). A tab is the separator
// of every table a spreadsheet copies (and a line break that of a column
// of it): a row or a column of three or four amounts is now read as one
// grouped number. Amounts of 3-4 digits whose 11 digits start 13-19 are
// a mobile (1850⇥1200⇥650 is "185 0120 0650"); four 4-digit amounts of
// a card's IIN that pass Luhn (one in ten) a bank card. Under scan all
// the agent sees the table's figures masked (185****0650, 4500 12** ****
// 1500). Before d7faa27 none was found; a page shows the cells apart,
// not as one number.
func TestReview36bTableCellsAreNotOneNumber(t *testing.T) {
	for _, in := range []string{
		"门店\t营业额\t成本\t利润\n朝阳店\t1850\t1200\t650\n",
		"本周退款金额：\n1560\n2300\n480",
		"季度\tQ1\tQ2\tQ3\tQ4\n销售额\t4500\t1200\t3000\t1500\n",
		"各季度销售额：\n4500\n1200\n3000\n1500",
	} {
		if got := show(in, Default.Scan(in, nil)); len(got) != 0 {
			t.Errorf("Scan(%q) = %q, want nothing (cells of a table)", in, got)
		}
	}
}
