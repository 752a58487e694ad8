package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/render"
)

// point is one x position of a rate chart.
type point struct {
	Label string
	Rate  escaperate.Ratio
}

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartW, chartH            = 760, 240
	padL, padR, padT, padB    = 48, 40, 14, 40
	plotW, plotH              = chartW - padL - padR, chartH - padT - padB
	barGap                    = 0.25
	stackW, stackH, stackPadB = 760, 180, 36
)

// rateChart draws a rate series: the rate as a line with dots, its 95% Wilson interval
// as a band, "x of n" on each dot's tooltip and under its label; a window without data
// shows "n/a" and breaks the line (nothing is drawn as 0% that was not measured).
func rateChart(title string, pts []point) template.HTML {
	top := 0.1
	for _, p := range pts {
		if p.Rate.Defined() {
			_, hi := p.Rate.Interval()
			top = math.Max(top, hi)
		}
	}
	top = niceTop(top)
	x := func(i int) float64 {
		if len(pts) == 1 {
			return padL + plotW/2
		}
		return padL + float64(i)*plotW/float64(len(pts)-1)
	}
	y := func(v float64) float64 { return padT + plotH*(1-v/top) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%.1f" text-anchor="end">%.0f%%</text>`,
			padL, chartW-padR, y(v), y(v), padL-6, y(v)+4, 100*v)
	}
	// Bands and lines, one segment per run of windows with data.
	for _, run := range runs(pts) {
		var upper, lower, line []string
		for _, i := range run {
			lo, hi := pts[i].Rate.Interval()
			upper = append(upper, fmt.Sprintf("%.1f,%.1f", x(i), y(hi)))
			lower = append([]string{fmt.Sprintf("%.1f,%.1f", x(i), y(lo))}, lower...)
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(i), y(pts[i].Rate.Value())))
		}
		if len(run) == 1 {
			i := run[0]
			lo, hi := pts[i].Rate.Interval()
			fmt.Fprintf(&b, `<rect class="band" x="%.1f" y="%.1f" width="12" height="%.1f"/>`, x(i)-6, y(hi), math.Max(1, y(lo)-y(hi)))
		} else {
			fmt.Fprintf(&b, `<polygon class="band" points="%s %s"/>`, strings.Join(upper, " "), strings.Join(lower, " "))
			fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(line, " "))
		}
	}
	for i, p := range pts {
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-padB+16, html.EscapeString(p.Label))
		if !p.Rate.Defined() {
			fmt.Fprintf(&b, `<text class="na" x="%.1f" y="%d" text-anchor="middle">n/a</text>`, x(i), chartH-padB+30)
			continue
		}
		fmt.Fprintf(&b, `<text class="count" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-padB+30, html.EscapeString(render.XOfN(p.Rate)))
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="4"><title>%s: %s = %s (95%% interval %s)</title></circle>`,
			x(i), y(p.Rate.Value()), html.EscapeString(p.Label), html.EscapeString(render.XOfN(p.Rate)), html.EscapeString(render.Percent(p.Rate)), html.EscapeString(render.Interval(p.Rate)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every text above is escaped; the rest are numbers
}

// runs splits the indexes of windows with data into consecutive runs.
func runs(pts []point) [][]int {
	var out [][]int
	var cur []int
	for i, p := range pts {
		if p.Rate.Defined() {
			cur = append(cur, i)
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// niceTop rounds a chart's top up to 10%, 20%, 25%, 50% or 100%.
func niceTop(v float64) float64 {
	for _, t := range []float64{0.1, 0.2, 0.25, 0.5, 1} {
		if v <= t+1e-9 {
			return t
		}
	}
	return 1
}

// kindBars draws escapes per window stacked by kind (who owns them): overridden
// (approvers), advisory (repository settings: the check is not required), missed (tooling).
func kindBars(title string, labels []string, counts []escaperate.Counts) template.HTML {
	top := 1
	for _, c := range counts {
		top = max(top, c.Escaped())
	}
	n := max(1, len(counts))
	slot := float64(plotW) / float64(n)
	bw := slot * (1 - barGap)
	h := float64(stackH - padT - stackPadB)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		stackW, stackH, html.EscapeString(title), html.EscapeString(title))
	fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="axis" x="%d" y="%d" text-anchor="end">%d</text>`,
		padL, stackW-padR, float64(padT)+h, float64(padT)+h, padL-6, padT+4, top)
	for i, c := range counts {
		x0 := padL + slot*float64(i) + (slot-bw)/2
		base := float64(padT) + h
		for _, k := range []struct {
			class string
			v     int
			name  string
		}{{"overridden", c.Overridden, "overridden (approvers)"}, {"advisory", c.Advisory, "advisory (repository settings)"}, {"missed", c.Missed, "missed (tooling)"}} {
			if k.v == 0 {
				continue
			}
			bh := h * float64(k.v) / float64(top)
			base -= bh
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d %s</title></rect>`,
				k.class, x0, base, bw, bh, html.EscapeString(labels[i]), k.v, k.name)
		}
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text><text class="count" x="%.1f" y="%d" text-anchor="middle">%d</text>`,
			x0+bw/2, stackH-stackPadB+16, html.EscapeString(labels[i]), x0+bw/2, stackH-stackPadB+30, c.Escaped())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
