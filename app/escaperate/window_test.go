package escaperate

import "testing"

func TestParseWindow(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  bool
	}{{"", 90, false}, {"30d", 30, false}, {"2w", 14, false}, {"48h", 2, false}, {"0d", 0, true}, {"x", 0, true}, {"1h", 0, true}} {
		got, err := ParseWindow(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseWindow(%q) = %d, %v", tc.in, got, err)
		}
	}
}
