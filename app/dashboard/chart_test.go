package dashboard

import (
	"reflect"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/app/escaperate"
)

func TestRateChart(t *testing.T) {
	pts := []point{
		{Label: "Jan", Rate: escaperate.Ratio{X: 1, N: 4}},
		{Label: "Feb", Rate: escaperate.Ratio{X: 0, N: 3}},
		{Label: "<Mar>", Rate: escaperate.Ratio{}},
		{Label: "Apr", Rate: escaperate.Ratio{X: 2, N: 2}},
	}
	if got, want := runs(pts), [][]int{{0, 1}, {3}}; !reflect.DeepEqual(got, want) {
		t.Errorf("runs = %v, want %v", got, want)
	}
	svg := string(rateChart(`a "title" & more`, pts))
	for _, want := range []string{
		`<polygon class="band"`, `<polyline class="line"`, // the first run: a band and a line
		`<rect class="band"`, // the lone last window: a bar of its interval
		"1 of 4", "2 of 2", ">n/a<", "&lt;Mar&gt;", "a &#34;title&#34; &amp; more",
		"Jan: 1 of 4 = 25.0% (95% interval 4.6–69.9%)", ">100%<",
	} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<Mar>") {
		t.Error("a label was not escaped")
	}
	if got := strings.Count(svg, `<circle class="dot"`); got != 3 {
		t.Errorf("%d dots, want 3 (none for the window without data)", got)
	}
}

func TestNiceTop(t *testing.T) {
	for in, want := range map[float64]float64{0: 0.1, 0.1: 0.1, 0.11: 0.2, 0.24: 0.25, 0.3: 0.5, 0.7: 1, 1: 1} {
		if got := niceTop(in); got != want {
			t.Errorf("niceTop(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestKindBars(t *testing.T) {
	svg := string(kindBars("kinds", []string{"Jan", "Feb"}, []escaperate.Counts{{Overridden: 2, Missed: 1}, {}}))
	if !strings.Contains(svg, `class="overridden"`) || !strings.Contains(svg, `class="missed"`) || strings.Contains(svg, `class="advisory"`) {
		t.Errorf("bars:\n%s", svg)
	}
	if !strings.Contains(svg, "Jan: 2 overridden (approvers)") {
		t.Errorf("no tooltip:\n%s", svg)
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=cmd()": "'=cmd()", "+1": "'+1", "-x": "'-x", "@sum": "'@sum", "config/app.env": "config/app.env", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
